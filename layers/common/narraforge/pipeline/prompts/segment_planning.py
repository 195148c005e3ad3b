"""Stage 5 prompt: plan a few segments of one act; called once per chunk so no plan is ever truncated."""

from __future__ import annotations

from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.prompts.common import (
    brief_facts,
    compact_characters,
    compact_places,
    json_reply_rule,
    language_rule,
    system,
    user,
)
from narraforge.schemas.briefs import ProductionBrief

SCHEMA_NAME = "segment_plan"


def messages(
    brief: ProductionBrief,
    *,
    act: dict[str, Any],
    segments: list[dict[str, int]],
    characters: list[dict[str, Any]],
    world: dict[str, Any],
    entry_state: dict[str, Any],
    synopsis_so_far: str,
    ends_story: bool,
    needs_appearance: list[str],
    instructions: str | None = None,
) -> list[Message]:
    ending = (
        "These segments END THE STORY: resolve the central conflict and close the open threads."
        if ends_story
        else f"Build toward the act's turning point: {act['turning_point']}"
    )
    unseen = (
        f" These characters have not appeared yet and must appear here: {', '.join(needs_appearance)}."
        if needs_appearance
        else ""
    )
    first, last = segments[0]["index"] + 1, segments[-1]["index"] + 1
    task = f"""Plan segments {first}–{last} of the work, all inside act {act["number"]}
("{act["title"]}": {act["summary"]}). Return EXACTLY {len(segments)} segment plans, in order.

For each segment give: title; summary (what happens, at most 50 words); beats (two to four concrete
story beats, each one sentence naming who does what); characters (names from the cast who are on stage);
place (one of the world's places); exit_state — the state when the segment ends: location, present
(names), knowledge (what the viewpoint character now knows), mood, open_threads (unresolved questions).
The first segment starts from the entry state below; each next one starts where the previous ends.
{ending}{unseen}
{language_rule(brief)}
{json_reply_rule(SCHEMA_NAME)}"""
    facts = {
        **brief_facts(brief),
        "act": act,
        "segments": segments,
        "characters": compact_characters(characters),
        "places": compact_places(world),
        "entry_state": entry_state,
        "synopsis_so_far": synopsis_so_far,
        "ends_story": ends_story,
        "needs_appearance": needs_appearance,
    }
    return [system(brief, "a story planner"), user(task, facts, instructions)]
