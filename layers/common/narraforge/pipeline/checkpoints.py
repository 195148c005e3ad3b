"""Checkpoints as the pipeline writes them: a finished stage or Map segment is one transaction that writes
its checkpoint and moves the job head on (progress, current stage), conditional on the job still RUNNING —
a late write of a cancelled job is dropped, and a checkpoint written by a concurrent invocation is not
written (or billed) twice. Raw reads are in data/checkpoints.py."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError

from narraforge.data import checkpoints, keys
from narraforge.data.base import utcnow
from narraforge.data.models import CheckpointItem, JobItem
from narraforge.data.transactions import Transaction
from narraforge.domain.stages import RUNS_BESIDE, STAGE_WEIGHTS, progress_through
from narraforge.enums import JobStatus, Stage
from narraforge.errors import JobCancelled
from narraforge.observability import logger
from narraforge.pipeline.job_context import JobStageContext, segment_count
from narraforge.pipeline.layout import map_items


def checkpoint_exists(job_id: str, sk: str) -> bool:
    return checkpoints.exists(job_id, sk)


def completed_stages(job_id: str) -> set[Stage]:
    return {Stage(row.stage) for row in checkpoints.stage_rows(job_id)}


def checkpoint_item(ctx: JobStageContext, sk: str, key: str, duration: float) -> CheckpointItem:
    return CheckpointItem(
        keys.job_pk(ctx.job_id),
        sk,
        job_id=ctx.job_id,
        stage=ctx.stage.value,
        segment=ctx.segment,
        s3_key=key,
        prompt_tokens=ctx.usage.prompt_tokens,
        completion_tokens=ctx.usage.completion_tokens,
        cost_usd=round(ctx.usage.cost_usd, 8),
        llm_calls=ctx.usage.calls,
        duration_seconds=round(duration, 3),
    )


def head_actions(ctx: JobStageContext) -> list[Any]:
    """Job-head changes of a finished stage or segment: progress and current stage (usage is billed per
    call, as it happens)."""
    actions: list[Any] = [
        JobItem.current_stage.set(ctx.stage.value),
        JobItem.updated_at.set(utcnow()),
    ]
    if ctx.segment is not None:
        share = STAGE_WEIGHTS[ctx.stage] / max(map_items(ctx.stage, segment_count(ctx)), 1)
        actions.append(JobItem.progress_percentage.add(round(share, 4)))
        if ctx.stage is Stage.SEGMENT_GENERATION:
            actions.append(JobItem.segments_drafted.add(1))
    else:
        actions += [
            # a stage that runs beside another completes after it: the bar never moves back
            JobItem.progress_percentage.set(progress_through(RUNS_BESIDE.get(ctx.stage, ctx.stage))),
            JobItem.completed_stages.set(JobItem.completed_stages.append([ctx.stage.value])),
        ]
        if ctx.stage is Stage.SEGMENT_PLANNING:
            actions.append(JobItem.segments_total.set(segment_count(ctx)))
    return actions


def commit_checkpoint(ctx: JobStageContext, sk: str, key: str, duration: float) -> None:
    tx = Transaction()
    try:
        with tx:
            tx.save("checkpoint", checkpoint_item(ctx, sk, key, duration),
                    condition=CheckpointItem.pk.does_not_exist())
            tx.update("job", ctx.job, actions=head_actions(ctx), condition=JobItem.status == JobStatus.RUNNING.value)
    except TransactWriteError as exc:
        failed = tx.failed(exc)
        if "checkpoint" in failed:
            logger.info("checkpoint written by a concurrent invocation; not billed twice")
            return
        if "job" in failed:
            raise JobCancelled("job is no longer running; the stage's write was dropped") from exc
        raise
