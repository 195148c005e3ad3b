"""Stage 4 prompt: the act structure; segment counts per act are fixed by the layout, not the model."""

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

SCHEMA_NAME = "structure_design"

SEQUEL_RULE = """This story is a sequel (CONTEXT `previously`: the earlier story's events, oldest first, and where
its characters were at its end). Act 1 begins after its last event, with each character where and as it left
them; the dead stay dead (they may be remembered, never act); do not retell it."""


def messages(
    brief: ProductionBrief,
    interpretation: dict[str, Any],
    world: dict[str, Any],
    characters: list[dict[str, Any]],
    acts: list[dict[str, int]],
    instructions: str | None = None,
) -> list[Message]:
    task = f"""Design the structure of the whole work in EXACTLY {len(acts)} acts (sizes below are fixed).
For each act give: number, title, summary (what happens, at most 60 words), turning_point (the event
that ends the act and turns the story). Also give central_question (the dramatic question the ending
answers) and ending (how it resolves, in one or two sentences).
Every character in the cast must have a part to play; escalate from act to act; the last act resolves
the central conflict: {interpretation["central_conflict"]}.
{language_rule(brief)}
{json_reply_rule(SCHEMA_NAME)}"""
    prequel = world.get("prequel")
    if prequel:
        task = f"{task}\n{SEQUEL_RULE}"
    facts = {
        **brief_facts(brief),
        "premise": interpretation["premise"],
        "themes": interpretation["themes"],
        "characters": compact_characters(characters),
        "places": compact_places(world),
        "acts": acts,
    }
    if prequel:
        facts["previously"] = {"events": prequel["events"], "cast_at_the_end": [
            {key: c[key] for key in ("name", "status", "location") if c.get(key)} for c in prequel["cast"]]}
    return [system(brief, "a story architect"), user(task, facts, instructions)]
