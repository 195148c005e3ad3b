"""Stage 7: LLM-judged scores against a rubric, in bounded windows of segments; one revision of the
worst flagged segments when the overall score is under the bar.

Scores count as judged only when a language model gave them: the offline engine's review (it labels its
replies `engine: offline`) keeps its flags, which it derives from the measured facts, but its scores are
reported as null with `judged: false`, and nothing is revised on them.

The judge never re-reads the whole text: it sees each segment's plan, real opening and closing lines and
measured facts, so its prompt size does not grow with the length of the work.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.config import get_settings
from narraforge.enums import Stage
from narraforge.llm.base import LlmBadOutput
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.layout import (
    EXTEND_BELOW,
    JUDGE_WINDOW,
    MAX_REVISIONS,
    chunks,
    length_tolerance,
    revision_bar,
)
from narraforge.pipeline.metrics import characters_present
from narraforge.pipeline.prompts import coherence_validation as prompt
from narraforge.pipeline.prompts.common import bible
from narraforge.pipeline.stages.calls import (
    ask_json_completion,
    ask_text,
    characters,
    interpretation,
    plans,
    token_budget,
    world,
)
from narraforge.pipeline.text import strip_scaffolding, trim, truncate_words, word_count

SCORE_KEYS = (
    "coherence_score",
    "logic_score",
    "character_consistency_score",
    "pacing_score",
    "dialogue_quality_score",
    "overall_score",
)


class Score(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: float = Field(ge=0, le=1)
    reason: str


class Flag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int
    issue: str
    severity: float = Field(ge=0, le=1)


class Review(BaseModel):
    model_config = ConfigDict(extra="forbid")

    coherence_score: Score
    logic_score: Score
    character_consistency_score: Score
    pacing_score: Score
    dialogue_quality_score: Score
    overall_score: Score
    flagged_segments: list[Flag]


def _tail(text: str, n: int) -> str:
    parts = text.split()
    return " ".join(parts[-n:])


def segment_facts(plan: dict[str, Any], text: str, language: str) -> dict[str, Any]:
    """What the judge sees of one segment: the plan, real edges of the text and measured facts."""
    present = characters_present(text, plan["characters"], language)
    return {
        "index": plan["index"],
        "title": plan["title"],
        "summary": truncate_words(plan["summary"], 40),
        "beats": [truncate_words(b, 20) for b in plan["beats"]],
        "place": plan["place"],
        "planned_characters": plan["characters"],
        "missing_characters": [name for name, ok in present.items() if not ok],
        "target_words": plan["target_words"],
        "word_count": word_count(text),
        "dialogue_lines": sum(1 for line in text.splitlines() if any(q in line for q in '"“„—:')),
        "opening": truncate_words(text, 45),
        "closing": _tail(text, 45),
    }


def _aggregate(reviews: list[tuple[Review, int]]) -> tuple[dict[str, float], dict[str, str]]:
    """Word-weighted mean per criterion; the reason comes from the weakest window."""
    total = sum(weight for _, weight in reviews) or 1
    scores, reasons = {}, {}
    for key in SCORE_KEYS:
        scores[key] = round(sum(getattr(r, key).score * w for r, w in reviews) / total, 3)
        weakest = min(reviews, key=lambda rw, k=key: getattr(rw[0], k).score)[0]
        reasons[key] = getattr(weakest, key).reason
    return scores, reasons


def _revise(ctx: StageContext, plan: dict[str, Any], text: str, flags: list[Flag], missing: list[str]) -> str | None:
    """One rewrite of a flagged segment, cleaned of scaffolding and trimmed like a draft; kept only if it is not
    shorter than the extension threshold and names no fewer of the segment's characters than the draft did (a
    small model's rewrite can lose the very characters it was asked to bring in)."""
    all_plans = plans(ctx)
    target = plan["target_words"]
    tolerance = length_tolerance(get_settings().model_for(ModelRole.PROSE.value, ctx.stage.value))
    revised, _ = ask_text(
        ctx,
        prompt.revise_messages(
            ctx.brief,
            segment={k: v for k, v in plan.items() if k != "synopsis_so_far"},
            segment_count=len(all_plans),
            bible=bible(world(ctx), characters(ctx), focus=plan["characters"]),
            text=text,
            issues=[f.issue for f in flags],
            missing_characters=missing,
        ),
        max_tokens=token_budget(target),
    )
    revised = strip_scaffolding(revised)
    if word_count(revised) > (1 + tolerance) * target:
        revised = trim(revised, round((1 + tolerance / 2) * target))
    names = plan["characters"]
    named = sum(characters_present(revised, names, ctx.brief.language).values())
    if named < sum(characters_present(text, names, ctx.brief.language).values()):
        return None
    return revised if word_count(revised) >= EXTEND_BELOW * target else None


def run(ctx: StageContext) -> dict[str, Any]:
    all_plans = plans(ctx)
    drafts = ctx.segment_outputs(Stage.SEGMENT_GENERATION)
    language = ctx.brief.language
    facts = [segment_facts(p, d["text"], language) for p, d in zip(all_plans, drafts, strict=True)]
    premise = interpretation(ctx)["premise"]
    reviews: list[tuple[Review, int]] = []
    flags: list[Flag] = []
    judged = True
    fallbacks: list[dict[str, Any]] = []
    for window in chunks(list(range(len(facts))), JUDGE_WINDOW):
        try:
            review, completion = ask_json_completion(
                ctx,
                ModelRole.JUDGING,
                prompt.judge_messages(ctx.brief, segments=[facts[i] for i in window], premise=premise),
                name=prompt.SCHEMA_NAME,
                model=Review,
                max_tokens=700 + 80 * len(window),
                temperature=0.2,
            )
        except LlmBadOutput as exc:  # a judge that cannot fill the rubric (a weak model): the work stays unjudged
            judged = False
            fallbacks.append({"stage": ctx.stage.value, "field": f"scores (segments {window[0]}..{window[-1]})",
                              "reason": f"not judged: {str(exc)[:200]}"})
            continue
        judged = judged and completion.metadata.get("engine") != "offline"
        reviews.append((review, sum(facts[i]["word_count"] for i in window) or 1))
        flags += [f for f in review.flagged_segments if f.index in window]
    scores: dict[str, float | None]
    scores, reasons = _aggregate(reviews) if judged else (dict.fromkeys(SCORE_KEYS), {})
    bar = revision_bar()
    revisions: dict[str, str] = {}
    overall = scores["overall_score"]
    if overall is not None and overall < bar:
        worst = sorted(flags, key=lambda f: (-f.severity, f.index))
        chosen = list(dict.fromkeys(f.index for f in worst))[:MAX_REVISIONS]
        for index in chosen:
            revised = _revise(
                ctx,
                all_plans[index],
                drafts[index]["text"],
                [f for f in flags if f.index == index],
                facts[index]["missing_characters"],
            )
            if revised is not None:
                revisions[str(index)] = revised
    return {
        "judged": judged,
        "scores": scores,
        "reasons": reasons,
        "flagged_segments": [f.model_dump() for f in flags],
        "revision_bar": bar,
        "revisions": revisions,
        "revised_segments": sorted(int(i) for i in revisions),
        "windows": len(reviews),
        "fallbacks": fallbacks,
    }
