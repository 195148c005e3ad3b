"""Job status changes: one conditional update that moves `status` and `gsi2pk` together and names
the states it may leave (DESIGN §5). Shared by the API (cancel, resume) and the pipeline."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from narraforge.data import keys
from narraforge.data.base import utcnow
from narraforge.data.models import JobItem
from narraforge.enums import JobStatus

RESUMABLE = (JobStatus.FAILED, JobStatus.CANCELLED)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def status_actions(user_id: str, to: JobStatus, *, touch: bool = True) -> list[Action]:
    """`touch=False` when the same update already sets `updated_at`."""
    actions = [JobItem.status.set(to.value), JobItem.gsi2pk.set(keys.job_status_gsi2pk(user_id, to.value))]
    return [*actions, JobItem.updated_at.set(utcnow())] if touch else actions


def status_in(allowed: Iterable[JobStatus]) -> Condition:
    return JobItem.status.is_in(*[s.value for s in allowed])


def can_resume(job: JobItem) -> bool:
    return JobStatus(job.status) in RESUMABLE and not job.narrative_id
