"""The stage contract, in one place every stage goes through:

1. a stage (or segment) whose checkpoint exists returns without work — Retry, resume and duplicate
   invocations are safe and never billed twice;
2. a cancelled job stops with `JobCancelled`; the cost cap is checked before every LLM call (job_context.py);
3. output goes to S3 first, then one transaction writes the checkpoint and updates the job head,
   conditional on the job still RUNNING — a late write of a cancelled job is dropped (checkpoints.py;
   stage 10 writes its checkpoint in the transaction that publishes the narrative, publish.py);
4. errors are typed so the state machine can retry or record them.
"""

from __future__ import annotations

import time
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from narraforge.data import s3
from narraforge.data.base import utcnow
from narraforge.data.models import JobItem
from narraforge.enums import JobStatus, Stage
from narraforge.errors import JobCancelled
from narraforge.llm.base import Provider
from narraforge.observability import logger, stage_duration
from narraforge.pipeline import checkpoints
from narraforge.pipeline.job_context import JobStageContext
from narraforge.pipeline.layout import DISTRIBUTED_MAP_SEGMENTS, window_count
from narraforge.pipeline.stages import STAGES, StageSpec

MAP_STAGES = (Stage.SEGMENT_GENERATION, Stage.COHERENCE_VALIDATION, Stage.LANGUAGE_STYLIZATION)


def map_concurrency(plan: dict[str, Any], limit: int) -> int:
    """Sequential mode (short works: each draft reads the previous real text) drafts one at a time."""
    return 1 if plan.get("mode") == "sequential" else max(1, limit)


def map_run(plan: dict[str, Any] | None, limit: int) -> dict[str, Any]:
    """What the state machine's Maps iterate, from the segment plan (none yet: nothing to iterate): the segments,
    the judging windows, the drafting concurrency, and whether the Maps run distributed (a long work)."""
    count = len(plan["segments"]) if plan else 0
    return {"segments": list(range(count)), "windows": list(range(window_count(count))),
            "map_concurrency": map_concurrency(plan, limit) if plan else 1,
            "distributed": count > DISTRIBUTED_MAP_SEGMENTS}


def load_job(user_id: str, job_id: str) -> JobItem:
    try:
        return JobItem.get(*JobItem.key(user_id, job_id), consistent_read=True)
    except DoesNotExist as exc:
        raise JobCancelled(f"job {job_id} no longer exists") from exc


def run_stage(
    job: JobItem,
    stage: Stage,
    provider: Provider,
    *,
    segment: int | None = None,
    max_concurrency: int = 1,
) -> dict[str, Any]:
    """Runs one stage, one segment of a Map stage, or (no segment) a Map stage's finalize step.
    `max_concurrency` is the Map limit of the deployment; segment planning answers with the one to use."""
    ctx = JobStageContext(job=job, stage=stage, segment=segment, provider=provider, instructions=job.instructions)
    if checkpoints.checkpoint_exists(job.job_id, ctx.checkpoint_sk):
        logger.info("checkpoint exists; skipping", extra={"segment": segment})
        return _result(ctx, max_concurrency)
    mark_started(job, stage)
    ctx.started = time.perf_counter()
    _execute(ctx, STAGES[stage])
    duration = ctx.elapsed()
    stage_duration(stage.value, duration)
    logger.info("stage complete", extra={"segment": segment, "llm_calls": ctx.usage.calls,
                                         "tokens": ctx.usage.prompt_tokens + ctx.usage.completion_tokens,
                                         "seconds": round(duration, 3)})
    return _result(ctx, max_concurrency)


def _execute(ctx: JobStageContext, spec: StageSpec) -> None:
    """Runs the stage's code, stores its output and commits its checkpoint (a publishing stage commits its own)."""
    job_id, stage = ctx.job_id, ctx.stage
    if spec.publishes:
        spec.run(ctx)  # type: ignore[misc]
        return
    if ctx.segment is not None:
        output = spec.run_segment(ctx, ctx.segment)  # type: ignore[misc]
        key = s3.segment_key(job_id, stage.number, ctx.segment)
    elif stage in MAP_STAGES:
        output = spec.finalize(ctx) if spec.finalize else {}
        key = s3.stage_key(job_id, stage.number, stage.value)
    else:
        output = spec.run(ctx)  # type: ignore[misc]
        key = s3.stage_key(job_id, stage.number, stage.value)
    ctx.store(key, output)
    checkpoints.commit_checkpoint(ctx, ctx.checkpoint_sk, key, ctx.elapsed())


def mark_started(job: JobItem, stage: Stage) -> None:
    """Shows the stage in progress as `current_stage` (conditional: a cancelled job stays cancelled)."""
    try:
        job.update(
            actions=[JobItem.current_stage.set(stage.value), JobItem.updated_at.set(utcnow())],
            condition=JobItem.status == JobStatus.RUNNING.value,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise JobCancelled("job is no longer running") from exc
        raise


def _result(ctx: JobStageContext, max_concurrency: int) -> dict[str, Any]:
    """What the state machine receives: small (ids and counts), never the text."""
    result: dict[str, Any] = {"stage": ctx.stage.value}
    if ctx.stage is Stage.SEGMENT_PLANNING and ctx.segment is None:
        result |= map_run(ctx.output_of(Stage.SEGMENT_PLANNING), max_concurrency)
    if ctx.segment is not None:
        result["segment"] = ctx.segment
    return result
