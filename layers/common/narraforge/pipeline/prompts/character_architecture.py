"""Stage 3 prompt: exactly the cast the brief asks for, each with a want, a fear and a voice."""

from __future__ import annotations

from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.prompts.common import brief_facts, compact_places, json_reply_rule, language_rule, system, user
from narraforge.pipeline.world_context import WorldView
from narraforge.schemas.briefs import ProductionBrief

SCHEMA_NAME = "character_architecture"
WORLD_RULE = """This story is set in the project's existing world. The first characters are the world's own
(CONTEXT `world_cast`), in that order and under those exact names, keeping what the world says of them (their
state, place, bonds and what they know); invent only the rest, with first names unlike any of the world's.
`world_others` are the world's other characters this story may mention: never cast one whose status is dead (the
dead may only be remembered)."""


def messages(
    brief: ProductionBrief,
    interpretation: dict[str, Any],
    world: dict[str, Any],
    roles: list[str],
    instructions: str | None = None,
    world_view: WorldView | None = None,
    cast: list[dict[str, Any]] | None = None,
) -> list[Message]:
    """`cast`: the world's characters the story reuses, in their slots (`stages/character_architecture.world_cast`)."""
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
    if world_view is not None:
        task = f"{task}\n{WORLD_RULE}"
    facts = {
        **brief_facts(brief),
        "premise": interpretation["premise"],
        "central_conflict": interpretation["central_conflict"],
        "setting": world["setting_summary"],
        "places": compact_places(world),
        "roles": roles,
    }
    if world_view is not None:
        reused = {entry["id"] for entry in cast or []}
        facts["world_cast"] = [world_view.card_of("characters", entry) for entry in cast or []]
        facts["world_others"] = [{key: card[key] for key in ("name", "status", "location") if key in card}
                                 for card in world_view.cards("characters") if card["id"] not in reused]
    return [system(brief, "a character designer"), user(task, facts, instructions)]
