"""Stage 2: the world — places, rules and a sensory palette the drafts draw on."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.prompts import world_architecture as prompt
from narraforge.pipeline.stages import checks
from narraforge.pipeline.stages.calls import ask_planned, interpretation


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


def problems(reply: World, wanted: int) -> list[checks.Problem]:
    """`wanted` places with distinct, short names; bounded descriptions and phrases."""
    found = checks.text(reply.setting_summary, ("setting_summary",), max_chars=checks.PARAGRAPH_CHARS, min_words=3)
    found += checks.text(reply.period, ("period",), max_chars=checks.PHRASE_CHARS)
    found += checks.text(reply.atmosphere, ("atmosphere",), max_chars=checks.SENTENCE_CHARS)
    found += checks.count(len(reply.places), wanted, ("places",), "places")
    for i, place in enumerate(reply.places[:wanted]):
        found += checks.name(place.name, ("places", i), max_words=6)
        found += checks.text(place.description, ("places", i, "description"), max_chars=checks.SENTENCE_CHARS)
    found += checks.distinct([p.name for p in reply.places[:wanted]], ("places",), "place name")
    found += checks.items(reply.rules, ("rules",), max_chars=checks.SENTENCE_CHARS, min_words=2)
    found += checks.items(reply.sensory_palette, ("sensory_palette",), max_chars=checks.PHRASE_CHARS)
    found += checks.items(reply.tensions, ("tensions",), max_chars=checks.SENTENCE_CHARS)
    return found


def run(ctx: StageContext) -> dict[str, Any]:
    meaning = interpretation(ctx)
    wanted = place_count(meaning["layout"]["segment_count"])
    planned = ask_planned(
        ctx,
        ModelRole.PLANNING,
        prompt.messages(ctx.brief, meaning, wanted, ctx.instructions),
        name=prompt.SCHEMA_NAME,
        model=World,
        max_tokens=1400,
        check=lambda reply: problems(reply, wanted),
    )
    return {**planned.reply.model_dump(), "fallbacks": planned.fallbacks}
