"""Stage 7 (Map): LLM-judged scores against a rubric, one Map iteration per bounded window of segments,
judged side by side (and beside stage 8's seams: the state machine runs both Maps in one Parallel state); then
one finalize step that aggregates the windows and revises the worst flagged segments when the overall score is
under the bar.

Scores count as judged only when a language model gave them: the offline engine's review (it labels its
replies `engine: offline`) keeps its flags, which it derives from the measured facts, but its scores are
reported as null with `judged: false`, and nothing is revised on them.

The judge never re-reads the whole text: it sees each segment's plan, real opening and closing lines and
measured facts, so its prompt size does not grow with the length of the work.

A story in a project with a world is also checked against it (pipeline/continuity.py): its findings are facts,
not taste, so they are revision candidates whatever the judged score, sharing MAX_REVISIONS with the flags,
worst first. A model reads each window for broken locked rules in the window's iteration; a renamed place is put
right by a rule, without a model; a finding counts as fixed only when the check no longer finds it in the final
text.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.config import get_settings
from narraforge.enums import Stage
from narraforge.llm.base import LlmBadOutput
from narraforge.pipeline import continuity, world_context
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.layout import (
    EXTEND_BELOW,
    MAX_REVISIONS,
    length_tolerance,
    revision_bar,
    window_segments,
)
from narraforge.pipeline.metrics import characters_present
from narraforge.pipeline.prompts import coherence_validation as prompt
from narraforge.pipeline.prompts import continuity as continuity_prompt
from narraforge.pipeline.prompts.common import bible
from narraforge.pipeline.stages.calls import (
    ask_json,
    ask_json_completion,
    ask_text,
    characters,
    draft_text,
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


def _revise(ctx: StageContext, plan: dict[str, Any], text: str, flags: list[Flag], missing: list[str],
            contradictions: list[str]) -> str | None:
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
            continuity=contradictions,
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


def run_window(ctx: StageContext, window: int) -> dict[str, Any]:
    """One judging window: the judge's review of its segments' drafts and, for a story whose world locks
    rules, the model's reading of them against those rules. A reply that cannot be used is recorded as a
    fallback (the window is not judged), never a failed job."""
    all_plans = plans(ctx)
    indices = window_segments(window, len(all_plans))
    facts = [segment_facts(all_plans[i], draft_text(ctx, i), ctx.brief.language) for i in indices]
    out: dict[str, Any] = {"window": window, "segments": indices,
                           "words": sum(f["word_count"] for f in facts) or 1,
                           "review": None, "judged": False, "locked_rules": None, "fallbacks": []}
    span = f"segments {indices[0]}..{indices[-1]}"
    try:
        review, completion = ask_json_completion(
            ctx,
            ModelRole.JUDGING,
            prompt.judge_messages(ctx.brief, segments=facts, premise=interpretation(ctx)["premise"]),
            name=prompt.SCHEMA_NAME,
            model=Review,
            max_tokens=700 + 80 * len(indices),
            temperature=0.2,
        )
        out["review"] = review.model_dump()
        out["judged"] = completion.metadata.get("engine") != "offline"
    except LlmBadOutput as exc:  # a judge that cannot fill the rubric (a weak model): the work stays unjudged
        out["fallbacks"].append({"stage": ctx.stage.value, "field": f"scores ({span})",
                                 "reason": f"not judged: {str(exc)[:200]}"})
    rules = _rules_to_ask(ctx, world_context.for_later_stage(ctx))
    if rules:
        try:
            reply = ask_json(
                ctx,
                ModelRole.JUDGING,
                continuity_prompt.locked_rules_messages(ctx.brief, rules=rules, segments=facts),
                name=continuity_prompt.SCHEMA_NAME,
                model=continuity.ContinuityReply,
                max_tokens=200 + 120 * len(indices),
                temperature=0.2,
            )
            out["locked_rules"] = reply.model_dump()
        except LlmBadOutput as exc:  # an unreadable reply is a window not checked, never a failed job
            out["fallbacks"].append({"stage": ctx.stage.value, "field": f"continuity ({span})",
                                     "reason": f"locked rules not checked: {str(exc)[:200]}"})
    return out


def finalize(ctx: StageContext) -> dict[str, Any]:
    """The windows' reviews aggregated, the continuity findings gathered, and at most MAX_REVISIONS flagged
    segments rewritten, side by side (each revision reads only its own segment)."""
    all_plans = plans(ctx)
    drafts = ctx.segment_outputs(Stage.SEGMENT_GENERATION)
    windows = ctx.segment_outputs(Stage.COHERENCE_VALIDATION)
    language = ctx.brief.language
    facts = [segment_facts(p, d["text"], language) for p, d in zip(all_plans, drafts, strict=True)]
    reviewed = [w for w in windows if w["review"] is not None]
    reviews = [(Review.model_validate(w["review"]), w["words"]) for w in reviewed]
    flags = [f for w, (review, _) in zip(reviewed, reviews, strict=True)
             for f in review.flagged_segments if f.index in w["segments"]]
    fallbacks = [f for w in windows for f in w["fallbacks"]]
    judged = bool(windows) and all(w["judged"] for w in windows)
    scores: dict[str, float | None]
    scores, reasons = _aggregate(reviews) if judged else (dict.fromkeys(SCORE_KEYS), {})
    bar = revision_bar()
    overall = scores["overall_score"]
    texts = [d["text"] for d in drafts]
    check = _continuity(ctx, texts, windows)
    findings = check.findings if check else []
    texts = [_restore_places(t, [f for f in findings if f.segment == i]) for i, t in enumerate(texts)]
    candidates = [(f.severity, f.index) for f in flags] if overall is not None and overall < bar else []
    candidates += [(f.severity, f.segment) for f in findings if f.kind != continuity.RENAMED_PLACE]
    chosen = list(dict.fromkeys(index for _, index in sorted(candidates, key=lambda c: (-c[0], c[1]))))
    chosen = chosen[:MAX_REVISIONS]
    revisions = {str(i): texts[i] for i, d in enumerate(drafts) if texts[i] != d["text"]}

    def revise(index: int) -> str | None:
        return _revise(
            ctx,
            all_plans[index],
            texts[index],
            [f for f in flags if f.index == index],
            facts[index]["missing_characters"],
            [continuity_prompt.issue_text(f.as_dict()) for f in findings
             if f.segment == index and f.kind != continuity.RENAMED_PLACE],  # a place is already put right
        )

    with ThreadPoolExecutor(max_workers=max(1, len(chosen))) as pool:
        rewritten = list(pool.map(revise, chosen))
    for index, revised in zip(chosen, rewritten, strict=True):
        if revised is not None:
            revisions[str(index)] = _restore_places(revised, [f for f in findings if f.segment == index])
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
        "continuity_violations": _report(check, [revisions.get(str(i), d["text"]) for i, d in enumerate(drafts)],
                                         language),
    }


@dataclass(frozen=True)
class _Check:
    """The continuity check's inputs and findings: what the world says, and whether a model read the locked
    rules (it is not asked offline, nor when the world locks none)."""

    facts: continuity.WorldFacts
    findings: list[continuity.Finding]
    rules_checked: bool


def _rules_to_ask(ctx: StageContext, view: world_context.WorldView | None) -> list[str]:
    """The world's locked rules when a model is to read the story against them (none offline, none without a
    world)."""
    if view is None or interpretation(ctx).get("engine") == "offline":
        return []
    return [world_context.rule_text(r) for r in view.document.get("rules") or [] if r.get("locked")]


def _continuity(ctx: StageContext, texts: list[str], windows: list[dict[str, Any]]) -> _Check | None:
    """The drafts checked against the story's world, with the windows' readings of its locked rules (None:
    the story has none)."""
    view = world_context.for_later_stage(ctx)
    if view is None:
        return None
    known = continuity.world_facts(view.document, characters(ctx), world(ctx).get("places") or [])
    found = continuity.check(texts, known, ctx.brief.language)
    rules = _rules_to_ask(ctx, view)
    for window in windows:
        if window["locked_rules"] is not None:
            reply = continuity.ContinuityReply.model_validate(window["locked_rules"])
            found += continuity.locked_rule_findings(reply, window["segments"], texts, rules)
    found.sort(key=lambda f: (-f.severity, f.segment))
    checked = bool(rules) and all(w["locked_rules"] is not None for w in windows)
    return _Check(known, found, checked)


def _restore_places(text: str, findings: list[continuity.Finding]) -> str:
    """One segment's renamed places put back to the world's names (a rule: no model is asked)."""
    for finding in findings:
        if finding.kind == continuity.RENAMED_PLACE:
            text = continuity.restore_place(text, finding)
    return text


def _report(check: _Check | None, final: list[str], language: str) -> dict[str, Any]:
    """Found and fixed: a finding is fixed when the check no longer finds it in the segment's final text."""
    if check is None:
        return {"checked": False, "found": 0, "fixed": 0, "locked_rules_checked": False, "findings": []}
    again = {f.key() for f in continuity.check(final, check.facts, language)}
    findings = []
    for finding in check.findings:
        fixed = not continuity.still_broken(finding, final[finding.segment], again)
        by = ("rule" if finding.kind == continuity.RENAMED_PLACE else "revision") if fixed else None
        findings.append({**finding.as_dict(), "fixed": fixed, "fixed_by": by})
    return {"checked": True, "found": len(findings), "fixed": sum(f["fixed"] for f in findings),
            "locked_rules_checked": check.rules_checked, "findings": findings}
