"""Stage 5: one plan per segment with its entry and exit state and the synopsis up to it.

Planned per act, a few segments per call, each call seeing only a bounded synopsis: a plan for a
200,000-word saga is never truncated and no planning prompt grows with the length of the work.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from functools import partial
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
    """Long works plan their acts concurrently (each act from its own opening state, chained within the
    act); short ones plan every segment in one chain. The stylization pass smooths the act seams."""
    brief = ctx.brief
    meaning = interpretation(ctx)
    setting = world(ctx)
    cast = characters(ctx)
    acts = ctx.output_of(Stage.STRUCTURE_DESIGN)["acts"]
    targets = segment_targets(brief.target_length)
    places = [p["name"] for p in setting["places"]]
    opening: dict[str, Any] = {
        "location": places[0],
        "present": [cast[0]["name"]],
        "knowledge": truncate_words(meaning["premise"], 30),
        "mood": meaning["tone"],
        "open_threads": [meaning["central_conflict"]],
    }
    plan_act = partial(_plan_act, ctx, acts=acts, targets=targets, cast=cast, setting=setting, places=places)
    if meaning["layout"]["mode"] == "parallel" and len(acts) > 1:
        states = [opening] + [_act_opening(act, previous, opening, places)
                              for previous, act in itertools.pairwise(acts)]
        with ThreadPoolExecutor(max_workers=min(len(acts), MAX_PARALLEL_ACTS)) as pool:
            results = list(pool.map(plan_act, acts, states, [[] for _ in acts]))
    else:
        results, state, so_far = [], opening, []
        for act in acts:
            planned_act, calls_act = plan_act(act, state, so_far)
            results.append((planned_act, calls_act))
            state, so_far = planned_act[-1]["exit_state"], so_far + planned_act
    planned = [plan for act_plans, _ in results for plan in act_plans]
    _ensure_everyone_appears(planned, cast)
    calls = sum(calls_act for _, calls_act in results)
    return {"mode": meaning["layout"]["mode"], "planning_calls": calls, "segments": planned}


MAX_PARALLEL_ACTS = 8


def _act_opening(act: dict[str, Any], previous: dict[str, Any], opening: dict[str, Any],
                 places: list[str]) -> dict[str, Any]:
    """Where an act starts when it is planned alongside the one before it: after that act's turning point."""
    return {
        "location": places[(act["number"] - 1) % len(places)],
        "present": opening["present"],
        "knowledge": truncate_words(previous["summary"], 30),
        "mood": opening["mood"],
        "open_threads": [*opening["open_threads"], truncate_words(previous["turning_point"], 20)],
    }


def _plan_act(ctx: StageContext, act: dict[str, Any], state: dict[str, Any], prior: list[dict[str, Any]], *,
              acts: list[dict[str, Any]], targets: list[int], cast: list[dict[str, Any]], setting: dict[str, Any],
              places: list[str]) -> tuple[list[dict[str, Any]], int]:
    """One act, a few segments per call, each chunk starting where the previous one left off. `prior` holds
    the plans of earlier acts when they are known (sequential planning)."""
    brief = ctx.brief
    protagonist = cast[0]["name"]
    planned: list[dict[str, Any]] = list(prior)
    calls = 0
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
            planned.append({
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
            })
            state = exit_state
    return planned[len(prior):], calls
