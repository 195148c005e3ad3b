"""Stage 6 prompts: draft one segment from the bible, the local outline window and its entry/exit states;
extend a draft that came out short."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class LeanWords:
    """A small model's prompt in the language it must write in: asked in English for Polish, a 135M model
    answers in English (measured on SmolLM2-135M: the Polish journey story came back 96 % English)."""

    writer: str
    parts: tuple[str, str, str]  # the opening, the next part, the ending
    draft: str
    seam: str
    extend: str
    enter: str
    subject: str
    pov: dict[str, str]


LEAN = {
    "en": LeanWords(
        writer="You are a fiction writer.",
        parts=("the opening", "the next part", "the ending"),
        draft=("Write {part} of a {genre} story about: {subject}.\nCharacters: {cast}. Use their names.\n"
               "Place: {place}. What happens: {beats}\nWrite about {words} words of story in {pov}, with dialogue. "
               "Only the story itself: no title, headings, lists or notes."),
        seam='\nThe story so far ends: "{closing}"\nContinue from there.',
        extend=("Continue this {genre} story about: {subject}.\nCharacters: {cast}.{enter}\n"
                'The story so far ends: "{closing}"\n'
                "Write about {words} more words of the story, only the continuation: no title, headings or notes."),
        enter=' {names} must appear and speak. Start with the words "{first}".',
        subject=" Now show this happening: {subject}. Use the words: {words}.",
        pov=POV_NOTES,
    ),
    "pl": LeanWords(
        writer="Jesteś pisarzem. Piszesz wyłącznie po polsku.",
        parts=("początek", "kolejną część", "zakończenie"),
        draft=("Napisz {part} opowiadania o tym: {subject}.\nPostacie: {cast}. Używaj ich imion.\n"
               "Miejsce: {place}. Co się dzieje: {beats}\nNapisz po polsku około {words} słów opowiadania, {pov}, "
               "z dialogami. Tylko sama historia: bez tytułu, nagłówków, list i uwag."),
        seam='\nHistoria na razie kończy się tak: "{closing}"\nPisz dalej od tego miejsca.',
        extend=("Pisz dalej to opowiadanie o tym: {subject}.\nPostacie: {cast}.{enter}\n"
                'Historia na razie kończy się tak: "{closing}"\n'
                "Napisz po polsku jeszcze około {words} słów, tylko dalszy ciąg: bez tytułu, nagłówków i uwag."),
        enter=' {names} musi się pojawić i coś powiedzieć. Zacznij od słowa „{first}”.',
        subject=" Teraz pokaż, jak to się dzieje: {subject}. Użyj słów: {words}.",
        pov={"first": "w pierwszej osobie (ja)", "second": "w drugiej osobie (ty)",
             "third_limited": "w trzeciej osobie, z perspektywy bohatera",
             "third_omniscient": "w trzeciej osobie, z perspektywy wszechwiedzącego narratora"},
    ),
}


def lean_draft_messages(
    brief: ProductionBrief,
    *,
    segment: dict[str, Any],
    segment_count: int,
    cast: list[dict[str, Any]],
    previous_closing: str,
) -> list[Message]:
    """The draft prompt for a model under 1B parameters: a few plain sentences in the story's own language, no
    JSON facts block (a small model echoes a facts block back as headings and lists instead of writing the
    story), every name spelled out."""
    lean = LEAN[brief.language]
    index = segment["index"]
    part = lean.parts[0] if index == 0 else (lean.parts[2] if index == segment_count - 1 else lean.parts[1])
    task = lean.draft.format(part=part, genre=brief.genre.value.replace("_", " "), subject=brief.subject,
                             cast=_cast_line(cast), place=segment["place"], beats=" ".join(segment["beats"]),
                             words=segment["target_words"], pov=lean.pov[brief.pov])
    if previous_closing:
        task += lean.seam.format(closing=previous_closing)
    return [Message("system", f"{lean.writer} {language_rule(brief)}"), Message("user", task)]


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
    lean = LEAN[brief.language]
    enter = lean.enter.format(names=", ".join(missing), first=missing[0].split()[0]) if missing else ""
    if subject_words and not missing:
        enter = lean.subject.format(subject=brief.subject, words=", ".join(subject_words))
    task = lean.extend.format(genre=brief.genre.value.replace("_", " "), subject=brief.subject, cast=_cast_line(cast),
                              enter=enter, closing=text_so_far_closing, words=words_needed)
    return [Message("system", f"{lean.writer} {language_rule(brief)}"), Message("user", task)]
