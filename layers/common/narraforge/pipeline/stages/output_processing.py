"""Stage 10: assemble the delivered narrative (text, metadata, quality metrics) and publish it (pipeline/publish.py)."""

from __future__ import annotations

from typing import Any

from narraforge.enums import Stage
from narraforge.pipeline import metrics
from narraforge.pipeline.context import AssembledNarrative, StageContext
from narraforge.pipeline.job_context import JobStageContext
from narraforge.pipeline.prompts.output_processing import heading, separator
from narraforge.pipeline.publish import publish
from narraforge.pipeline.stages.calls import characters, final_texts, interpretation, plans, world
from narraforge.pipeline.stages.coherence_validation import SCORE_KEYS
from narraforge.pipeline.text import word_count

DEMO_NOTICE = "Demo text, written without a language model"
# What a stage-7 output stored before the continuity check existed reports: nothing checked.
CONTINUITY_NOT_CHECKED = {"checked": False, "found": 0, "fixed": 0, "locked_rules_checked": False, "findings": []}


def judged_scores(coherence: dict[str, Any], engine: str) -> dict[str, Any]:
    """The stage-7 scores with how they were obtained: a model's are judged; without one (the offline engine,
    also in outputs stored before stage 7 recorded `judged`) they are null, never presented as judged."""
    judged = bool(coherence.get("judged", engine != "offline"))
    scores = coherence["scores"] if judged else dict.fromkeys(SCORE_KEYS)
    return {
        **scores,
        "judged": judged,
        "overall_score_source": "model" if judged and scores.get("overall_score") is not None else "none",
        "judge_reasons": coherence["reasons"] if judged else {},
    }


FALLBACK_STAGES = (Stage.BRIEF_INTERPRETATION, Stage.WORLD_ARCHITECTURE, Stage.CHARACTER_ARCHITECTURE,
                   Stage.STRUCTURE_DESIGN, Stage.SEGMENT_PLANNING, Stage.COHERENCE_VALIDATION, Stage.EDITORIAL_REVIEW)


def fallbacks_of(ctx: StageContext) -> list[dict[str, Any]]:
    """Every field the model's replies could not fill, and why: planning and editorial fields that came from
    the deterministic planner, judge windows left unjudged."""
    return [f for stage in FALLBACK_STAGES for f in ctx.output_of(stage).get("fallbacks", [])]


def _body(ctx: StageContext, texts: list[str]) -> str:
    """Segments joined with chapter/act headings or scene breaks, as the production type reads."""
    parts: list[str] = []
    last_act = None
    for plan, text in zip(plans(ctx), texts, strict=True):
        head = heading(
            ctx.brief, index=plan["index"], title=plan["title"], act=plan["act"], new_act=plan["act"] != last_act
        )
        if head:
            parts.append(head)
        elif parts and separator(ctx.brief):
            parts.append(separator(ctx.brief))
        parts.append(text.strip())
        last_act = plan["act"]
    return "\n\n".join(parts) + "\n"


def assemble(ctx: StageContext) -> AssembledNarrative:
    brief = ctx.brief
    texts = final_texts(ctx)
    text = _body(ctx, texts)
    cast = characters(ctx)
    coherence = ctx.output_of(Stage.COHERENCE_VALIDATION)
    editorial = ctx.output_of(Stage.EDITORIAL_REVIEW)
    computed = metrics.compute(
        text, target_length=brief.target_length, character_names=[c["name"] for c in cast], language=brief.language
    )
    engine = interpretation(ctx)["engine"]
    quality = {
        **computed,
        **judged_scores(coherence, engine),
        "revised_segments": coherence["revised_segments"],
    }
    structure = ctx.output_of(Stage.STRUCTURE_DESIGN)
    fallbacks = fallbacks_of(ctx)
    built = world(ctx)
    metadata = {
        "world": {k: v for k, v in built.items() if k not in ("fallbacks", "world_version", "world_entries_used")},
        "world_version": built.get("world_version"),
        "world_entries_used": [*built.get("world_entries_used", []),
                               *ctx.output_of(Stage.CHARACTER_ARCHITECTURE).get("world_entries_used", [])],
        "characters": cast,
        "structure": structure,
        "segments": [
            {
                "index": p["index"],
                "act": p["act"],
                "title": p["title"],
                "target_words": p["target_words"],
                "word_count": word_count(t),
            }
            for p, t in zip(plans(ctx), texts, strict=True)
        ],
        "engine": engine,
        "fallbacks": fallbacks,
        "fallback_count": len(fallbacks),
        "continuity_violations": coherence.get("continuity_violations", CONTINUITY_NOT_CHECKED),
        **({"notice": DEMO_NOTICE} if engine == "offline" else {}),
        "blurb": editorial["blurb"],
        "editorial_notes": editorial["notes"],
        "language": brief.language,
        "production_type": brief.production_type.value,
        "genre": brief.genre.value,
    }
    return AssembledNarrative(
        title=editorial["title"],
        text=text,
        word_count=computed["word_count"],
        metadata=metadata,
        quality_metrics=quality,
    )


def run(ctx: JobStageContext) -> dict[str, Any]:
    """Assembles, then publishes: the narrative stored and the job completed in one transaction that also
    writes this stage's checkpoint (so the registry marks the stage `publishes`)."""
    return publish(ctx, assemble(ctx))
