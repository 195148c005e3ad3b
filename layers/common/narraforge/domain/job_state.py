"""Job states: which are active and resumable, status changes named in JobStatus (the jobs repository builds the
one conditional update that moves `status` and its index key together), and the job's status as people see it
(`GET /jobs/{id}/status`, the WebSocket messages). Shared by the API (cancel, resume) and the pipeline."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from narraforge.data import jobs as jobs_repo
from narraforge.data.jobs import Job
from narraforge.enums import JobStatus
from narraforge.schemas.jobs import JobStatusResponse

RESUMABLE = (JobStatus.FAILED, JobStatus.CANCELLED)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def status_actions(user_id: str, to: JobStatus, *, touch: bool = True) -> list[Action]:
    """`touch=False` when the same update already sets `updated_at`."""
    return jobs_repo.status_actions(user_id, to.value, touch=touch)


def status_in(allowed: Iterable[JobStatus]) -> Condition:
    return jobs_repo.status_in(s.value for s in allowed)


def can_resume(job: Job) -> bool:
    return JobStatus(job.status) in RESUMABLE and not job.narrative_id


def costs_of(job: Job) -> dict[str, float | None]:
    """Estimate and spend as shown to people: unknown (None), never 0, when a model without a known price
    was left out of the estimate or was called (those calls count 0 toward caps and quotas)."""
    return {"estimated_cost_usd": round(float(job.estimated_cost_usd), 6) if job.estimate_known is not False
            else None,
            "actual_cost_usd": None if int(job.unpriced_calls or 0) else round(float(job.actual_cost_usd), 6)}


def to_status(job: Job) -> JobStatusResponse:
    return JobStatusResponse(
        id=job.job_id, status=JobStatus(job.status), current_stage=job.current_stage,
        completed_stages=list(job.completed_stages or []),
        progress_percentage=round(float(job.progress_percentage), 2),
        segments_total=int(job.segments_total) if job.segments_total is not None else None,
        segments_drafted=int(job.segments_drafted or 0),
        **costs_of(job), can_resume=can_resume(job),
        narrative_id=job.narrative_id, error_message=job.error_message,
        updated_at=job.updated_at,
    )
