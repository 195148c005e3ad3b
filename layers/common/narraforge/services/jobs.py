"""Job rules for the API: create (validate, own, reserve quota, estimate, start), read, cancel, resume."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError
from pynamodb.exceptions import TransactWriteError

from narraforge.data import jobs as jobs_repo
from narraforge.data import narratives as narratives_repo
from narraforge.data import s3
from narraforge.data import usage as usage_repo
from narraforge.data import worlds as worlds_repo
from narraforge.data.base import utcnow
from narraforge.data.jobs import Job
from narraforge.data.projects import Project
from narraforge.data.transactions import Transaction
from narraforge.domain import billing, push, quotas
from narraforge.domain.job_state import ACTIVE, RESUMABLE, can_resume, costs_of
from narraforge.domain.refunds import fail_and_refund
from narraforge.domain.tiers import limits_for
from narraforge.enums import JobStatus
from narraforge.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from narraforge.llm.factory import is_offline
from narraforge.llm.pricing import unpriced_models
from narraforge.observability import logger, metrics
from narraforge.pipeline.estimate import (
    CALL_OVERHEAD_SECONDS,
    MODEL_TOKENS_PER_SECOND,
    estimate_job_cost,
    estimate_job_seconds,
    expected_calls,
)
from narraforge.schemas.briefs import ProductionBrief, ProductionBriefRequest
from narraforge.schemas.jobs import (
    JobCreateRequest,
    JobEstimateRequest,
    JobEstimateResponse,
    JobResponse,
    StageUsage,
)
from narraforge.services import executions
from narraforge.services import projects as project_service
from narraforge.services.identity import CurrentUser
from narraforge.services.pagination import PageResult, fetch_page

NOT_FOUND = "Job not found"
IDEMPOTENCY_TTL = timedelta(hours=24)
PREQUEL_RETRY_SECONDS = 5  # a world update is one planning call after publication


def body_hash(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


Admit = Callable[[], None]


def create(current: CurrentUser, body: JobCreateRequest, idempotency_key: str | None,
           admit: Admit | None = None) -> tuple[Job, bool]:
    """Returns (job, created). A repeated Idempotency-Key with the same body returns the first job.
    `admit` (the per-user generation rate limit) runs once the request is known to be valid."""
    project = project_service.get(current.id, body.project_id)
    brief = with_project_defaults(body.production_brief, project)
    check_world_references(current.id, body.project_id, brief)
    job, created = reserve(current, body.project_id, brief, idempotency_key,
                           body_hash(body.model_dump(mode="json")), admit=admit)
    return (start(job) if created else job), created


def check_world_references(user_id: str, project_id: str, brief: ProductionBrief,
                           at: tuple[str, ...] = ("body", "production_brief")) -> None:
    """What the brief names of the project's world must exist: each featured character (by name or id, any
    case), and the narrative a sequel follows — the writer's own, in this project, its world update applied."""
    problems = featured_problems(project_id, brief, at) + sequel_problems(user_id, project_id, brief, at)
    if problems:
        raise InvalidInput("Request validation failed", details=problems)


def featured_problems(project_id: str, brief: ProductionBrief, at: tuple[str, ...]) -> list[dict[str, Any]]:
    if not brief.featured_characters:
        return []
    head = worlds_repo.head(project_id)
    document = worlds_repo.read_document(head) if head else {}
    known = {str(c.get(key)).casefold() for c in document.get("characters") or [] for key in ("id", "name")}
    return [{"loc": [*at, "featured_characters", index],
             "msg": f"no character {name!r} in this project's world" if head else "this project has no world",
             "type": "unknown_character"}
            for index, name in enumerate(brief.featured_characters) if name.casefold() not in known]


def sequel_problems(user_id: str, project_id: str, brief: ProductionBrief,
                    at: tuple[str, ...]) -> list[dict[str, Any]]:
    """A sequel starts from the world its prequel's world update wrote. Another writer's narrative reads as
    missing (its existence is not disclosed); one whose world update is still running is a 409 to retry."""
    if not brief.sequel_of:
        return []
    loc = [*at, "sequel_of"]
    head = narratives_repo.find_head(user_id, brief.sequel_of)
    if head is None or head.project_id != project_id:
        return [{"loc": loc, "msg": f"no narrative {brief.sequel_of!r} of yours in this project",
                 "type": "unknown_narrative"}]
    version = narratives_repo.find_version(head.narrative_id, int(head.version))
    if version is None or worlds_repo.update_of(project_id, version.job_id) is not None:
        return []
    reported = _metadata(version.metadata_key).get("world_update") or {}
    if reported.get("status") == "failed":
        return [{"loc": loc, "type": "prequel_without_world",
                 "msg": f"that story's world update failed ({reported.get('reason', 'no reason recorded')}); "
                        "regenerate it, or write without sequel_of"}]
    raise Conflict("The story this one follows is still writing its facts into the world; retry in a few seconds",
                   headers={"Retry-After": str(PREQUEL_RETRY_SECONDS)})


def _metadata(key: str) -> dict[str, Any]:
    """A narrative version's metadata document ({} when it is gone: a narrative being deleted)."""
    try:
        return dict(s3.get_json(key))
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return {}
        raise


# The Map concurrency of the template's default deployment (SegmentMapConcurrency): the estimate's assumption.
ESTIMATE_MAP_CONCURRENCY = 8


def estimate(current: CurrentUser, body: JobEstimateRequest) -> JobEstimateResponse:
    """The cost and time a brief is expected to take, from the same plan the pipeline follows (the cost
    estimate is the one a job reserves against the cost cap); the time rests on a stated latency model."""
    brief = with_project_defaults(body.production_brief, project_service.get(current.id, body.project_id))
    offline = is_offline()
    unpriced = [] if offline else unpriced_models()
    calls = [] if offline else expected_calls(brief)
    limits = limits_for(current.user.subscription_tier)
    usage = current.usage
    used = int(usage.generations_used) if usage else 0
    within = (limits.max_brief_words is None or brief.target_length <= limits.max_brief_words) and (
        limits.monthly_generations is None or used < limits.monthly_generations)
    assumptions = ("The offline demo engine writes without a model: free, about as fast as shown." if offline else
                   f"Each model call waits {CALL_OVERHEAD_SECONDS:g} s plus its completion at "
                   f"{MODEL_TOKENS_PER_SECOND:g} tokens/s; segments run {ESTIMATE_MAP_CONCURRENCY} at a time for works "
                   "drafted in parallel, one at a time for short ones. A slower model server takes longer.")
    return JobEstimateResponse(
        production_brief=brief, engine="offline" if offline else "openai",
        estimated_cost_usd=None if unpriced else round(estimate_job_cost(brief, offline=offline), 6),
        unpriced_models=unpriced, model_calls=sum(c[2] for c in calls),
        prompt_tokens=sum(c[2] * c[3] for c in calls), completion_tokens=sum(c[2] * c[4] for c in calls),
        estimated_seconds=estimate_job_seconds(brief, offline=offline, map_concurrency=ESTIMATE_MAP_CONCURRENCY),
        assumptions=assumptions, within_plan=within,
    )


def with_project_defaults(brief: ProductionBriefRequest, project: Project) -> ProductionBrief:
    """The brief completed with the project's default type and genre; a field missing from both is
    refused as if the request had left out a required field."""
    values = brief.model_dump(mode="json")
    values["production_type"] = values["production_type"] or project.default_production_type
    values["genre"] = values["genre"] or project.default_genre
    missing = [name for name in ("production_type", "genre") if values[name] is None]
    if missing:
        raise InvalidInput("Request validation failed", details=[
            {"loc": ["body", "production_brief", name], "msg": "Field required", "type": "missing"}
            for name in missing])
    try:
        return ProductionBrief.model_validate(values)
    except ValidationError as exc:  # e.g. the project's default type does not suit target_length
        raise InvalidInput("Request validation failed", details=[
            {"loc": ["body", "production_brief", *[str(p) for p in err["loc"]]], "msg": err["msg"],
             "type": err["type"]} for err in exc.errors()]) from exc


def reserve(
    current: CurrentUser,
    project_id: str,
    brief: ProductionBrief,
    idempotency_key: str | None,
    request_hash: str,
    *,
    admit: Admit | None = None,
    **extra: Any,
) -> tuple[Job, bool]:
    """Plan limits, `admit` (the rate limit: only requests that got this far count against it), then
    one transaction: the quota reservation, the QUEUED job (with `extra` attributes) and the idempotency
    marker. Nothing is started yet."""
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
    if admit is not None:
        admit()
    estimate = round(estimate_job_cost(brief, offline=is_offline()), 6)
    month = quotas.current_month()
    reservation = quotas.reservation(user, month, estimate)
    cost_cap = quotas.job_cost_cap(user, month)
    # One transaction across three aggregates (the month's usage, the job, the idempotency marker), composed
    # here from the repositories' parts: which of them a request takes is this rule's decision.
    tx = Transaction()
    try:
        with tx:
            usage_repo.reserve(tx, reservation)
            job = jobs_repo.put_new(
                tx, user_id=current.id, project_id=project_id,
                status=JobStatus.QUEUED.value, brief=brief.model_dump(mode="json"),
                estimated_cost_usd=estimate, estimate_known=is_offline() or not unpriced_models(),
                usage_month=month, cost_cap_usd=cost_cap,
                provider="offline" if is_offline() else "openai",
                **extra,
            )
            usage_repo.add_to_stats(tx, jobs_created=1)
            if idempotency_key:
                jobs_repo.put_idempotency(tx, current.id, idempotency_key, body_hash=request_hash,
                                          job_id=job.job_id, expires=utcnow() + IDEMPOTENCY_TTL)
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
    logger.info("job created", extra={"job_id": job.job_id, "project_id": project_id})
    return job, True


def _replayed(user_id: str, idempotency_key: str, body_hash: str) -> Job | None:
    marker = jobs_repo.find_idempotency(user_id, idempotency_key)
    if marker is None:
        return None
    if marker.body_hash != body_hash:
        raise InvalidInput(
            "This Idempotency-Key was already used with a different request body",
            details=[{"loc": ["header", "Idempotency-Key"], "msg": "reused with another body"}],
        )
    return get(user_id, marker.job_id)


def start(job: Job) -> Job:
    """Starts the execution; if Step Functions refuses, the job fails and its generation is refunded."""
    try:
        arn = executions.start(job.job_id, job.user_id, int(job.retry_count or 0))
    except Exception:
        fail_and_refund(job, "The pipeline could not be started", allowed=(JobStatus.QUEUED,))
        raise
    jobs_repo.set_execution(job, arn)
    return job


def get(user_id: str, job_id: str, *, consistent: bool = False) -> Job:
    job = jobs_repo.find(user_id, job_id, consistent=consistent)
    if job is None:
        raise NotFound(NOT_FOUND)
    return job


def list_page(user_id: str, *, project_id: str | None, status: JobStatus | None, page: int, page_size: int,
              cursor: str | None) -> PageResult[Job]:
    """By status, by project, or all the user's jobs (the repository picks the index)."""
    listing = jobs_repo.listing(user_id, project_id=project_id, status=status.value if status else None)
    return fetch_page(listing.query, listing.count, page=page, page_size=page_size, cursor=cursor,
                      scope=f"jobs:{user_id}:{project_id}:{status}", key_attributes=listing.key_attributes)


def stage_usage(job_id: str) -> list[StageUsage]:
    return billing.stage_usage(job_id)


def cancel(user_id: str, job_id: str) -> Job:
    job = get(user_id, job_id, consistent=True)
    if JobStatus(job.status) not in ACTIVE:
        raise Conflict(f"A {job.status} job cannot be cancelled", details={"status": job.status})
    if not fail_and_refund(job, "Cancelled by the user", allowed=ACTIVE, to=JobStatus.CANCELLED):
        raise Conflict("The job changed state; reload it", details={"status": get(user_id, job_id).status})
    executions.stop(job.execution_arn, "Cancelled by the user")
    logger.info("job cancelled", extra={"job_id": job_id})
    push.notify(job_id, lambda: push.progress_message(job, "job_cancelled"))
    return job


def resume(current: CurrentUser, job_id: str) -> Job:
    """Continues a FAILED/CANCELLED job in a new execution (`<jid>-r<n>`); completed stages have
    checkpoints and are skipped, so they are neither re-run nor re-billed. A job whose generation was
    given back takes one again; one that kept it (it drafted) does not. Either way the month's cost cap
    must still have room."""
    job = get(current.id, job_id, consistent=True)
    if not can_resume(job):
        raise Conflict(f"A {job.status} job cannot be resumed", details={"status": job.status})
    held = bool(job.quota_held)
    month = quotas.current_month()
    reservation = quotas.reservation(current.user, month, 0.0, generation=not held)
    retry = int(job.retry_count or 0) + 1
    cost_cap = quotas.job_cost_cap(current.user, month, spent=float(job.actual_cost_usd or 0))
    tx = Transaction()
    try:
        with tx:
            usage_repo.reserve(tx, reservation)
            jobs_repo.requeue(tx, job, to=JobStatus.QUEUED.value, resumable=[s.value for s in RESUMABLE],
                              retry=retry, cost_cap_usd=cost_cap, held=held, month=month)
    except TransactWriteError as exc:
        failed = tx.failed(exc)
        if "quota" in failed:
            raise quotas.limit_error(current.user, month, 0.0) from exc
        if "job" in failed:
            raise Conflict("The job changed state; reload it") from exc
        raise
    if not jobs_repo.refresh(job):
        raise NotFound(NOT_FOUND)
    logger.info("job resumed", extra={"job_id": job_id, "retry": retry})
    return start(job)


def to_response(job: Job, *, with_stages: bool = False) -> JobResponse:
    duration = None
    if job.started_at and job.completed_at:
        duration = round((job.completed_at - job.started_at).total_seconds(), 3)
    return JobResponse(
        id=job.job_id, user_id=job.user_id, project_id=job.project_id, status=JobStatus(job.status),
        production_brief=job.brief, current_stage=job.current_stage,
        completed_stages=list(job.completed_stages or []),
        progress_percentage=round(float(job.progress_percentage), 2),
        segments_total=int(job.segments_total) if job.segments_total is not None else None,
        segments_drafted=int(job.segments_drafted or 0),
        **costs_of(job), tokens_used=int(job.tokens_used), llm_calls=int(job.llm_calls or 0),
        unpriced_llm_calls=int(job.unpriced_calls or 0),
        started_at=job.started_at, completed_at=job.completed_at, duration_seconds=duration,
        error_message=job.error_message, failed_stage=job.failed_stage, retry_count=int(job.retry_count),
        can_resume=can_resume(job), execution_arn=job.execution_arn, narrative_id=job.narrative_id,
        provider=job.provider, stages=stage_usage(job.job_id) if with_stages else [],
        created_at=job.created_at, updated_at=job.updated_at,
    )

