"""Stage 1: what the work is about, and its layout (segments and acts, computed in code)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.layout import act_count, drafting_mode, segment_targets
from narraforge.pipeline.prompts import brief_interpretation as prompt
from narraforge.pipeline.prompts.common import format_kind
from narraforge.pipeline.stages import checks
from narraforge.pipeline.stages.calls import ask_planned
from narraforge.schemas.briefs import ProductionBrief


class Interpretation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    working_title: str = Field(min_length=1, max_length=200)
    premise: str = Field(min_length=1)
    logline: str
    themes: list[str] = Field(min_length=1, max_length=6)
    tone: str
    central_conflict: str
    genre_conventions: list[str] = Field(min_length=1, max_length=8)
    audience: str


def problems(reply: Interpretation, brief: ProductionBrief) -> list[checks.Problem]:
    """Bounded phrases and sentences, and a premise about the brief's subject (a weak model drifts)."""
    found = checks.text(reply.working_title, ("working_title",), max_chars=checks.TITLE_CHARS)
    found += checks.sentence(reply.premise, ("premise",), max_chars=checks.PARAGRAPH_CHARS)
    found += checks.text(reply.logline, ("logline",), max_chars=checks.SENTENCE_CHARS, min_words=3)
    found += checks.items(reply.themes, ("themes",), max_chars=checks.PHRASE_CHARS)
    found += checks.text(reply.tone, ("tone",), max_chars=checks.PHRASE_CHARS)
    found += checks.text(reply.central_conflict, ("central_conflict",), max_chars=checks.SENTENCE_CHARS, min_words=2)
    found += checks.items(reply.genre_conventions, ("genre_conventions",), max_chars=checks.PHRASE_CHARS)
    found += checks.text(reply.audience, ("audience",), max_chars=checks.PHRASE_CHARS)
    subject = checks.content_words(brief.subject, brief.language)
    if not checks.mentions_any(f"{reply.premise} {reply.logline}", subject):
        found.append(checks.Problem(("premise",), f"does not mention the subject ({brief.subject[:80]!r})"))
    return found


def layout_of(target_length: int) -> dict[str, Any]:
    targets = segment_targets(target_length)
    return {
        "segment_count": len(targets),
        "segment_words": round(target_length / len(targets)),
        "act_count": act_count(len(targets)),
        "mode": drafting_mode(target_length),
    }


def run(ctx: StageContext) -> dict[str, Any]:
    brief = ctx.brief
    layout = layout_of(brief.target_length)
    planned = ask_planned(
        ctx,
        ModelRole.PLANNING,
        prompt.messages(brief, layout, ctx.instructions),
        name=prompt.SCHEMA_NAME,
        model=Interpretation,
        max_tokens=900,
        check=lambda reply: problems(reply, brief),
    )
    out = planned.reply.model_dump()
    out["working_title"] = brief.title or planned.reply.working_title
    # Which engine writes this job, for the narrative's metadata (the offline engine labels itself; only a
    # model's provider gives up on JSON and leaves no completion).
    engine = str(planned.completion.metadata.get("engine", "openai")) if planned.completion else "openai"
    return {**out, "format": format_kind(brief), "language": brief.language, "layout": layout, "engine": engine,
            "fallbacks": planned.fallbacks}
