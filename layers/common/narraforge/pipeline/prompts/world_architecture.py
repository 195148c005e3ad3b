"""Stage 2 prompt: build the world the story needs, and no more."""

from __future__ import annotations

from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.prompts.common import GENRE_NOTES, brief_facts, json_reply_rule, language_rule, system, user
from narraforge.schemas.briefs import ProductionBrief

SCHEMA_NAME = "world_architecture"


def messages(
    brief: ProductionBrief, interpretation: dict[str, Any], place_count: int, instructions: str | None = None
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
    facts = {
        **brief_facts(brief),
        "premise": interpretation["premise"],
        "themes": interpretation["themes"],
        "tone": interpretation["tone"],
        "place_count": place_count,
    }
    return [system(brief, "a world designer"), user(task, facts, instructions)]
