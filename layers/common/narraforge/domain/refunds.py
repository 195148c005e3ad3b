"""Ending an active job with its refund: the one transaction that moves it to FAILED or CANCELLED, writes
its usage log entry and gives its generation back when it drafted nothing. The API (cancel, a start Step
Functions refused, a deleted project), the pipeline's failure recorder and the reconciler all end jobs here."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from narraforge.data import jobs as jobs_repo
from narraforge.data import usage as usage_repo
from narraforge.data.jobs import Job
from narraforge.data.transactions import Transaction
from narraforge.domain import quotas
from narraforge.domain.billing import MAX_RACES, log_item
from narraforge.enums import JobStatus
from narraforge.observability import metrics


def fail_and_refund(job: Job, message: str, *, allowed: tuple[JobStatus, ...], stage: str | None = None,
                    to: JobStatus = JobStatus.FAILED) -> bool:
    """Ends an active job and writes its usage log entry. What it spent stays counted (the month's cost
    was billed call by call); its generation goes back to the month's quota only if it produced no
    narrative and no drafting call was billed — once: `quota_held` flips in the same transaction as the
    refund. The transaction also requires the head's call count as read, so a call billed meanwhile
    makes it re-read (the log entry and the refund decision always see every billed call).
    Returns False if the job was not active."""
    counter = "jobs_failed" if to is JobStatus.FAILED else "jobs_cancelled"
    for _ in range(MAX_RACES):
        if JobStatus(job.status) not in allowed:
            return False
        refundable = bool(job.quota_held) and not job.narrative_id and not job.drafting_billed
        log = log_item(job, to)
        tx = Transaction()
        try:
            with tx:
                if refundable:
                    quotas.refund(tx, job.user_id, job.usage_month)
                jobs_repo.end(tx, job, to=to.value, message=message, stage=stage,
                              allowed=[s.value for s in allowed], release_quota=refundable)
                usage_repo.add_to_stats(tx, **{counter: 1})
                usage_repo.put_log(tx, log)
        except TransactWriteError as exc:
            if "job" not in tx.failed(exc):
                raise
            if not jobs_repo.refresh(job):
                return False
            continue
        jobs_repo.refresh(job)
        metrics.add_metric(name="JobsFailed" if to is JobStatus.FAILED else "JobsCancelled", unit="Count", value=1)
        return True
    return False
