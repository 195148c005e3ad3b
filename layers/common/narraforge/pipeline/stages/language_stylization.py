"""Stage 8 (Map): smooth each seam — a segment's opening is rewritten against the real closing paragraphs
of the previous segment. Only the seam is rewritten, so this pass costs a fraction of the text, and a
rewrite that changes the opening's length by more than 15% is rejected to keep the author's voice."""

from __future__ import annotations

from typing import Any

from narraforge.enums import Stage
from narraforge.pipeline.context import StageContext
from narraforge.pipeline.layout import CLOSING_WORDS, MAX_WORD_CHANGE, SEAM_WORDS
from narraforge.pipeline.prompts import language_stylization as prompt
from narraforge.pipeline.stages.calls import ask_text, drafted_text, plans, revisions, token_budget
from narraforge.pipeline.text import closing, split_opening, word_count


def run_segment(ctx: StageContext, index: int) -> dict[str, Any]:
    text = drafted_text(ctx, index)
    source = "revision" if str(index) in revisions(ctx) else "draft"
    out = {"index": index, "source": source, "seam_smoothed": False, "seam_rejected": False}
    opening, rest = split_opening(text, SEAM_WORDS)
    if index == 0 or not opening:
        return {**out, "text": text, "word_count": word_count(text)}
    before = word_count(opening)
    rewritten, truncated = ask_text(
        ctx,
        prompt.seam_messages(
            ctx.brief,
            segment=plans(ctx)[index],
            previous_closing=closing(drafted_text(ctx, index - 1), CLOSING_WORDS),
            opening=opening,
        ),
        max_tokens=token_budget(before),
    )
    after = word_count(rewritten)
    if truncated or not rewritten or abs(after - before) > MAX_WORD_CHANGE * before:
        return {**out, "text": text, "word_count": word_count(text), "seam_rejected": True}
    smoothed = f"{rewritten}\n\n{rest}" if rest else rewritten
    return {**out, "text": smoothed, "word_count": word_count(smoothed), "seam_smoothed": True}


def finalize(ctx: StageContext) -> dict[str, Any]:
    outputs = ctx.segment_outputs(Stage.LANGUAGE_STYLIZATION)
    return {
        "segment_count": len(outputs),
        "word_count": sum(o["word_count"] for o in outputs),
        "seams_smoothed": sum(1 for o in outputs if o["seam_smoothed"]),
        "seams_rejected": sum(1 for o in outputs if o["seam_rejected"]),
    }
