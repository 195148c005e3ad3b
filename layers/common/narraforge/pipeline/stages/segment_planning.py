"""Stage 5: one plan per segment with its entry and exit state and the synopsis up to it.

Planned per act, a few segments per call, each call seeing only a bounded synopsis: a plan for a
200,000-word saga is never truncated and no planning prompt grows with the length of the work.
"""

from __future__ import annotations

import itertools
import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.enums import Stage
from narraforge.errors import ValidationFailed
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.layout import PLAN_CHUNK, chunks, segment_targets
from narraforge.pipeline.prompts import segment_planning as prompt
from narraforge.pipeline.stages import checks
from narraforge.pipeline.stages.calls import ask_planned, characters, interpretation, world
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


def problems(reply: SegmentPlan, wanted: int, cast: list[dict[str, Any]], places: list[str]) -> list[checks.Problem]:
    """`wanted` plans, each on stage with someone from the cast, in one of the world's places, with bounded
    beats and a bounded exit state."""
    found = checks.count(len(reply.segments), wanted, ("segments",), "segment plans")
    for i, seg in enumerate(reply.segments[:wanted]):
        at = ("segments", i)
        found += checks.text(seg.title, (*at, "title"), max_chars=checks.TITLE_CHARS)
        found += checks.text(seg.summary, (*at, "summary"), max_chars=checks.PARAGRAPH_CHARS, min_words=4)
        found += checks.items(seg.beats, (*at, "beats"), max_chars=checks.SENTENCE_CHARS, min_words=3)
        if not _match_names(seg.characters, cast):
            found.append(checks.Problem((*at, "characters"), f"names no one from the cast ({seg.characters[:3]})"))
        if not _known_place(seg.place, places):
            found.append(checks.Problem((*at, "place"), f"{seg.place[:40]!r} is not one of the world's places"))
        state = seg.exit_state
        found += checks.text(state.location, (*at, "exit_state", "location"), max_chars=checks.PHRASE_CHARS)
        found += checks.text(state.knowledge, (*at, "exit_state", "knowledge"), max_chars=checks.SENTENCE_CHARS)
        found += checks.text(state.mood, (*at, "exit_state", "mood"), max_chars=checks.PHRASE_CHARS)
        found += [checks.Problem((*at, "exit_state", "open_threads"), p.reason) for p in
                  checks.items(state.open_threads, (), max_chars=checks.SENTENCE_CHARS)][:1]
    return found


def _known_place(place: str, places: list[str]) -> bool:
    key = place.strip().casefold()
    return bool(key) and any(k.casefold() == key or k.casefold() in key for k in places)


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
            planned_act, calls_act, fallbacks_act = plan_act(act, state, so_far)
            results.append((planned_act, calls_act, fallbacks_act))
            state, so_far = planned_act[-1]["exit_state"], so_far + planned_act
    planned = [plan for act_plans, _, _ in results for plan in act_plans]
    _ensure_everyone_appears(planned, cast)
    if sum(p["target_words"] for p in planned) != brief.target_length:  # the layout's invariant, whatever the model
        raise ValidationFailed("segment_planning: segment targets do not add up to the target length")
    calls = sum(calls_act for _, calls_act, _ in results)
    fallbacks = [f for _, _, act_fallbacks in results for f in act_fallbacks]
    return {"mode": meaning["layout"]["mode"], "planning_calls": calls, "segments": planned, "fallbacks": fallbacks}


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
              places: list[str]) -> tuple[list[dict[str, Any]], int, list[dict[str, Any]]]:
    """One act, a few segments per call, each chunk starting where the previous one left off. `prior` holds
    the plans of earlier acts when they are known (sequential planning)."""
    brief = ctx.brief
    protagonist = cast[0]["name"]
    planned: list[dict[str, Any]] = list(prior)
    calls = 0
    fallbacks: list[dict[str, Any]] = []
    indices = list(range(act["first_segment"], act["first_segment"] + act["segment_count"]))
    for chunk in chunks(indices, PLAN_CHUNK):
        seen = {name for p in planned for name in p["characters"]}
        asked = ask_planned(
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
            check=lambda reply, wanted=len(chunk): problems(reply, wanted, cast, places),
        )
        calls += 1
        fallbacks += [{**f, "field": _absolute(f["field"], chunk)} for f in asked.fallbacks]
        for index, seg in zip(chunk, asked.reply.segments, strict=True):
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
    return planned[len(prior):], calls, fallbacks


def _absolute(field: str, chunk: list[int]) -> str:
    """'segments[1].place' of a chunk's reply → the work's segment index ('segments[7].place'); the whole
    reply → the chunk's range."""
    if field == "reply":
        return f"segments[{chunk[0]}..{chunk[-1]}]"
    return re.sub(r"^segments\[(\d+)\]", lambda m: f"segments[{chunk[0] + int(m.group(1))}]", field)
