"""Stage 2: the world — places, rules and a sensory palette the drafts draw on."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.pipeline import world_context
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.prompts import world_architecture as prompt
from narraforge.pipeline.stages import checks
from narraforge.pipeline.stages.calls import ask_planned, interpretation
from narraforge.pipeline.world_context import WorldView, rule_text

MAX_RULES = 8
MIN_PLACES = 2  # a story's places: the world's own, with new ones only to reach this many


class Place(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    description: str


class World(BaseModel):
    model_config = ConfigDict(extra="forbid")

    setting_summary: str = Field(min_length=1)
    period: str
    atmosphere: str
    places: list[Place] = Field(min_length=MIN_PLACES, max_length=12)
    rules: list[str] = Field(min_length=1, max_length=MAX_RULES)
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


def reuse(reply: dict[str, Any], view: WorldView, wanted: int) -> dict[str, Any]:
    """The reply made faithful to the project's world, whatever wrote it: the world's selected places are the
    story's places, under their own names (a locked one with its description as written, another keeps the
    reply's description of it when there is one), new ones only while the world has fewer than MIN_PLACES (so
    the scenes happen where the series already lives); the world's rules lead the rules, locked ones verbatim."""
    planned = {p["name"].casefold(): p for p in reply["places"]}
    places = []
    for entry in view.selected["places"][:wanted]:
        said = planned.get(entry["name"].casefold(), {}).get("description")
        description = (entry.get("description") or "") if entry.get("locked") or not said else said
        places.append({"name": entry["name"], "description": description})
    known = {p["name"].casefold() for p in places}
    room = max(0, MIN_PLACES - len(places))
    places += [p for p in reply["places"] if p["name"].casefold() not in known][:room]
    locked = [rule_text(r) for r in view.selected["rules"] if r.get("locked")]
    rules = locked + [r for r in reply["rules"] if r not in locked]
    return {**reply, "places": places, "rules": rules[: max(len(locked), MAX_RULES)]}


def run(ctx: StageContext) -> dict[str, Any]:
    meaning = interpretation(ctx)
    wanted = place_count(meaning["layout"]["segment_count"])
    view = world_context.for_world_stage(ctx)
    planned = ask_planned(
        ctx,
        ModelRole.PLANNING,
        prompt.messages(ctx.brief, meaning, wanted, ctx.instructions, view),
        name=prompt.SCHEMA_NAME,
        model=World,
        max_tokens=1400,
        check=lambda reply: problems(reply, wanted),
    )
    world = planned.reply.model_dump()
    if view is not None:
        world = reuse(world, view, wanted)
    return {**world, "fallbacks": planned.fallbacks, "world_version": view.version if view else None,
            "world_entries_used": view.ids(world_context.STAGE_TWO_SECTIONS) if view else [],
            "prequel": view.prequel if view else None}
