"""Stage 3 prompt: exactly the cast the brief asks for, each with a want, a fear and a voice."""

from __future__ import annotations

from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.prompts.common import brief_facts, compact_places, json_reply_rule, language_rule, system, user
from narraforge.schemas.briefs import ProductionBrief

SCHEMA_NAME = "character_architecture"


def messages(
    brief: ProductionBrief,
    interpretation: dict[str, Any],
    world: dict[str, Any],
    roles: list[str],
    instructions: str | None = None,
) -> list[Message]:
    n = brief.character_count
    task = f"""Create the cast: EXACTLY {n} named character{"s" if n != 1 else ""} — not one more, not one fewer.
Use these roles, in this order: {", ".join(roles)}. The first is the protagonist and viewpoint character.
Names must be distinct (distinct first names too) and fit the world, period and language.

For each character give: name (first and last name, or a single name if the world uses them), role
(from the list), pronouns (she/her, he/him or they/them), age, description (appearance and manner in
one sentence), want (what they pursue), fear (what they avoid), secret (something they hide), arc (how
they change by the end), voice (how they speak, with one typical turn of phrase).
Make wants collide: every character should want something that complicates another's goal.
{language_rule(brief)}
{json_reply_rule(SCHEMA_NAME)}"""
    facts = {
        **brief_facts(brief),
        "premise": interpretation["premise"],
        "central_conflict": interpretation["central_conflict"],
        "setting": world["setting_summary"],
        "places": compact_places(world),
        "roles": roles,
    }
    return [system(brief, "a character designer"), user(task, facts, instructions)]
