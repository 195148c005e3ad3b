"""The usage aggregate: the month's counters (USER#uid / USAGE#month), what a deleted account used this month
(DELETED#hash / USAGE#month), a job's per-stage bills (JOB#id / BILL#nn), the usage log of ended jobs
(USAGELOG#uid#month / jid) and the platform counters (STATS / GLOBAL). Item construction, keys and the
transaction parts live here; the rules (limits, what is refunded, what a call bills) are the job core's
(`domain/quotas.py`, `domain/billing.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition

from narraforge.data import keys
from narraforge.data.listing import Listing
from narraforge.data.models import DeletedUsageItem, JobItem, StageBillItem, StatsItem, UsageItem, UsageLogItem
from narraforge.data.transactions import Transaction

# The records this repository hands out.
Usage = UsageItem
DeletedUsage = DeletedUsageItem
StageBill = StageBillItem
UsageLog = UsageLogItem
Stats = StatsItem


def current_month() -> str:
    return keys.month_key()


def find(user_id: str, month: str, *, consistent: bool = False) -> UsageItem | None:
    return UsageItem.find(*UsageItem.key(user_id, month), consistent_read=consistent)


def is_month(item: UsageItem, month: str) -> bool:
    return item.sk == keys.usage_sk(month)


def month_of(item: UsageItem) -> str:
    return item.sk.removeprefix(keys.USAGE_PREFIX)


@dataclass(frozen=True)
class Reservation:
    """What a reservation takes from the month's counter and the limits DynamoDB checks as it does."""

    user_id: str
    month: str
    generation: bool  # takes one generation (False: a resume of a job that kept its own)
    generation_limit: int | None  # checked only when a generation is taken; None: unlimited
    cost_cap: float | None  # the user's monthly cost cap; None: no cap
    cost_room: float = 0.0  # the cap less the estimate: what the month may have spent before this job


def reserve(tx: Transaction, reservation: Reservation) -> None:
    """The "quota" part of a transaction: one conditional ADD on the month's counter."""
    r = reservation
    condition: Condition | None = None
    if r.generation and r.generation_limit is not None:
        condition = UsageItem.generations_used.does_not_exist() | (UsageItem.generations_used < r.generation_limit)
    if r.cost_cap is not None:
        cost_ok = UsageItem.cost_used_usd.does_not_exist() | (
            (UsageItem.cost_used_usd < r.cost_cap) & (UsageItem.cost_used_usd <= r.cost_room))
        condition = cost_ok if condition is None else condition & cost_ok
    actions = [UsageItem.generations_used.add(1), UsageItem.tag()] if r.generation else [UsageItem.tag()]
    tx.update("quota", UsageItem(*UsageItem.key(r.user_id, r.month)), actions=actions, condition=condition)


def give_back_generation(tx: Transaction, user_id: str, month: str) -> None:
    """The "refund" part: one generation back to the month it was taken from."""
    tx.update("refund", UsageItem(*UsageItem.key(user_id, month)), actions=[UsageItem.generations_used.add(-1)])


def take_generation(tx: Transaction, user_id: str, month: str) -> None:
    """The "generation" part: a generation taken again in the month the job was reserved in."""
    tx.update("generation", UsageItem(*UsageItem.key(user_id, month)),
              actions=[UsageItem.generations_used.add(1), UsageItem.tag()])


def add_cost(tx: Transaction, user_id: str, month: str, cost: float, *, generation: bool = False) -> None:
    """The "month" part: a call's cost (and, with `generation`, a generation taken again) on this month."""
    actions = [UsageItem.cost_used_usd.add(cost), UsageItem.tag()]
    if generation:
        actions.append(UsageItem.generations_used.add(1))
    tx.update("month", UsageItem(*UsageItem.key(user_id, month)), actions=actions)


def bill_stage(tx: Transaction, job_id: str, stage_number: int, stage: str, *, prompt_tokens: int,
               completion_tokens: int, cost: float) -> None:
    """The "stage" part: one paid call added to the stage's bill."""
    tx.update("stage", StageBillItem(*StageBillItem.key(job_id, stage_number)), actions=[
        StageBillItem.job_id.set(job_id), StageBillItem.stage.set(stage),
        StageBillItem.llm_calls.add(1), StageBillItem.prompt_tokens.add(prompt_tokens),
        StageBillItem.completion_tokens.add(completion_tokens),
        StageBillItem.cost_usd.add(cost), StageBillItem.tag()])


def stage_bills(job_id: str) -> dict[str, StageBillItem]:
    """The job's bills by stage name, read consistently."""
    return {bill.stage: bill for bill in StageBillItem.query(keys.job_pk(job_id), consistent_read=True)}


def bills_of(job_id: str) -> Iterator[StageBillItem]:
    return StageBillItem.query(keys.job_pk(job_id))


def log_entry(job: JobItem, status: str, narrative_id: str | None, stages: dict[str, Any]) -> UsageLogItem:
    """The usage log entry of a job that ended with `status`: its totals from the head as read."""
    return UsageLogItem(keys.usage_log_pk(job.user_id, job.usage_month), job.job_id, job_id=job.job_id,
                        narrative_id=narrative_id, status=status, llm_calls=int(job.llm_calls or 0),
                        unpriced_calls=int(job.unpriced_calls or 0),
                        tokens_used=int(job.tokens_used or 0),
                        cost_usd=round(float(job.actual_cost_usd or 0), 8), stages=stages)


def put_log(tx: Transaction, entry: UsageLogItem) -> None:
    tx.save("log", entry)


def save_log(entry: UsageLogItem) -> None:
    entry.save()


def log_listing(user_id: str, month: str) -> Listing:
    pk = keys.usage_log_pk(user_id, month)
    return Listing(lambda **kw: UsageLogItem.query(pk, scan_index_forward=False, **kw),
                   lambda: UsageLogItem.count(pk), ("pk", "sk"))


def logs_of(user_id: str, month: str) -> list[UsageLogItem]:
    return list(UsageLogItem.query(keys.usage_log_pk(user_id, month)))


def find_deleted(email: str, month: str) -> DeletedUsageItem | None:
    return DeletedUsageItem.find(*DeletedUsageItem.key(email, month), consistent_read=True)


def tombstone(email: str, month: str, usage: UsageItem, expires: datetime) -> DeletedUsageItem:
    """What a deleted account used this month, kept under a hash of its email until `expires`."""
    item = DeletedUsageItem(*DeletedUsageItem.key(email, month), generations_used=usage.generations_used,
                            cost_used_usd=usage.cost_used_usd)
    item.ttl = expires
    return item


def inherited(user_id: str, month: str, deleted: DeletedUsageItem) -> UsageItem:
    """A new account's counter of the month, starting from what a deleted account of its email used."""
    return UsageItem(*UsageItem.key(user_id, month), generations_used=deleted.generations_used,
                     cost_used_usd=deleted.cost_used_usd)


def add_to_stats(tx: Transaction, **deltas: float) -> None:
    """The "stats" part: atomic ADDs on the platform counters, in the order given."""
    tx.update("stats", StatsItem(*StatsItem.key()),
              actions=[*(getattr(StatsItem, name).add(delta) for name, delta in deltas.items()), StatsItem.tag()])


def platform_stats() -> StatsItem | None:
    return StatsItem.find(*StatsItem.key())
