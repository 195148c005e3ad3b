"""Stage 8 prompt: smooth one seam — rewrite a segment's opening so it flows from the real previous ending."""

from __future__ import annotations

from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.layout import MAX_WORD_CHANGE
from narraforge.pipeline.prompts.common import FORMAT_NOTES, brief_facts, language_rule, system, user
from narraforge.pipeline.text import word_count
from narraforge.schemas.briefs import ProductionBrief


def seam_messages(
    brief: ProductionBrief, *, segment: dict[str, Any], previous_closing: str, opening: str
) -> list[Message]:
    words = word_count(opening)
    task = f"""Two segments of this work were drafted separately. Below are the real closing paragraphs of the
previous segment and the opening paragraphs of the next. Rewrite ONLY the opening so the seam reads as
one continuous text: no recap, no contradiction of place, time or who is present, consistent tense and
voice, with the transition made in the story itself. Keep the author's voice, content and format
({FORMAT_NOTES[brief.production_type]}). Keep the length within {int(MAX_WORD_CHANGE * 100)}% of {words} words.
Return only the rewritten opening. {language_rule(brief)}"""
    facts = {
        "task": "smooth_seam",
        **brief_facts(brief),
        "target_words": words,
        "segment_index": segment["index"],
        "segment": {k: segment[k] for k in ("index", "title", "place", "characters", "entry_state")},
        "previous_closing": previous_closing,
        "opening": opening,
    }
    return [system(brief, "a line editor who keeps the author's voice"), user(task, facts)]
