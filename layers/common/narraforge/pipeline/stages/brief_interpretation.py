"""Stage 1: what the work is about, and its layout (segments and acts, computed in code)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.layout import act_count, drafting_mode, segment_targets
from narraforge.pipeline.prompts import brief_interpretation as prompt
from narraforge.pipeline.prompts.common import format_kind
from narraforge.pipeline.stages.calls import ask_json_completion


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
    reply, completion = ask_json_completion(
        ctx,
        ModelRole.PLANNING,
        prompt.messages(brief, layout, ctx.instructions),
        name=prompt.SCHEMA_NAME,
        model=Interpretation,
        max_tokens=900,
    )
    out = reply.model_dump()
    out["working_title"] = brief.title or reply.working_title
    # Which engine writes this job, for the narrative's metadata (the offline engine labels itself).
    engine = str(completion.metadata.get("engine", "openai"))
    return {**out, "format": format_kind(brief), "language": brief.language, "layout": layout, "engine": engine}
