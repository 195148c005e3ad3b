"""Ending an active job with its refund: the one transaction that moves it to FAILED or CANCELLED, writes
its usage log entry and gives its generation back when it drafted nothing. The API (cancel, a start Step
Functions refused, a deleted project), the pipeline's failure recorder and the reconciler all end jobs here."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from narraforge.data.base import utcnow
from narraforge.data.models import JobItem, StatsItem
from narraforge.data.transactions import Transaction
from narraforge.domain import quotas
from narraforge.domain.billing import MAX_RACES, log_item
from narraforge.domain.job_state import status_actions, status_in
from narraforge.enums import JobStatus
from narraforge.observability import metrics


def fail_and_refund(job: JobItem, message: str, *, allowed: tuple[JobStatus, ...], stage: str | None = None,
                    to: JobStatus = JobStatus.FAILED) -> bool:
    """Ends an active job and writes its usage log entry. What it spent stays counted (the month's cost
    was billed call by call); its generation goes back to the month's quota only if it produced no
    narrative and no drafting call was billed — once: `quota_held` flips in the same transaction as the
    refund. The transaction also requires the head's call count as read, so a call billed meanwhile
    makes it re-read (the log entry and the refund decision always see every billed call).
    Returns False if the job was not active."""
    counter = StatsItem.jobs_failed if to is JobStatus.FAILED else StatsItem.jobs_cancelled
    for _ in range(MAX_RACES):
        if JobStatus(job.status) not in allowed:
            return False
        actions = [*status_actions(job.user_id, to), JobItem.error_message.set(message),
                   JobItem.completed_at.set(utcnow())]
        if stage:
            actions.append(JobItem.failed_stage.set(stage))
        refundable = bool(job.quota_held) and not job.narrative_id and not job.drafting_billed
        calls = int(job.llm_calls or 0)
        condition = status_in(allowed) & (
            (JobItem.llm_calls == calls) if calls else (JobItem.llm_calls.does_not_exist() | (JobItem.llm_calls == 0)))
        log = log_item(job, to)
        tx = Transaction()
        try:
            with tx:
                if refundable:
                    actions.append(JobItem.quota_held.set(False))
                    quota, quota_actions = quotas.refund(job)
                    tx.update("refund", quota, actions=quota_actions)
                    condition &= JobItem.quota_held == True  # noqa: E712 - a DynamoDB condition
                tx.update("job", job, actions=actions, condition=condition)
                tx.update("stats", StatsItem(*StatsItem.key()), actions=[counter.add(1), StatsItem.tag()])
                tx.save("log", log)
        except TransactWriteError as exc:
            if "job" not in tx.failed(exc):
                raise
            try:
                job.refresh(consistent_read=True)
            except DoesNotExist:
                return False
            continue
        job.refresh(consistent_read=True)
        metrics.add_metric(name="JobsFailed" if to is JobStatus.FAILED else "JobsCancelled", unit="Count", value=1)
        return True
    return False
