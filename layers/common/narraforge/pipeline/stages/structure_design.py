"""Stage 4: the acts — their content from the model, their sizes from the layout."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.llm.base import LlmBadOutput
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.layout import act_sizes, segment_targets
from narraforge.pipeline.prompts import structure_design as prompt
from narraforge.pipeline.stages.calls import ask_json, characters, interpretation, world


class Act(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: int
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    turning_point: str


class Structure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    central_question: str
    ending: str
    acts: list[Act] = Field(min_length=1, max_length=6)


def act_layout(target_length: int) -> list[dict[str, int]]:
    """Per act: its number, first segment, segment count and words (sums to the target length)."""
    targets = segment_targets(target_length)
    layout, start = [], 0
    for number, size in enumerate(act_sizes(len(targets)), start=1):
        layout.append(
            {
                "number": number,
                "first_segment": start,
                "segment_count": size,
                "target_words": sum(targets[start : start + size]),
            }
        )
        start += size
    return layout


def run(ctx: StageContext) -> dict[str, Any]:
    brief = ctx.brief
    layout = act_layout(brief.target_length)
    reply = ask_json(
        ctx,
        ModelRole.PLANNING,
        prompt.messages(brief, interpretation(ctx), world(ctx), characters(ctx), layout, ctx.instructions),
        name=prompt.SCHEMA_NAME,
        model=Structure,
        max_tokens=400 + 220 * len(layout),
    )
    if len(reply.acts) != len(layout):
        raise LlmBadOutput(f"structure_design: {len(reply.acts)} acts, expected {len(layout)}")
    acts = [{**act.model_dump(), **sizes} for act, sizes in zip(reply.acts, layout, strict=True)]
    return {"central_question": reply.central_question, "ending": reply.ending, "acts": acts}
