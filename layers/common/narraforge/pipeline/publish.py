"""Stage 10's persistence: the assembled narrative stored in S3, then one transaction that completes the job
and writes the narrative (head + version 1, or a new version of a regenerated narrative), project stats and
the usage log — all or nothing. (The month's cost usage was billed call by call.)

A first version takes the job's id as the narrative id and a regeneration keeps the version number it took on
its first attempt (`_version_number`), so a retried stage 10 rewrites the same S3 keys instead of orphaning
objects, and two regenerations never write the same key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from narraforge.data import narratives, s3
from narraforge.data.base import utcnow
from narraforge.data.models import CheckpointItem, JobItem, NarrativeItem, NarrativeVersionItem, ProjectItem, StatsItem
from narraforge.data.transactions import Transaction
from narraforge.domain.billing import log_item
from narraforge.domain.job_state import status_actions
from narraforge.enums import JobStatus
from narraforge.errors import JobCancelled, ValidationFailed
from narraforge.observability import logger, metrics
from narraforge.pipeline.checkpoints import checkpoint_item, head_actions
from narraforge.pipeline.context import AssembledNarrative
from narraforge.pipeline.job_context import JobStageContext

MAX_HEAD_RACES = 10


def publish(ctx: JobStageContext, assembled: AssembledNarrative) -> dict[str, Any]:
    """Stores and publishes `assembled`, writing stage 10's checkpoint in the transaction that completes
    the job; returns the stage's output (where the narrative went)."""
    job = ctx.job
    narrative_id = job.target_narrative_id or job.job_id
    version = _version_number(job)
    text_key = s3.narrative_text_key(narrative_id, version)
    metadata_key = s3.narrative_metadata_key(narrative_id, version)
    s3.put_text(text_key, assembled.text)
    s3.put_json(metadata_key, assembled.metadata)
    stage_key = s3.stage_key(job.job_id, ctx.stage.number, ctx.stage.value)
    output = {"narrative_id": narrative_id, "version": version, "word_count": assembled.word_count}
    ctx.store(stage_key, output)
    job.refresh(consistent_read=True)  # every call is already billed on the head
    bill = _Bill(
        cost=round(float(job.actual_cost_usd or 0), 8),
        tokens=int(job.tokens_used or 0),
        duration=ctx.elapsed(),
        unpriced_calls=int(job.unpriced_calls or 0),
    )
    version_item = narratives.new_version(
        narrative_id, version, job_id=job.job_id, text_key=text_key, metadata_key=metadata_key,
        word_count=assembled.word_count, quality_metrics=assembled.quality_metrics,
        parent_version=job.parent_version, instructions=job.instructions, created_at=utcnow(),
    )
    if job.target_narrative_id:
        _publish_version(ctx, stage_key, version_item, assembled, bill)
    else:
        _publish_first(ctx, stage_key, version_item, assembled, bill)
    metrics.add_metric(name="JobsCompleted", unit="Count", value=1)
    metrics.add_metric(name="NarrativeWords", unit="Count", value=assembled.word_count)
    metrics.add_metric(name="JobTokens", unit="Count", value=bill.tokens)
    metrics.add_metric(name="JobCostUsd", unit="None", value=bill.cost)
    score = assembled.quality_metrics.get("overall_score")
    if score is not None:
        metrics.add_metric(name="OverallScore", unit="None", value=float(score))
    logger.info("narrative published", extra={"narrative_id": narrative_id, "version": version,
                                              "words": assembled.word_count})
    return output


def _version_number(job: JobItem) -> int:
    """1 for a first narrative. A regeneration takes its narrative's next number when it first reaches
    stage 10 (an atomic counter on the head) and records it on the job, which a retry then reuses.
    Numbers follow publication order, and a regeneration that fails earlier takes none."""
    if not job.target_narrative_id:
        return 1
    if job.target_version is None:
        number = narratives.take_version_number(job.user_id, job.target_narrative_id)
        if number is None:
            raise ValidationFailed("the narrative was deleted while the job ran")
        try:
            job.update(actions=[JobItem.target_version.set(number)],
                       condition=JobItem.target_version.does_not_exist())
        except UpdateError:
            job.refresh(consistent_read=True)  # a concurrent attempt numbered it first
    return int(job.target_version)


@dataclass(frozen=True)
class _Bill:
    cost: float
    tokens: int
    duration: float
    unpriced_calls: int


def _completion(tx: Transaction, ctx: JobStageContext, stage_key: str, narrative_id: str, bill: _Bill) -> None:
    """The operations every publication shares: checkpoint, job COMPLETED, usage log entry."""
    job = ctx.job
    log = log_item(job, JobStatus.COMPLETED, narrative_id)
    job_actions = [*head_actions(ctx), *status_actions(job.user_id, JobStatus.COMPLETED, touch=False),
                   JobItem.narrative_id.set(narrative_id), JobItem.completed_at.set(utcnow())]
    tx.save("checkpoint", checkpoint_item(ctx, ctx.checkpoint_sk, stage_key, bill.duration),
            condition=CheckpointItem.pk.does_not_exist())
    tx.update("job", job, actions=job_actions, condition=JobItem.status == JobStatus.RUNNING.value)
    tx.save("log", log)


def _raise_for(failed: set[str], exc: TransactWriteError) -> None:
    if "job" in failed:
        raise JobCancelled("job is no longer running; the narrative was not published") from exc
    if "project" in failed or "narrative" in failed:
        raise ValidationFailed("the project or narrative was deleted while the job ran") from exc
    raise exc


def _publish_first(ctx: JobStageContext, stage_key: str, version_item: NarrativeVersionItem,
                   assembled: AssembledNarrative, bill: _Bill) -> None:
    job, brief = ctx.job, ctx.brief
    head = narratives.new_head(
        version_item, user_id=job.user_id, project_id=job.project_id, title=assembled.title,
        production_type=brief.production_type.value, genre=brief.genre.value, cost_usd=bill.cost,
        unpriced_calls=bill.unpriced_calls, tokens_used=bill.tokens,
    )
    tx = Transaction()
    try:
        with tx:
            _completion(tx, ctx, stage_key, version_item.narrative_id, bill)
            tx.save("narrative_new", head, condition=NarrativeItem.pk.does_not_exist())
            tx.save("version", version_item, condition=NarrativeVersionItem.pk.does_not_exist())
            tx.update("project", ProjectItem(*ProjectItem.key(job.user_id, job.project_id)),
                      actions=[ProjectItem.narrative_count.add(1),
                               ProjectItem.total_word_count.add(assembled.word_count),
                               ProjectItem.total_cost_usd.add(bill.cost), ProjectItem.updated_at.set(utcnow())],
                      condition=ProjectItem.pk.exists())
            tx.update("stats", StatsItem(*StatsItem.key()),
                      actions=[StatsItem.narratives.add(1), StatsItem.words.add(assembled.word_count),
                               StatsItem.tokens.add(bill.tokens), StatsItem.cost_usd.add(bill.cost),
                               StatsItem.jobs_completed.add(1), StatsItem.tag()])
    except TransactWriteError as exc:
        failed = tx.failed(exc)
        if "checkpoint" in failed:
            logger.info("narrative already published by a concurrent invocation")
            return
        _raise_for(failed, exc)


def _publish_version(ctx: JobStageContext, stage_key: str, version_item: NarrativeVersionItem,
                     assembled: AssembledNarrative, bill: _Bill) -> None:
    """Adds version n to an existing narrative. The head moves to n only if it still shows an older
    version (optimistic concurrency on `version`): concurrent regenerations each add their version and
    the head ends on the newest; none is lost."""
    job = ctx.job
    nid, number = version_item.narrative_id, int(version_item.number)
    for _ in range(MAX_HEAD_RACES):
        head = narratives.find_head(job.user_id, nid)
        if head is None:
            raise ValidationFailed("the project or narrative was deleted while the job ran")
        current = int(head.version)
        becomes_current = number > current
        word_delta = assembled.word_count - int(head.word_count) if becomes_current else 0
        tx = Transaction()
        try:
            with tx:
                _completion(tx, ctx, stage_key, nid, bill)
                tx.save("version", version_item, condition=NarrativeVersionItem.pk.does_not_exist())
                head_changes = [NarrativeItem.generation_cost_usd.add(bill.cost),
                                NarrativeItem.unpriced_calls.add(bill.unpriced_calls),
                                NarrativeItem.tokens_used.add(bill.tokens), NarrativeItem.updated_at.set(utcnow())]
                if becomes_current:
                    head_changes += [NarrativeItem.version.set(number), NarrativeItem.job_id.set(job.job_id),
                                     NarrativeItem.word_count.set(assembled.word_count)]
                    if not head.title_by_user:
                        head_changes.append(NarrativeItem.title.set(assembled.title))
                    # A version nobody judged shows no score, not the score of the version before it.
                    score = assembled.quality_metrics.get("overall_score")
                    head_changes.append(NarrativeItem.overall_quality_score.set(score) if score is not None
                                        else NarrativeItem.overall_quality_score.remove())
                tx.update("narrative", head, actions=head_changes,
                          condition=NarrativeItem.pk.exists() & (NarrativeItem.version == current))
                tx.update("project", ProjectItem(*ProjectItem.key(job.user_id, job.project_id)),
                          actions=[ProjectItem.total_word_count.add(word_delta),
                                   ProjectItem.total_cost_usd.add(bill.cost), ProjectItem.updated_at.set(utcnow())],
                          condition=ProjectItem.pk.exists())
                tx.update("stats", StatsItem(*StatsItem.key()),
                          actions=[StatsItem.words.add(word_delta), StatsItem.tokens.add(bill.tokens),
                                   StatsItem.cost_usd.add(bill.cost), StatsItem.jobs_completed.add(1),
                                   StatsItem.tag()])
            return
        except TransactWriteError as exc:
            failed = tx.failed(exc)
            if "checkpoint" in failed or "version" in failed:
                logger.info("version already published by a concurrent invocation")
                return
            if failed == {"narrative"}:
                continue  # another regeneration moved the head: re-read and try again
            _raise_for(failed, exc)
    raise ValidationFailed("the narrative head kept changing; resume the job to publish this version")
