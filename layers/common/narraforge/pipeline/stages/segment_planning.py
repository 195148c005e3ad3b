"""Stage 5: one plan per segment with its entry and exit state and the synopsis up to it.

Planned per act, a few segments per call, each call seeing only a bounded synopsis: a plan for a
200,000-word saga is never truncated and no planning prompt grows with the length of the work.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.enums import Stage
from narraforge.llm.base import LlmBadOutput
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.layout import PLAN_CHUNK, chunks, segment_targets
from narraforge.pipeline.prompts import segment_planning as prompt
from narraforge.pipeline.stages.calls import ask_json, characters, interpretation, world
from narraforge.pipeline.text import truncate_words

SYNOPSIS_RECENT = 3  # planned summaries of the latest segments kept verbatim in the synopsis


class State(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: str
    present: list[str]
    knowledge: str
    mood: str
    open_threads: list[str]


class PlannedSegment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    beats: list[str] = Field(min_length=1, max_length=6)
    characters: list[str]
    place: str
    exit_state: State


class SegmentPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segments: list[PlannedSegment] = Field(min_length=1, max_length=PLAN_CHUNK)


def _synopsis(acts: list[dict[str, Any]], current_act: int, planned: list[dict[str, Any]]) -> str:
    """Earlier acts in one line each, then the latest planned segments: bounded at any length."""
    earlier = [f"Act {a['number']}: {truncate_words(a['summary'], 40)}" for a in acts if a["number"] < current_act]
    recent = [f"{p['index'] + 1}. {truncate_words(p['summary'], 40)}" for p in planned[-SYNOPSIS_RECENT:]]
    return " ".join(earlier + recent)


def _match_names(names: list[str], cast: list[dict[str, Any]]) -> list[str]:
    """Map the model's names onto the cast (full or first name); unknown names are dropped."""
    by_key = {}
    for c in cast:
        by_key[c["name"].casefold()] = c["name"]
        by_key[c["name"].split()[0].casefold()] = c["name"]
    found: list[str] = []
    for name in names:
        full = by_key.get(name.casefold()) or by_key.get(name.split()[0].casefold() if name.split() else "")
        if full and full not in found:
            found.append(full)
    return found


def _match_place(place: str, places: list[str]) -> str:
    for known in places:
        if known.casefold() == place.casefold() or known.casefold() in place.casefold():
            return known
    return place or places[0]


def _ensure_everyone_appears(segments: list[dict[str, Any]], cast: list[dict[str, Any]]) -> None:
    """Backstop for the plan: a character the model never placed joins the least crowded segment."""
    for c in cast:
        if not any(c["name"] in s["characters"] for s in segments):
            target = min(segments, key=lambda s: (len(s["characters"]), s["index"]))
            target["characters"].append(c["name"])
            target["beats"].append(f"{c['name']} ({c['role']}) enters and changes the balance of the scene.")


def run(ctx: StageContext) -> dict[str, Any]:
    brief = ctx.brief
    meaning = interpretation(ctx)
    setting = world(ctx)
    cast = characters(ctx)
    acts = ctx.output_of(Stage.STRUCTURE_DESIGN)["acts"]
    targets = segment_targets(brief.target_length)
    places = [p["name"] for p in setting["places"]]
    protagonist = cast[0]["name"]
    state: dict[str, Any] = {
        "location": places[0],
        "present": [protagonist],
        "knowledge": truncate_words(meaning["premise"], 30),
        "mood": meaning["tone"],
        "open_threads": [meaning["central_conflict"]],
    }
    planned: list[dict[str, Any]] = []
    calls = 0
    for act in acts:
        indices = list(range(act["first_segment"], act["first_segment"] + act["segment_count"]))
        for chunk in chunks(indices, PLAN_CHUNK):
            seen = {name for p in planned for name in p["characters"]}
            reply = ask_json(
                ctx,
                ModelRole.PLANNING,
                prompt.messages(
                    brief,
                    act={k: act[k] for k in ("number", "title", "summary", "turning_point")},
                    segments=[{"index": i, "target_words": targets[i]} for i in chunk],
                    characters=cast,
                    world=setting,
                    entry_state=state,
                    synopsis_so_far=_synopsis(acts, act["number"], planned),
                    ends_story=chunk[-1] == len(targets) - 1,
                    needs_appearance=[c["name"] for c in cast if c["name"] not in seen],
                    instructions=ctx.instructions,
                ),
                name=prompt.SCHEMA_NAME,
                model=SegmentPlan,
                max_tokens=300 + 420 * len(chunk),
            )
            calls += 1
            if len(reply.segments) != len(chunk):
                raise LlmBadOutput(f"segment_plan: {len(reply.segments)} segments, expected {len(chunk)}")
            for index, seg in zip(chunk, reply.segments, strict=True):
                exit_state = seg.exit_state.model_dump()
                exit_state["present"] = _match_names(exit_state["present"], cast) or [protagonist]
                plan = {
                    "index": index,
                    "act": act["number"],
                    "title": seg.title,
                    "target_words": targets[index],
                    "summary": seg.summary,
                    "beats": seg.beats,
                    "characters": _match_names(seg.characters, cast) or [protagonist],
                    "place": _match_place(seg.place, places),
                    "entry_state": state,
                    "exit_state": exit_state,
                    "synopsis_so_far": _synopsis(acts, act["number"], planned),
                }
                planned.append(plan)
                state = exit_state
    _ensure_everyone_appears(planned, cast)
    return {"mode": meaning["layout"]["mode"], "planning_calls": calls, "segments": planned}
