"""Stage 1 prompt: read the brief as a development editor and state what the work is about."""

from __future__ import annotations

from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.prompts.common import brief_facts, brief_summary, json_reply_rule, system, user
from narraforge.schemas.briefs import ProductionBrief

SCHEMA_NAME = "brief_interpretation"


def messages(brief: ProductionBrief, layout: dict[str, Any], instructions: str | None = None) -> list[Message]:
    task = f"""Interpret this production brief before anything is written.

{brief_summary(brief)}

The work will be written in {layout["segment_count"]} segments of about {layout["segment_words"]} words,
grouped in {layout["act_count"]} acts. Decide:
- working_title: a short, evocative title (the author's title wins if one is given);
- premise: two or three sentences — who wants what, what stands in the way, what is at stake;
- logline: one sentence;
- themes: two to four themes the story explores;
- tone: the emotional register, honouring the style instructions;
- central_conflict: the main opposing forces;
- genre_conventions: three to five {brief.genre.value} conventions this work will honour, each a short phrase;
- audience: who it is for.
{json_reply_rule(SCHEMA_NAME)}"""
    facts = {**brief_facts(brief), "layout": layout}
    return [system(brief, "a development editor"), user(task, facts, instructions)]
