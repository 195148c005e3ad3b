"""Stage 6 (Map): draft one segment; extend it once when it comes out short or cut off.

In sequential mode the runner drafts segments in order, so a draft also sees the previous segment's
real closing text and a rolling synopsis (read through `ctx.segment_output`); in parallel mode the
previous output is not there yet and the draft relies on its planned entry state.
"""

from __future__ import annotations

import re
from typing import Any

from narraforge.enums import Stage
from narraforge.pipeline.context import StageContext
from narraforge.pipeline.layout import CLOSING_WORDS, EXTEND_BELOW
from narraforge.pipeline.prompts import segment_generation as prompt
from narraforge.pipeline.prompts.common import bible
from narraforge.pipeline.stages.calls import ask_text, characters, interpretation, plans, token_budget, world
from narraforge.pipeline.text import closing, word_count

ROLLING_SYNOPSIS_WORDS = 150


def _join(text: str, more: str) -> str:
    """Glue a continuation on: mid-sentence text continues on the same line, else a new paragraph."""
    if not more:
        return text
    return f"{text} {more}" if re.search(r"[\w,;:]$", text) else f"{text}\n\n{more}"


def _rolling(previous: dict[str, Any] | None, previous_plan: dict[str, Any] | None) -> str:
    """The synopsis carried forward in sequential mode: the tail of the last one plus the latest segment."""
    if previous is None or previous_plan is None:
        return ""
    words = f"{previous.get('rolling_synopsis', '')} {previous_plan['summary']}".split()
    return " ".join(words[-ROLLING_SYNOPSIS_WORDS:])


def run_segment(ctx: StageContext, index: int) -> dict[str, Any]:
    brief = ctx.brief
    all_plans = plans(ctx)
    plan = all_plans[index]
    count = len(all_plans)
    story_bible = bible(world(ctx), characters(ctx), focus=plan["characters"])
    previous = ctx.segment_output(Stage.SEGMENT_GENERATION, index - 1) if index > 0 else None
    rolling = _rolling(previous, all_plans[index - 1] if index > 0 else None)
    window = {
        "previous": all_plans[index - 1]["summary"] if index > 0 else "",
        "next": all_plans[index + 1]["summary"] if index + 1 < count else "",
    }
    target = plan["target_words"]
    text, truncated = ask_text(
        ctx,
        prompt.draft_messages(
            brief,
            segment={k: v for k, v in plan.items() if k != "synopsis_so_far"},
            segment_count=count,
            bible=story_bible,
            window=window,
            synopsis_so_far=rolling or plan["synopsis_so_far"],
            previous_closing=closing(previous["text"], CLOSING_WORDS) if previous else "",
            tone=interpretation(ctx)["tone"],
            instructions=ctx.instructions,
        ),
        max_tokens=token_budget(target),
    )
    calls = 1
    words = word_count(text)
    if truncated or words < EXTEND_BELOW * target:
        needed = max(target - words, target // 10)
        more, _ = ask_text(
            ctx,
            prompt.extend_messages(
                brief,
                segment=plan,
                segment_count=count,
                bible=story_bible,
                text_so_far_closing=closing(text, CLOSING_WORDS),
                words_needed=needed,
                truncated=truncated,
            ),
            max_tokens=token_budget(needed),
        )
        calls += 1
        text = _join(text, more)
    return {
        "index": index,
        "title": plan["title"],
        "text": text,
        "word_count": word_count(text),
        "target_words": target,
        "extended": calls > 1,
        "calls": calls,
        "rolling_synopsis": rolling,
    }


def finalize(ctx: StageContext) -> dict[str, Any]:
    outputs = ctx.segment_outputs(Stage.SEGMENT_GENERATION)
    return {
        "segment_count": len(outputs),
        "word_count": sum(o["word_count"] for o in outputs),
        "target_length": ctx.brief.target_length,
        "extended_segments": [o["index"] for o in outputs if o["extended"]],
    }
