"""Job rules for the API: create (validate, own, reserve quota, estimate, start), read, cancel, resume."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from narraforge.data import keys
from narraforge.data.base import utcnow
from narraforge.data.models import CheckpointItem, IdempotencyItem, JobItem, StatsItem
from narraforge.data.transactions import Transaction
from narraforge.enums import JobStatus
from narraforge.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from narraforge.llm.factory import is_offline
from narraforge.llm.pricing import estimate_job_cost
from narraforge.observability import logger, metrics
from narraforge.schemas.briefs import ProductionBrief
from narraforge.schemas.jobs import JobCreateRequest, JobResponse, JobStatusResponse, StageUsage
from narraforge.services import executions, quotas
from narraforge.services import projects as project_service
from narraforge.services.identity import CurrentUser
from narraforge.services.job_state import ACTIVE, RESUMABLE, can_resume, status_actions, status_in
from narraforge.services.pagination import PageResult, fetch_page
from narraforge.services.tiers import limits_for

NOT_FOUND = "Job not found"
IDEMPOTENCY_TTL = timedelta(hours=24)


def body_hash(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def create(current: CurrentUser, body: JobCreateRequest, idempotency_key: str | None) -> tuple[JobItem, bool]:
    """Returns (job, created). A repeated Idempotency-Key with the same body returns the first job."""
    project_service.get(current.id, body.project_id)
    job, created = reserve(current, body.project_id, body.production_brief, idempotency_key,
                           body_hash(body.model_dump(mode="json")))
    return (start(job) if created else job), created


def reserve(
    current: CurrentUser,
    project_id: str,
    brief: ProductionBrief,
    idempotency_key: str | None,
    request_hash: str,
    **extra: Any,
) -> tuple[JobItem, bool]:
    """Plan limits, then one transaction: the quota reservation, the QUEUED job (with `extra`
    attributes) and the idempotency marker. Nothing is started yet."""
    user = current.user
    if idempotency_key:
        replay = _replayed(current.id, idempotency_key, request_hash)
        if replay is not None:
            return replay, False
    max_words = limits_for(user.subscription_tier).max_brief_words
    if max_words is not None and brief.target_length > max_words:
        raise LimitExceeded(
            f"The {user.subscription_tier} plan allows briefs of at most {max_words} words",
            details={"max_target_length": max_words, "target_length": brief.target_length},
        )
    estimate = round(estimate_job_cost(brief, offline=is_offline()), 6)
    month = quotas.current_month()
    usage, usage_actions, usage_condition = quotas.reservation(user, month, estimate)

    job_id = keys.new_id()
    job = JobItem(
        *JobItem.key(current.id, job_id),
        job_id=job_id, user_id=current.id, project_id=project_id,
        status=JobStatus.QUEUED.value, brief=brief.model_dump(mode="json"),
        estimated_cost_usd=estimate, usage_month=month,
        provider="offline" if is_offline() else "openai",
        gsi1pk=keys.project_gsi1pk(project_id), gsi1sk=keys.job_sk(job_id),
        gsi2pk=keys.job_status_gsi2pk(current.id, JobStatus.QUEUED.value), gsi2sk=job_id,
        **extra,
    )
    tx = Transaction()
    try:
        with tx:
            tx.update("quota", usage, actions=usage_actions, condition=usage_condition)
            tx.save("job", job, condition=JobItem.pk.does_not_exist())
            tx.update("stats", StatsItem(*StatsItem.key()),
                      actions=[StatsItem.jobs_created.add(1), StatsItem.tag()])
            if idempotency_key:
                marker = IdempotencyItem(*IdempotencyItem.key(current.id, idempotency_key),
                                         body_hash=request_hash, job_id=job_id)
                marker.ttl = utcnow() + IDEMPOTENCY_TTL
                tx.save("idempotency", marker, condition=IdempotencyItem.pk.does_not_exist())
    except TransactWriteError as exc:
        failed = tx.failed(exc)
        if "idempotency" in failed:
            replay = _replayed(current.id, idempotency_key or "", request_hash)
            if replay is not None:
                return replay, False
        if "quota" in failed:
            raise quotas.limit_error(user, month, estimate) from exc
        raise
    metrics.add_metric(name="JobsCreated", unit="Count", value=1)
    logger.info("job created", extra={"job_id": job_id, "project_id": project_id})
    return job, True


def _replayed(user_id: str, idempotency_key: str, body_hash: str) -> JobItem | None:
    try:
        marker = IdempotencyItem.get(*IdempotencyItem.key(user_id, idempotency_key), consistent_read=True)
    except DoesNotExist:
        return None
    if marker.body_hash != body_hash:
        raise InvalidInput(
            "This Idempotency-Key was already used with a different request body",
            details=[{"loc": ["header", "Idempotency-Key"], "msg": "reused with another body"}],
        )
    return get(user_id, marker.job_id)


def start(job: JobItem) -> JobItem:
    """Starts the execution; if Step Functions refuses, the job fails and its generation is refunded."""
    try:
        arn = executions.start(job.job_id, job.user_id, int(job.retry_count or 0))
    except Exception:
        fail_and_refund(job, "The pipeline could not be started", allowed=(JobStatus.QUEUED,))
        raise
    job.update(actions=[JobItem.execution_arn.set(arn)])
    return job


def fail_and_refund(job: JobItem, message: str, *, allowed: tuple[JobStatus, ...], stage: str | None = None,
                    to: JobStatus = JobStatus.FAILED) -> bool:
    """Ends an active job. If it produced no narrative, its generation goes back to the month's quota —
    once: `quota_held` flips in the same transaction as the refund. Returns False if it was not active."""
    actions = [*status_actions(job.user_id, to), JobItem.error_message.set(message),
               JobItem.completed_at.set(utcnow())]
    if stage:
        actions.append(JobItem.failed_stage.set(stage))
    refundable = bool(job.quota_held) and not job.narrative_id
    counter = StatsItem.jobs_failed if to is JobStatus.FAILED else StatsItem.jobs_cancelled
    tx = Transaction()
    try:
        with tx:
            if refundable:
                actions.append(JobItem.quota_held.set(False))
                usage, usage_actions = quotas.refund(job)
                tx.update("refund", usage, actions=usage_actions)
            condition = status_in(allowed)
            if refundable:
                condition &= JobItem.quota_held == True  # noqa: E712 - a DynamoDB condition
            tx.update("job", job, actions=actions, condition=condition)
            tx.update("stats", StatsItem(*StatsItem.key()), actions=[counter.add(1), StatsItem.tag()])
    except TransactWriteError as exc:
        if "job" in tx.failed(exc):
            return False
        raise
    job.refresh(consistent_read=True)
    metrics.add_metric(name="JobsFailed" if to is JobStatus.FAILED else "JobsCancelled", unit="Count", value=1)
    return True


def get(user_id: str, job_id: str, *, consistent: bool = False) -> JobItem:
    try:
        return JobItem.get(*JobItem.key(user_id, job_id), consistent_read=consistent)
    except DoesNotExist as exc:
        raise NotFound(NOT_FOUND) from exc


def list_page(user_id: str, *, project_id: str | None, status: JobStatus | None, page: int, page_size: int,
              cursor: str | None) -> PageResult[JobItem]:
    """By status: GSI2 (user+status). By project: GSI1, filtered to this user. Else: the user's partition."""
    scope = f"jobs:{user_id}:{project_id}:{status}"
    owner = JobItem.user_id == user_id
    if status is not None:
        index, hash_key, key_attrs = JobItem.gsi2, keys.job_status_gsi2pk(user_id, status.value), \
            ("pk", "sk", "gsi2pk", "gsi2sk")
        condition = None
        filt = (JobItem.project_id == project_id) if project_id else None
    elif project_id is not None:
        index, hash_key, key_attrs = JobItem.gsi1, keys.project_gsi1pk(project_id), ("pk", "sk", "gsi1pk", "gsi1sk")
        condition = JobItem.gsi1sk.startswith(keys.JOB_PREFIX)
        filt = owner
    else:
        index, hash_key, key_attrs = None, keys.user_pk(user_id), ("pk", "sk")
        condition = JobItem.sk.startswith(keys.JOB_PREFIX)
        filt = None
    source = index if index is not None else JobItem
    return fetch_page(
        lambda **kw: source.query(hash_key, condition, filter_condition=filt, scan_index_forward=False, **kw),
        lambda: source.count(hash_key, condition, filter_condition=filt),
        page=page, page_size=page_size, cursor=cursor, scope=scope, key_attributes=key_attrs,
    )


def stage_usage(job_id: str) -> list[StageUsage]:
    rows = CheckpointItem.query(keys.job_pk(job_id), CheckpointItem.sk.startswith("STAGE#"))
    return [StageUsage(stage=c.stage, llm_calls=int(c.llm_calls), prompt_tokens=int(c.prompt_tokens),
                       completion_tokens=int(c.completion_tokens), cost_usd=round(float(c.cost_usd), 6),
                       duration_seconds=round(float(c.duration_seconds), 3), completed_at=c.completed_at)
            for c in rows]


def cancel(user_id: str, job_id: str) -> JobItem:
    job = get(user_id, job_id, consistent=True)
    if JobStatus(job.status) not in ACTIVE:
        raise Conflict(f"A {job.status} job cannot be cancelled", details={"status": job.status})
    if not fail_and_refund(job, "Cancelled by the user", allowed=ACTIVE, to=JobStatus.CANCELLED):
        raise Conflict("The job changed state; reload it", details={"status": get(user_id, job_id).status})
    executions.stop(job.execution_arn, "Cancelled by the user")
    logger.info("job cancelled", extra={"job_id": job_id})
    return job


def resume(current: CurrentUser, job_id: str) -> JobItem:
    """Continues a FAILED/CANCELLED job in a new execution (`<jid>-r<n>`); completed stages have
    checkpoints and are skipped, so they are neither re-run nor re-billed. Takes a generation again."""
    job = get(current.id, job_id, consistent=True)
    if not can_resume(job):
        raise Conflict(f"A {job.status} job cannot be resumed", details={"status": job.status})
    month = quotas.current_month()
    usage, usage_actions, usage_condition = quotas.reservation(current.user, month, 0.0)
    retry = int(job.retry_count or 0) + 1
    actions = [*status_actions(current.id, JobStatus.QUEUED), JobItem.retry_count.set(retry),
               JobItem.error_message.remove(), JobItem.failed_stage.remove(), JobItem.completed_at.remove(),
               JobItem.quota_held.set(True), JobItem.usage_month.set(month)]
    tx = Transaction()
    try:
        with tx:
            tx.update("quota", usage, actions=usage_actions, condition=usage_condition)
            tx.update("job", job, actions=actions,
                      condition=status_in(RESUMABLE) & (JobItem.retry_count == job.retry_count))
    except TransactWriteError as exc:
        failed = tx.failed(exc)
        if "quota" in failed:
            raise quotas.limit_error(current.user, month, 0.0) from exc
        if "job" in failed:
            raise Conflict("The job changed state; reload it") from exc
        raise
    job.refresh(consistent_read=True)
    logger.info("job resumed", extra={"job_id": job_id, "retry": retry})
    return start(job)


def to_status(job: JobItem) -> JobStatusResponse:
    return JobStatusResponse(
        id=job.job_id, status=JobStatus(job.status), current_stage=job.current_stage,
        completed_stages=list(job.completed_stages or []),
        progress_percentage=round(float(job.progress_percentage), 2),
        estimated_cost_usd=round(float(job.estimated_cost_usd), 6),
        actual_cost_usd=round(float(job.actual_cost_usd), 6), can_resume=can_resume(job),
        narrative_id=job.narrative_id, error_message=job.error_message,
        updated_at=job.updated_at,
    )


def to_response(job: JobItem, *, with_stages: bool = False) -> JobResponse:
    duration = None
    if job.started_at and job.completed_at:
        duration = round((job.completed_at - job.started_at).total_seconds(), 3)
    return JobResponse(
        id=job.job_id, user_id=job.user_id, project_id=job.project_id, status=JobStatus(job.status),
        production_brief=job.brief, current_stage=job.current_stage,
        completed_stages=list(job.completed_stages or []),
        progress_percentage=round(float(job.progress_percentage), 2),
        estimated_cost_usd=round(float(job.estimated_cost_usd), 6),
        actual_cost_usd=round(float(job.actual_cost_usd), 6), tokens_used=int(job.tokens_used),
        started_at=job.started_at, completed_at=job.completed_at, duration_seconds=duration,
        error_message=job.error_message, failed_stage=job.failed_stage, retry_count=int(job.retry_count),
        can_resume=can_resume(job), execution_arn=job.execution_arn, narrative_id=job.narrative_id,
        provider=job.provider, stages=stage_usage(job.job_id) if with_stages else [],
        created_at=job.created_at, updated_at=job.updated_at,
    )

