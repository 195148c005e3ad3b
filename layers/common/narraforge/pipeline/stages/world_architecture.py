"""Stage 2: the world — places, rules and a sensory palette the drafts draw on."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.llm.base import LlmBadOutput
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.prompts import world_architecture as prompt
from narraforge.pipeline.stages.calls import ask_json, interpretation


class Place(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    description: str


class World(BaseModel):
    model_config = ConfigDict(extra="forbid")

    setting_summary: str = Field(min_length=1)
    period: str
    atmosphere: str
    places: list[Place] = Field(min_length=2, max_length=12)
    rules: list[str] = Field(min_length=1, max_length=8)
    sensory_palette: list[str] = Field(min_length=1, max_length=10)
    tensions: list[str] = Field(min_length=1, max_length=6)


def place_count(segment_count: int) -> int:
    """Four places for a short piece, up to eight for a long one."""
    return min(8, 4 + segment_count // 15)


def run(ctx: StageContext) -> dict[str, Any]:
    meaning = interpretation(ctx)
    wanted = place_count(meaning["layout"]["segment_count"])
    reply = ask_json(
        ctx,
        ModelRole.PLANNING,
        prompt.messages(ctx.brief, meaning, wanted, ctx.instructions),
        name=prompt.SCHEMA_NAME,
        model=World,
        max_tokens=1400,
    )
    names = [p.name.casefold() for p in reply.places]
    if len(set(names)) != len(names):
        raise LlmBadOutput("world_architecture: place names repeat")
    return reply.model_dump()
