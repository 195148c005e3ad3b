"""Stage 8 (Map): smooth each seam — a segment's opening is rewritten against the real closing paragraphs
of the previous segment. Only the seam is rewritten, so this pass costs a fraction of the text, and a
rewrite that changes the opening's length by more than 15% is rejected to keep the author's voice.

The Map smooths the drafts while stage 7 judges them (one Parallel state): a seam needs only its two drafts.
When stage 7 then revises a segment, the finalize step smooths again the two seams that touch it (its opening
against the previous text, the next opening against its new ending); every other seam stands as the Map left it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from narraforge.enums import Stage
from narraforge.pipeline.context import StageContext
from narraforge.pipeline.layout import CLOSING_WORDS, MAX_WORD_CHANGE, SEAM_WORDS
from narraforge.pipeline.prompts import language_stylization as prompt
from narraforge.pipeline.stages.calls import ask_text, draft_text, plans, revisions, token_budget
from narraforge.pipeline.text import closing, split_opening, word_count


def run_segment(ctx: StageContext, index: int) -> dict[str, Any]:
    previous = draft_text(ctx, index - 1) if index > 0 else ""
    return _smooth(ctx, index, draft_text(ctx, index), previous, "draft")


def _smooth(ctx: StageContext, index: int, text: str, previous: str, source: str) -> dict[str, Any]:
    """Segment `index`'s text with its opening rewritten against the ending of `previous`."""
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
            previous_closing=closing(previous, CLOSING_WORDS),
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
    """Seams touching a revised segment smoothed again (side by side), then the totals of the final text."""
    revised = revisions(ctx)
    count = len(plans(ctx))

    def text_of(index: int) -> str:
        return revised.get(str(index)) or draft_text(ctx, index)

    touched = sorted({i for r in map(int, revised) for i in (r, r + 1) if i < count})

    def again(index: int) -> dict[str, Any]:
        source = "revision" if str(index) in revised else "draft"
        return _smooth(ctx, index, text_of(index), text_of(index - 1) if index > 0 else "", source)

    with ThreadPoolExecutor(max_workers=max(1, min(len(touched), 8))) as pool:
        restyled = {str(i): out for i, out in zip(touched, pool.map(again, touched), strict=True)}
    outputs = [restyled.get(str(i)) or out for i, out in enumerate(ctx.segment_outputs(Stage.LANGUAGE_STYLIZATION))]
    return {
        "segment_count": len(outputs),
        "word_count": sum(o["word_count"] for o in outputs),
        "seams_smoothed": sum(1 for o in outputs if o["seam_smoothed"]),
        "seams_rejected": sum(1 for o in outputs if o["seam_rejected"]),
        "restyled": restyled,
    }
