"""Stage 9 prompt: a light editorial pass over bounded excerpts — the title, a blurb, final checks."""

from __future__ import annotations

from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.prompts.common import brief_facts, json_reply_rule, language_rule, system, user
from narraforge.schemas.briefs import ProductionBrief

SCHEMA_NAME = "editorial_review"


def messages(
    brief: ProductionBrief,
    *,
    interpretation: dict[str, Any],
    acts: list[dict[str, Any]],
    opening: str,
    closing: str,
    checks: dict[str, Any],
) -> list[Message]:
    title_rule = (
        f'The author chose the title "{brief.title}": keep it exactly.'
        if brief.title
        else "Choose the final title: short, specific, true to the ending."
    )
    task = f"""Do the final editorial pass on the finished work. You see its structure, its real opening and
closing, and measured checks. {title_rule}
Give: title; blurb (a back-cover paragraph of at most 70 words, no spoilers of the ending); notes (up to
four short editorial observations an author would find useful, honest about weaknesses in the checks).
{language_rule(brief)}
{json_reply_rule(SCHEMA_NAME)}"""
    facts = {
        **brief_facts(brief),
        "working_title": interpretation["working_title"],
        "premise": interpretation["premise"],
        "acts": [{"number": a["number"], "title": a["title"], "summary": a["summary"]} for a in acts],
        "opening": opening,
        "closing": closing,
        "checks": checks,
    }
    return [system(brief, "an editor-in-chief"), user(task, facts)]
