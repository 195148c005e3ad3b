"""Pieces every prompt shares: the brief's language, genre, format and POV rules, the compact story bible."""

from __future__ import annotations

import json
from typing import Any

from narraforge.enums import Genre, ProductionType
from narraforge.llm.base import Message
from narraforge.pipeline.layout import is_script
from narraforge.pipeline.text import truncate_words
from narraforge.schemas.briefs import LANGUAGES, ProductionBrief

GENRE_NOTES: dict[Genre, str] = {
    Genre.FANTASY: (
        "a secondary world with a coherent magic system whose costs matter; wonder grounded in concrete detail"
    ),
    Genre.SCI_FI: "one or two plausible technological or scientific ideas followed to their human consequences",
    Genre.MYSTERY: "fair-play clues planted early, a puzzle the reader can solve, a satisfying reveal",
    Genre.THRILLER: "rising stakes, a ticking clock, short scenes that end on pressure",
    Genre.ROMANCE: "two leads whose growing bond is the spine of the plot, obstacles from character, an earned ending",
    Genre.HORROR: "dread built through restraint, the uncanny in the ordinary, a cost to survival",
    Genre.HISTORICAL: "period-accurate detail, speech and social norms, history felt through private lives",
    Genre.CONTEMPORARY: (
        "present-day life rendered precisely, everyday stakes that feel large to the people inside them"
    ),
    Genre.LITERARY: "interiority, subtext, precise images; change in the characters matters more than plot mechanics",
    Genre.ADVENTURE: "a journey with vivid locations, physical obstacles and resourceful heroes",
    Genre.CRIME: "the mechanics and morality of a crime, investigators and offenders with their own logic",
    Genre.DRAMA: "conflict between people who want incompatible things, scenes that turn on decisions",
    Genre.COMEDY: "comic escalation, sharp timing, characters whose flaws drive the jokes, warmth underneath",
    Genre.DYSTOPIAN: "a society whose rules oppress in specific, visible ways and a character who pushes against them",
    Genre.MAGICAL_REALISM: "one marvel treated as ordinary by everyone, set in an otherwise realistic place",
}

FORMAT_NOTES: dict[ProductionType, str] = {
    ProductionType.SHORT_STORY: (
        "a short story in prose: paragraphs, dialogue in quotation marks, scene breaks as a line `* * *`"
    ),
    ProductionType.NOVELLA: "a novella in prose, in chapters: paragraphs, dialogue, scene breaks as `* * *`",
    ProductionType.NOVEL: "a novel in prose, in chapters: paragraphs, dialogue, scene breaks as `* * *`",
    ProductionType.EPIC_SAGA: (
        "an epic saga in prose, in chapters across several parts: paragraphs, dialogue, scene breaks"
    ),
    ProductionType.SCREENPLAY: (
        "a screenplay: scene headings (INT./EXT. PLACE - DAY/NIGHT), present-tense action lines, the speaking "
        "character's name in capitals on its own line followed by the dialogue, parentheticals sparingly"
    ),
    ProductionType.STAGE_PLAY: (
        "a stage play: SCENE headings, stage directions in parentheses, each line of dialogue as `NAME: line` "
        "with the name in capitals"
    ),
    ProductionType.PODCAST_SCRIPT: (
        "an audio drama / podcast script: [SOUND: ...] and [MUSIC: ...] cues, a NARRATOR where needed, "
        "each spoken line as `NAME: line` with the name in capitals; everything must work for the ear alone"
    ),
}

POV_NOTES = {
    "first": "first person, narrated by the protagonist (I)",
    "second": "second person, the protagonist addressed as you",
    "third_limited": "third person limited, close to the protagonist's perception",
    "third_omniscient": "third person omniscient, free to enter any character's mind",
}

POLISH_RULES = (
    "Write every word of the output in Polish (język polski), with correct Polish grammar, inflection and "
    "diacritics; write dialogue with em dashes (—) at the start of the line, as Polish prose does. "
    "Keep JSON keys in English; the values are Polish."
)


def language_name(brief: ProductionBrief) -> str:
    return LANGUAGES[brief.language]


def language_rule(brief: ProductionBrief) -> str:
    return POLISH_RULES if brief.language == "pl" else "Write in English."


def format_kind(brief: ProductionBrief) -> str:
    return "script" if is_script(brief.production_type) else "prose"


def brief_facts(brief: ProductionBrief) -> dict[str, Any]:
    """The brief as the facts block repeats it (the same keys for every stage)."""
    return {
        "production_type": brief.production_type.value,
        "format": format_kind(brief),
        "genre": brief.genre.value,
        "language": brief.language,
        "subject": brief.subject,
        "style_instructions": brief.style_instructions,
        "setting_period": brief.setting_period,
        "pov": brief.pov,
        "target_length": brief.target_length,
        "character_count": brief.character_count,
        "title": brief.title,
    }


def brief_summary(brief: ProductionBrief) -> str:
    lines = [
        f"- Production type: {brief.production_type.value} — {FORMAT_NOTES[brief.production_type]}",
        f"- Genre: {brief.genre.value} — {GENRE_NOTES[brief.genre]}",
        f"- Subject: {brief.subject}",
        f"- Target length: {brief.target_length} words",
        f"- Exactly {brief.character_count} named characters",
        f"- Point of view: {POV_NOTES[brief.pov]}",
        f"- Language: {language_name(brief)}",
    ]
    if brief.setting_period:
        lines.append(f"- Setting / period: {brief.setting_period}")
    if brief.style_instructions:
        lines.append(f"- Style instructions from the author: {brief.style_instructions}")
    if brief.title:
        lines.append(f"- Title chosen by the author: {brief.title}")
    return "\n".join(lines)


def system(brief: ProductionBrief, role: str) -> Message:
    return Message(
        "system",
        f"You are {role} for NarraForge, a writing studio. {language_rule(brief)} "
        f"The work is {FORMAT_NOTES[brief.production_type]}; genre: {brief.genre.value}.",
    )


def context_block(facts: dict[str, Any]) -> str:
    return "CONTEXT (the facts to build on):\n```json\n" + json.dumps(facts, ensure_ascii=False, indent=1) + "\n```"


def json_reply_rule(schema_name: str) -> str:
    return f"Reply with one JSON object matching the `{schema_name}` schema, and nothing else."


def character_card(character: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """A character as prompts carry them: the full card only for characters on stage in this call."""
    card = {"name": character["name"], "role": character["role"], "pronouns": character.get("pronouns", "they/them")}
    if full:
        for key in ("description", "want", "fear", "voice"):
            if character.get(key):
                card[key] = truncate_words(str(character[key]), 18)
    return card


def bible(world: dict[str, Any], characters: list[dict[str, Any]], focus: list[str] | None = None) -> dict[str, Any]:
    """A compressed world and cast bible, bounded whatever the length of the work."""
    return {
        "setting": truncate_words(world.get("setting_summary", ""), 50),
        "period": world.get("period", ""),
        "atmosphere": truncate_words(world.get("atmosphere", ""), 20),
        "rules": [truncate_words(r, 16) for r in world.get("rules", [])[:4]],
        "sensory_palette": [truncate_words(s, 8) for s in world.get("sensory_palette", [])[:6]],
        "places": [
            {"name": p["name"], "description": truncate_words(p.get("description", ""), 14)}
            for p in world.get("places", [])[:8]
        ],
        "cast": [character_card(c, full=focus is None or c["name"] in focus) for c in characters],
    }


def compact_characters(characters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [character_card(c, full=False) for c in characters]


def compact_places(world: dict[str, Any]) -> list[str]:
    return [p["name"] for p in world.get("places", [])]


def user(instructions: str, facts: dict[str, Any], extra: str | None = None) -> Message:
    """The user turn: the task in words, the author's regeneration notes if any, then the facts."""
    parts = [instructions.strip()]
    if extra:
        parts.append(f"Additional instructions from the author: {extra}")
    parts.append(context_block(facts))
    return Message("user", "\n\n".join(parts))
