"""Stage 3: exactly `character_count` characters, each with a role, want, fear and voice."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.enums import Genre
from narraforge.llm.base import LlmBadOutput
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.prompts import character_architecture as prompt
from narraforge.pipeline.stages.calls import ask_json, interpretation, world

ROLES = ("protagonist", "antagonist", "ally", "mentor", "rival", "confidant", "wildcard", "witness")


class Character(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    role: str
    pronouns: str
    age: int = Field(ge=0, le=10_000)
    description: str
    want: str
    fear: str
    secret: str
    arc: str
    voice: str


class Cast(BaseModel):
    model_config = ConfigDict(extra="forbid")

    characters: list[Character] = Field(min_length=1, max_length=20)


def roles_for(count: int, genre: Genre) -> list[str]:
    """Dramatic roles in order of importance; a romance's second lead is the love interest."""
    roles = list(ROLES)
    if genre is Genre.ROMANCE:
        roles[1:2] = ["love interest", "antagonist"]
    roles += [f"supporting {i}" for i in range(1, count)]
    return roles[:count]


def run(ctx: StageContext) -> dict[str, Any]:
    brief = ctx.brief
    roles = roles_for(brief.character_count, brief.genre)
    reply = ask_json(
        ctx,
        ModelRole.PLANNING,
        prompt.messages(brief, interpretation(ctx), world(ctx), roles, ctx.instructions),
        name=prompt.SCHEMA_NAME,
        model=Cast,
        max_tokens=300 + 260 * brief.character_count,
    )
    cast = reply.characters
    if len(cast) != brief.character_count:
        raise LlmBadOutput(
            f"character_architecture: {len(cast)} characters, the brief asks for {brief.character_count}"
        )
    firsts = [c.name.split()[0].casefold() for c in cast]
    if len(set(firsts)) != len(firsts):
        raise LlmBadOutput("character_architecture: first names repeat")
    return {"characters": [c.model_dump() for c in cast]}
