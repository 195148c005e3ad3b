"""Stage 6 prompts: draft one segment from the bible, the local outline window and its entry/exit states;
extend a draft that came out short."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.prompts.common import (
    FORMAT_NOTES,
    POV_NOTES,
    brief_facts,
    language_rule,
    system,
    user,
)
from narraforge.schemas.briefs import ProductionBrief

WRITER = "a novelist and dramatist who writes vivid, specific, economical text"


def _craft_rules(brief: ProductionBrief) -> str:
    style = f" Style: {brief.style_instructions}." if brief.style_instructions else ""
    return (
        f"Form: {FORMAT_NOTES[brief.production_type]}. Point of view: {POV_NOTES[brief.pov]}.{style}\n"
        "Show, don't summarise: concrete action, sensory detail from the palette, dialogue that reveals want "
        "and conflict, each character in their own voice. Avoid clichés and stock phrases; never repeat a "
        f"sentence. Do not write headings, titles or notes — only the text itself. {language_rule(brief)}"
    )


def draft_messages(
    brief: ProductionBrief,
    *,
    segment: dict[str, Any],
    segment_count: int,
    bible: dict[str, Any],
    window: dict[str, str],
    synopsis_so_far: str,
    previous_closing: str,
    tone: str,
    instructions: str | None = None,
) -> list[Message]:
    index = segment["index"]
    seam = (
        "Continue directly from the previous segment's real closing text (in the context): same moment, "
        "same people, no recap."
        if previous_closing
        else "Open from the entry state; the previous segment is being written in parallel, so do not recap it."
    )
    if index == 0:
        seam = "This is the opening of the work: hook the reader and establish the viewpoint character."
    ending = (
        "This is the final segment: resolve the story."
        if index == segment_count - 1
        else ("End at the exit state, with a pull into the next segment.")
    )
    task = f"""Write segment {index + 1} of {segment_count}: "{segment["title"]}".
Length: about {segment["target_words"]} words (do not stop before {int(segment["target_words"] * 0.9)}).
Dramatise every beat in order, with the characters listed and in the place given. {seam} {ending}
{_craft_rules(brief)}"""
    facts = {
        "task": "draft",
        **brief_facts(brief),
        "tone": tone,
        "target_words": segment["target_words"],
        "segment_index": index,
        "segment_count": segment_count,
        "segment": segment,
        "outline_window": window,
        "synopsis_so_far": synopsis_so_far,
        "previous_closing": previous_closing,
        "bible": bible,
    }
    return [system(brief, WRITER), user(task, facts, instructions)]


def extend_messages(
    brief: ProductionBrief,
    *,
    segment: dict[str, Any],
    segment_count: int,
    bible: dict[str, Any],
    text_so_far_closing: str,
    words_needed: int,
    truncated: bool,
) -> list[Message]:
    why = "was cut off mid-way" if truncated else "came out too short"
    task = f"""The draft of segment {segment["index"] + 1} of {segment_count} ("{segment["title"]}") {why}.
Continue it seamlessly from its last words (in the context) for about {words_needed} more words: deepen the
remaining beats with action and dialogue and reach the exit state. Write only the continuation.
{_craft_rules(brief)}"""
    facts = {
        "task": "extend",
        **brief_facts(brief),
        "target_words": words_needed,
        "segment_index": segment["index"],
        "segment_count": segment_count,
        "segment": segment,
        "text_so_far_closing": text_so_far_closing,
        "bible": bible,
    }
    return [system(brief, WRITER), user(task, facts)]


def _cast_line(cast: list[dict[str, Any]]) -> str:
    return "; ".join(f"{c['name']} ({c['role']})" for c in cast)


def lean_draft_messages(
    brief: ProductionBrief,
    *,
    segment: dict[str, Any],
    segment_count: int,
    cast: list[dict[str, Any]],
    previous_closing: str,
) -> list[Message]:
    """The draft prompt for a model under 1B parameters: a few plain sentences, no JSON facts block (a small
    model echoes a facts block back as headings and lists instead of writing the story), every name spelled out."""
    index = segment["index"]
    part = "the opening" if index == 0 else ("the ending" if index == segment_count - 1 else "the next part")
    beats = " ".join(segment["beats"])
    seam = f'\nThe story so far ends: "{previous_closing}"\nContinue from there.' if previous_closing else ""
    task = (
        f"Write {part} of a {brief.genre.value.replace('_', ' ')} story about: {brief.subject}.\n"
        f"Characters: {_cast_line(cast)}. Use their names.\n"
        f"Place: {segment['place']}. What happens: {beats}\n"
        f"Write about {segment['target_words']} words of story in {POV_NOTES[brief.pov]}, with dialogue. "
        "Only the story itself: no title, headings, lists or notes." + seam
    )
    return [Message("system", f"You are a fiction writer. {language_rule(brief)}"), Message("user", task)]


def lean_extend_messages(
    brief: ProductionBrief,
    *,
    cast: list[dict[str, Any]],
    text_so_far_closing: str,
    words_needed: int,
    missing: list[str],
    subject_words: Sequence[str] = (),
) -> list[Message]:
    """The continuation prompt for a model under 1B parameters; characters the text has not named yet enter, or
    the subject it drifted from comes back in so many words."""
    first = missing[0].split()[0] if missing else ""
    enter = f' {", ".join(missing)} must appear and speak. Start with the words "{first}".' if missing else ""
    if subject_words and not missing:
        enter = f" Now show this happening: {brief.subject}. Use the words: {', '.join(subject_words)}."
    task = (
        f"Continue this {brief.genre.value.replace('_', ' ')} story about: {brief.subject}.\n"
        f"Characters: {_cast_line(cast)}.{enter}\n"
        f'The story so far ends: "{text_so_far_closing}"\n'
        f"Write about {words_needed} more words of the story, only the continuation: no title, headings or notes."
    )
    return [Message("system", f"You are a fiction writer. {language_rule(brief)}"), Message("user", task)]
