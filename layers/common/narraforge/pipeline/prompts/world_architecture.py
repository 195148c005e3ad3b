"""Stage 2 prompt: build the world the story needs, and no more."""

from __future__ import annotations

from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.prompts.common import GENRE_NOTES, brief_facts, json_reply_rule, language_rule, system, user
from narraforge.pipeline.world_context import STAGE_TWO_SECTIONS, WorldView
from narraforge.schemas.briefs import ProductionBrief

SCHEMA_NAME = "world_architecture"


WORLD_RULE = """This story is set in the project's existing world (CONTEXT `world`: the entries this story needs,
with their ids). Reuse it before inventing: its places by their exact names, in the order given, as the first
places; its rules among the rules; its history, factions and terms as they are. Entries marked `locked` are copied
exactly as written. Add only what this story needs and the world does not have; never contradict it."""


def messages(
    brief: ProductionBrief, interpretation: dict[str, Any], place_count: int, instructions: str | None = None,
    world: WorldView | None = None,
) -> list[Message]:
    period = brief.setting_period or "a period that suits the premise"
    task = f"""Design the world of this {brief.genre.value} {brief.production_type.value.replace("_", " ")}.
Genre expectations: {GENRE_NOTES[brief.genre]}. Period: {period}.

Give:
- setting_summary: one paragraph (at most 80 words) — where and when, what ordinary life looks like;
- period: the period in a few words;
- atmosphere: the prevailing mood in one sentence;
- places: exactly {place_count} named places where scenes happen, each with a vivid one-sentence description;
- rules: three or four rules of this world (social, physical or magical) that create conflict;
- sensory_palette: four to six recurring sensory details (sounds, smells, textures, light);
- tensions: two or three pressures in the world that push against the characters.
Everything must serve the premise. {language_rule(brief)}
{json_reply_rule(SCHEMA_NAME)}"""
    if world is not None:
        task = f"{task}\n{WORLD_RULE}"
    facts = {
        **brief_facts(brief),
        "premise": interpretation["premise"],
        "themes": interpretation["themes"],
        "tone": interpretation["tone"],
        "place_count": place_count,
    }
    if world is not None:
        facts["world"] = {"summary": world.summary(),
                          **{section: world.cards(section) for section in STAGE_TWO_SECTIONS}}
    return [system(brief, "a world designer"), user(task, facts, instructions)]
