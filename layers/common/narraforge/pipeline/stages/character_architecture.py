"""Stage 3: exactly `character_count` characters, each with a role, want, fear and voice."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.enums import Genre
from narraforge.pipeline import world_context
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.prompts import character_architecture as prompt
from narraforge.pipeline.stages import checks
from narraforge.pipeline.stages.calls import ask_planned, interpretation, world
from narraforge.pipeline.world_context import WorldView

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


def _first_name(name: str) -> str:
    parts = name.split()
    return parts[0].casefold() if parts else ""


def problems(reply: Cast, count: int, roles: list[str]) -> list[checks.Problem]:
    """Exactly `count` characters with distinct names (first names too) that are names, not roles; wants,
    fears and arcs in words (no dates); bounded descriptions."""
    cast = reply.characters
    found = checks.count(len(cast), count, ("characters",), "characters")
    role_words = {r.casefold() for r in roles} | {"protagonist", "antagonist", "character", "hero"}
    for i, c in enumerate(cast[:count]):
        at = ("characters", i)
        named = checks.name(c.name, at, max_words=4)
        if not named and (c.name.strip().casefold() in role_words or _first_name(c.name) in role_words):
            named = [checks.Problem(at, f"name {c.name!r} is a role, not a name")]
        if not named and not checks.person_name(c.name):
            named = [checks.Problem(at, f"{c.name!r} reads as a title or phrase, not a person's name")]
        found += named
        if re.split(r"[/\s,]+", c.pronouns.strip().casefold())[0] not in checks.PRONOUNS:
            found.append(checks.Problem((*at, "pronouns"), f"{c.pronouns[:30]!r} is not she/her, he/him or they/them"))
        found += checks.text(c.role, (*at, "role"), max_chars=checks.PHRASE_CHARS)
        found += checks.text(c.description, (*at, "description"), max_chars=checks.SENTENCE_CHARS, min_words=3)
        found += checks.sentence(c.want, (*at, "want"))
        found += checks.sentence(c.fear, (*at, "fear"), min_words=1)  # "zapomnienie" is a whole fear
        found += checks.sentence(c.arc, (*at, "arc"), min_words=1)
        found += checks.text(c.secret, (*at, "secret"), max_chars=checks.SENTENCE_CHARS, min_words=2)
        found += checks.text(c.voice, (*at, "voice"), max_chars=checks.SENTENCE_CHARS)
    names = [c.name for c in cast[:count]]
    by_first = checks.distinct(names, ("characters",), "first name", key_of=_first_name)
    found += by_first or checks.distinct(names, ("characters",), "name")
    return found


def world_cast(view: WorldView, count: int) -> list[dict[str, Any]]:
    """The world's characters this story casts, in the selection's order (the featured ones first, as the
    brief lists them), among those who may act: never the dead."""
    return view.castable()[:count]


def world_problems(reply: Cast, cast: list[dict[str, Any]], view: WorldView) -> list[checks.Problem]:
    """Slot k holds the world's k-th cast character (by name); no one is a character the world knows as dead."""
    found = []
    names = [c.name.strip().casefold() for c in reply.characters]
    for k, entry in enumerate(cast):
        if k >= len(names) or names[k] != entry["name"].casefold():
            found.append(checks.Problem(("characters", k), f"must be {entry['name']!r}, of this story's world"))
    dead = {c["name"].casefold(): c["name"] for c in view.all_characters() if c.get("status") == "dead"}
    for i, name in enumerate(names):
        if name in dead:
            found.append(checks.Problem(("characters", i), f"{dead[name]!r} is dead in this world"))
    return found


def reuse(characters: list[dict[str, Any]], cast: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each world character under its own name; a locked one with its description as written, another with
    the world's description when it has one."""
    out = []
    for k, character in enumerate(characters):
        if k < len(cast):
            entry = cast[k]
            described = entry.get("description")
            character = {**character, "name": entry["name"],
                         "description": described if described else character["description"]}
        out.append(character)
    return out


def run(ctx: StageContext) -> dict[str, Any]:
    brief = ctx.brief
    roles = roles_for(brief.character_count, brief.genre)
    view = world_context.for_later_stage(ctx)
    cast = world_cast(view, brief.character_count) if view else []

    def check(reply: Cast) -> list[checks.Problem]:
        found = problems(reply, brief.character_count, roles)
        return found + world_problems(reply, cast, view) if view else found

    planned = ask_planned(
        ctx,
        ModelRole.PLANNING,
        prompt.messages(brief, interpretation(ctx), world(ctx), roles, ctx.instructions, view, cast),
        name=prompt.SCHEMA_NAME,
        model=Cast,
        max_tokens=300 + 260 * brief.character_count,
        check=check,
    )
    characters = [c.model_dump() for c in planned.reply.characters]
    if view is None:
        return {"characters": characters, "fallbacks": planned.fallbacks, "world_version": None,
                "world_entries_used": []}
    return {"characters": reuse(characters, cast), "fallbacks": planned.fallbacks, "world_version": view.version,
            "world_entries_used": view.ids(("characters",)),
            "world_cast": {entry["name"]: entry["id"] for entry in cast},
            "world_dead": [c["name"] for c in view.dead()]}
