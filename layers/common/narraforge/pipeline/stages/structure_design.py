"""Stage 4: the acts — their content from the model, their sizes from the layout."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.layout import act_sizes, segment_targets
from narraforge.pipeline.prompts import structure_design as prompt
from narraforge.pipeline.stages import checks
from narraforge.pipeline.stages.calls import ask_planned, characters, interpretation, world


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


def problems(reply: Structure, act_count: int) -> list[checks.Problem]:
    """Exactly the layout's acts (their sizes are the layout's), each with a title, summary and turning point;
    bounded text."""
    found = checks.text(reply.central_question, ("central_question",), max_chars=checks.SENTENCE_CHARS, min_words=3)
    found += checks.text(reply.ending, ("ending",), max_chars=checks.PARAGRAPH_CHARS, min_words=3)
    found += checks.count(len(reply.acts), act_count, ("acts",), "acts")
    for i, act in enumerate(reply.acts[:act_count]):
        found += checks.text(act.title, ("acts", i, "title"), max_chars=checks.TITLE_CHARS)
        found += checks.text(act.summary, ("acts", i, "summary"), max_chars=checks.PARAGRAPH_CHARS, min_words=4)
        found += checks.text(act.turning_point, ("acts", i, "turning_point"), max_chars=checks.SENTENCE_CHARS,
                             min_words=3)
    return found


def run(ctx: StageContext) -> dict[str, Any]:
    brief = ctx.brief
    layout = act_layout(brief.target_length)
    planned = ask_planned(
        ctx,
        ModelRole.PLANNING,
        prompt.messages(brief, interpretation(ctx), world(ctx), characters(ctx), layout, ctx.instructions),
        name=prompt.SCHEMA_NAME,
        model=Structure,
        max_tokens=400 + 220 * len(layout),
        check=lambda reply: problems(reply, len(layout)),
    )
    reply = planned.reply
    acts = [{**act.model_dump(), **sizes} for act, sizes in zip(reply.acts, layout, strict=True)]
    return {"central_question": reply.central_question, "ending": reply.ending, "acts": acts,
            "fallbacks": planned.fallbacks}
