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
    facts = {
        **brief_facts(brief),
        "premise": interpretation["premise"],
        "themes": interpretation["themes"],
        "characters": compact_characters(characters),
        "places": compact_places(world),
        "acts": acts,
    }
    return [system(brief, "a story architect"), user(task, facts, instructions)]
