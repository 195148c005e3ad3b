"""Job heads (USER#uid / JOB#jid, in GSI1 under their project and in GSI2 under their user and status) and the
Idempotency-Key markers that remember which job a request created (USER#uid / IDEMP#key). Item construction,
keys, the listings and the updates and transaction parts that move a job; which moves are allowed, and when,
is the job core's (`domain/`) and the services'."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from narraforge.data import checkpoints, keys, usage
from narraforge.data.base import utcnow
from narraforge.data.listing import Listing
from narraforge.data.models import IdempotencyItem, JobItem
from narraforge.data.transactions import Transaction, delete_all

Job = JobItem  # the record this repository hands out
Idempotency = IdempotencyItem


def put_new(tx: Transaction, *, user_id: str, project_id: str, status: str, brief: dict[str, Any],
            estimated_cost_usd: float, estimate_known: bool, usage_month: str, cost_cap_usd: float, provider: str,
            **extra: Any) -> JobItem:
    """The "job" part of a job's creation: a new head, with the keys of its listings (by project, by status)."""
    job_id = keys.new_id()
    job = JobItem(
        *JobItem.key(user_id, job_id),
        job_id=job_id, user_id=user_id, project_id=project_id,
        status=status, brief=brief,
        estimated_cost_usd=estimated_cost_usd, estimate_known=estimate_known,
        usage_month=usage_month, cost_cap_usd=cost_cap_usd,
        provider=provider,
        gsi1pk=keys.project_gsi1pk(project_id), gsi1sk=keys.job_sk(job_id),
        gsi2pk=keys.job_status_gsi2pk(user_id, status), gsi2sk=job_id,
        **extra,
    )
    tx.save("job", job, condition=JobItem.pk.does_not_exist())
    return job


def put_idempotency(tx: Transaction, user_id: str, idempotency_key: str, *, body_hash: str, job_id: str,
                    expires: datetime) -> None:
    """The "idempotency" part: the marker of the key, written only if the key is new."""
    marker = IdempotencyItem(*IdempotencyItem.key(user_id, idempotency_key), body_hash=body_hash, job_id=job_id)
    marker.ttl = expires
    tx.save("idempotency", marker, condition=IdempotencyItem.pk.does_not_exist())


def find_idempotency(user_id: str, idempotency_key: str) -> IdempotencyItem | None:
    return IdempotencyItem.find(*IdempotencyItem.key(user_id, idempotency_key), consistent_read=True)


def find(user_id: str, job_id: str, *, consistent: bool = False) -> JobItem | None:
    return JobItem.find(*JobItem.key(user_id, job_id), consistent_read=consistent)


def reread(job: JobItem) -> JobItem | None:
    """A fresh copy of the head (consistent); None if it was deleted."""
    return JobItem.find(job.pk, job.sk, consistent_read=True)


def refresh(job: JobItem) -> bool:
    """Re-reads the head into `job` (consistent); False if it was deleted."""
    try:
        job.refresh(consistent_read=True)
    except DoesNotExist:
        return False
    return True


def set_execution(job: JobItem, execution_arn: str) -> None:
    job.update(actions=[JobItem.execution_arn.set(execution_arn)])


def listing(user_id: str, *, project_id: str | None, status: str | None) -> Listing:
    """By status: GSI2 (user+status). By project: GSI1, filtered to this user. Else: the user's partition."""
    owner = JobItem.user_id == user_id
    if status is not None:
        index, hash_key, key_attrs = JobItem.gsi2, keys.job_status_gsi2pk(user_id, status), \
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
    source: Any = index if index is not None else JobItem
    return Listing(
        lambda **kw: source.query(hash_key, condition, filter_condition=filt, scan_index_forward=False, **kw),
        lambda: source.count(hash_key, condition, filter_condition=filt),
        key_attrs,
    )


def status_actions(user_id: str, to: str, *, touch: bool = True) -> list[Action]:
    """Moves `status` and `gsi2pk` (the user + status index key) together; `touch=False` when the same update
    already sets `updated_at`."""
    actions = [JobItem.status.set(to), JobItem.gsi2pk.set(keys.job_status_gsi2pk(user_id, to))]
    return [*actions, JobItem.updated_at.set(utcnow())] if touch else actions


def status_in(allowed: Iterable[str]) -> Condition:
    return JobItem.status.is_in(*allowed)


def requeue(tx: Transaction, job: JobItem, *, to: str, resumable: Iterable[str], retry: int, cost_cap_usd: float,
            held: bool, month: str) -> None:
    """The "job" part of a resume: back to `to` with a new retry count and cost cap, errors cleared; a job that
    gave its generation back (`held` False) holds the one taken in `month` again. Only from a `resumable`
    state, at the retry count and quota flag as read."""
    actions = [*status_actions(job.user_id, to), JobItem.retry_count.set(retry),
               JobItem.error_message.remove(), JobItem.failed_stage.remove(), JobItem.completed_at.remove(),
               JobItem.cost_cap_usd.set(cost_cap_usd)]
    if not held:
        actions += [JobItem.quota_held.set(True), JobItem.usage_month.set(month)]
    tx.update("job", job, actions=actions,
              condition=status_in(resumable) & (JobItem.retry_count == job.retry_count)
              & (JobItem.quota_held == held))


def end(tx: Transaction, job: JobItem, *, to: str, message: str, stage: str | None, allowed: Iterable[str],
        release_quota: bool) -> None:
    """The "job" part of ending a job: to `to` with its message (and failed stage), from an `allowed` state and
    at the call count as read (a call billed meanwhile cancels it); `release_quota` flips `quota_held` off,
    once, in the same transaction as the refund."""
    actions = [*status_actions(job.user_id, to), JobItem.error_message.set(message),
               JobItem.completed_at.set(utcnow())]
    if stage:
        actions.append(JobItem.failed_stage.set(stage))
    calls = int(job.llm_calls or 0)
    condition = status_in(allowed) & (
        (JobItem.llm_calls == calls) if calls else (JobItem.llm_calls.does_not_exist() | (JobItem.llm_calls == 0)))
    if release_quota:
        actions.append(JobItem.quota_held.set(False))
        condition &= JobItem.quota_held == True  # noqa: E712 - a DynamoDB condition
    tx.update("job", job, actions=actions, condition=condition)


def bill(tx: Transaction, job: JobItem, *, tokens: int, cost: float, priced: bool, while_status: str | None,
         drafting: bool, held: bool, retake: bool) -> None:
    """The "job" part of billing a call: tokens, cost and calls added to the head (an unpriced call counted
    apart), while it is in `while_status` if given. A drafting call marks the job as drafted, at the quota flag
    as read (`held`); `retake` takes the generation back."""
    actions = [JobItem.tokens_used.add(tokens), JobItem.actual_cost_usd.add(cost), JobItem.llm_calls.add(1)]
    if not priced:
        actions.append(JobItem.unpriced_calls.add(1))
    condition = JobItem.pk.exists()
    if while_status is not None:
        condition &= JobItem.status == while_status
    if drafting:
        actions.append(JobItem.drafting_billed.set(True))
        condition &= JobItem.quota_held == held
        if retake:
            actions.append(JobItem.quota_held.set(True))
    tx.update("job", job, actions=actions, condition=condition)


def mark_reused(job: JobItem, *, completed_stages: list[str], progress: float, segments_total: int | None,
                segments_drafted: int | None) -> None:
    """A regeneration's head once earlier stages were taken over: those stages done, the progress they
    stand for, and the segment counters of what was reused (None: not reused)."""
    actions = [JobItem.completed_stages.set(completed_stages), JobItem.progress_percentage.set(progress)]
    if segments_total is not None:
        actions.append(JobItem.segments_total.set(segments_total))
    if segments_drafted is not None:
        actions.append(JobItem.segments_drafted.set(segments_drafted))
    job.update(actions=actions)


def delete_with_records(job: JobItem) -> None:
    """The job's checkpoints and stage bills, then its head."""
    delete_all([*checkpoints.of_job(job.job_id), *usage.bills_of(job.job_id)])
    job.delete()
