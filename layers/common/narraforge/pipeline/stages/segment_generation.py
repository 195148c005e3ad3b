"""Stage 6 (Map): draft one segment; extend it when it comes out short or cut off, trim it when it runs long.

Length control is bounded whatever the model does: at most MAX_EXTENSIONS continuation calls, and extending
stops as soon as a continuation adds almost nothing new (a weak model's empty or repeated text). A draft is
extended below (1 - tolerance/2) of its target and trimmed at a sentence above (1 + tolerance): the tolerance is
±10 %, ±25 % for a model under 1B parameters (`layout.length_tolerance`).

In sequential mode the runner drafts segments in order, so a draft also sees the previous segment's
real closing text and a rolling synopsis (read through `ctx.segment_output`); in parallel mode the
previous output is not there yet and the draft relies on its planned entry state.
"""

from __future__ import annotations

import re
from typing import Any

from narraforge.config import get_settings
from narraforge.enums import Stage
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.layout import (
    CLOSING_WORDS,
    MAX_EXTENSIONS,
    MIN_CONTINUATION_WORDS,
    length_tolerance,
    small_model,
)
from narraforge.pipeline.metrics import characters_present
from narraforge.pipeline.prompts import segment_generation as prompt
from narraforge.pipeline.prompts.common import bible
from narraforge.pipeline.stages.calls import ask_text, characters, interpretation, plans, token_budget, world
from narraforge.pipeline.stages.checks import content_words, mentions_any
from narraforge.pipeline.text import SENTENCE_RE, closing, strip_scaffolding, trim, word_count, words

ROLLING_SYNOPSIS_WORDS = 150
ROOM_FOR_CAST = 0.75  # share of its target a small model's draft is cut to when a continuation must add characters
TOKENS_PER_WORD = 1.35  # English prose in SmolLM2's and o200k's tokenizers: 1.25-1.35



def lean_budget(words: int, tolerance: float) -> int:
    """max_tokens of a small model's prose call: about the most the segment may keep (1 + tolerance/2 of the
    words, ~1.35 tokens a word), not token_budget's generous slack. A model this small rarely stops by itself, so
    every token past what is kept is trimmed away unread; a draft that stops short is extended instead."""
    return int(words * (1 + tolerance / 2) * TOKENS_PER_WORD) + 40


def _join(text: str, more: str) -> str:
    """Glue a continuation on: mid-sentence text continues on the same line, else a new paragraph."""
    if not more:
        return text
    return f"{text} {more}" if re.search(r"[\w,;:]$", text) else f"{text}\n\n{more}"


def _sentence_key(sentence: str) -> str:
    return " ".join(w.casefold() for w in words(sentence))


def _fresh(text: str, more: str) -> str:
    """The continuation without the sentences the text already has (a weak model repeats itself); its lines
    and paragraphs stay as written (a script's lines are its form)."""
    seen = {_sentence_key(s) for s in SENTENCE_RE.findall(text)}
    lines = []
    for line in more.strip().splitlines():
        kept = []
        for sentence in SENTENCE_RE.findall(line):
            key = _sentence_key(sentence)
            if key and key not in seen:
                kept.append(sentence.strip())
                seen.add(key)
        if kept or not line.strip():
            lines.append(" ".join(kept))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


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
    cast = [c for c in characters(ctx) if c["name"] in plan["characters"]] or characters(ctx)[:1]
    model = get_settings().model_for(ModelRole.PROSE.value, ctx.stage.value)
    lean = small_model(model) and interpretation(ctx)["engine"] != "offline"
    previous_closing = closing(previous["text"], CLOSING_WORDS) if previous else ""
    if lean:
        messages = prompt.lean_draft_messages(brief, segment=plan, segment_count=count, cast=cast,
                                              previous_closing=previous_closing)
    else:
        messages = prompt.draft_messages(
            brief,
            segment={k: v for k, v in plan.items() if k != "synopsis_so_far"},
            segment_count=count,
            bible=story_bible,
            window=window,
            synopsis_so_far=rolling or plan["synopsis_so_far"],
            previous_closing=previous_closing,
            tone=interpretation(ctx)["tone"],
            instructions=ctx.instructions,
        )
    tolerance = length_tolerance(model)
    budget = (lambda words: lean_budget(words, tolerance)) if lean else token_budget
    text, truncated = ask_text(ctx, messages, max_tokens=budget(target))
    text = strip_scaffolding(text)
    calls = 1
    names = [c["name"] for c in cast]
    # The opening and the ending carry the premise: there a small model's text must say what the story is about.
    subject = content_words(brief.subject, brief.language) if lean and index in (0, count - 1) else []

    def missing() -> list[str]:
        """Planned characters a small model's text has not named yet (a larger model is trusted with its cast)."""
        if not lean:
            return []
        return [name for name, found in characters_present(text, names, brief.language).items() if not found]

    asked_subject = False

    def off_subject() -> list[str]:
        """The subject's words this text lacks, when it lacks most of them (a small model drifts off the brief);
        asked for once."""
        lacking = [word for word in subject if not mentions_any(text, [word])]
        return lacking if not asked_subject and 2 * len(lacking) > len(subject) else []

    # A small model leaves the subject and planned characters out: its draft makes room, and continuations bring
    # them in — the subject first, then one character each (asked for several at once, a 135M model names one
    # at best).
    if (missing() or off_subject()) and word_count(text) > ROOM_FOR_CAST * target:
        text = trim(text, round(ROOM_FOR_CAST * target))
    while (truncated or missing() or off_subject() or word_count(text) < (1 - tolerance / 2) * target) \
            and calls <= MAX_EXTENSIONS:
        lacking = off_subject()
        absent = [] if lacking else missing()
        asked_subject = asked_subject or bool(lacking)
        room = target - word_count(text)
        asks = len(missing()) + bool(lacking)
        needed = max(room // asks if asks else room, target // 10)
        if lean:
            messages = prompt.lean_extend_messages(brief, cast=cast, text_so_far_closing=closing(text, CLOSING_WORDS),
                                                   words_needed=needed, missing=absent[:1], subject_words=lacking)
        else:
            messages = prompt.extend_messages(
                brief,
                segment=plan,
                segment_count=count,
                bible=story_bible,
                text_so_far_closing=closing(text, CLOSING_WORDS),
                words_needed=needed,
                truncated=truncated,
            )
        more, truncated = ask_text(ctx, messages, max_tokens=budget(needed))
        calls += 1
        more = _fresh(text, strip_scaffolding(more))
        if word_count(more) < MIN_CONTINUATION_WORDS:
            break  # nothing new: asking again would only spend tokens
        text = _join(text, more)
    trimmed = word_count(text) > (1 + tolerance) * target
    if trimmed:
        text = trim(text, round((1 + tolerance / 2) * target))
    return {
        "index": index,
        "title": plan["title"],
        "text": text,
        "word_count": word_count(text),
        "target_words": target,
        "extended": calls > 1,
        "trimmed": trimmed,
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
