"""Monthly quotas: one conditional ADD on the usage counter reserves a generation atomically;
a refund gives it back exactly once (the job's `quota_held` flag flips in the same transaction).
The month's cost is added call by call as the pipeline is billed (`billing.bill_call`)."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from narraforge.config import get_settings
from narraforge.data import keys
from narraforge.data.models import JobItem, UsageItem, UserItem
from narraforge.domain.errors import LimitExceeded
from narraforge.domain.tiers import limits_for


def reset_date(now: datetime | None = None) -> datetime:
    """First instant of next month (UTC): when monthly quotas reset."""
    now = now or datetime.now(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def reservation(user: UserItem, month: str, estimate_usd: float, *,
                generation: bool = True) -> tuple[UsageItem, list[Action], Condition | None]:
    """Update of the month's counter that takes one generation (none with `generation=False`: a resume
    of a job that kept its own), with the condition that enforces the tier's generation limit and the
    user's cost cap (both checked by DynamoDB, not by us). The cap is measured against what was spent
    this month, cancelled and failed jobs included: a cap already reached refuses even a free estimate."""
    usage = UsageItem(*UsageItem.key(user.user_id, month))
    condition: Condition | None = None
    limit = limits_for(user.subscription_tier).monthly_generations
    if generation and limit is not None:
        condition = UsageItem.generations_used.does_not_exist() | (UsageItem.generations_used < limit)
    if user.monthly_cost_limit_usd is not None:
        cap = float(user.monthly_cost_limit_usd)
        room = cap - estimate_usd
        if room < 0:
            raise limit_error(user, month, estimate_usd)
        cost_ok = UsageItem.cost_used_usd.does_not_exist() | (
            (UsageItem.cost_used_usd < cap) & (UsageItem.cost_used_usd <= room))
        condition = cost_ok if condition is None else condition & cost_ok
    actions = [UsageItem.generations_used.add(1), UsageItem.tag()] if generation else [UsageItem.tag()]
    return usage, actions, condition


def job_cost_cap(user: UserItem, month: str, spent: float = 0.0) -> float:
    """What a job (which already spent `spent`) may spend in all: the per-job cap, or the room left under the
    user's monthly cost cap if smaller — so one job cannot run the month past the cap the user set."""
    cap = get_settings().job_cost_cap_usd
    if user.monthly_cost_limit_usd is None:
        return cap
    try:
        used = float(UsageItem.get(*UsageItem.key(user.user_id, month), consistent_read=True).cost_used_usd or 0)
    except DoesNotExist:
        used = 0.0
    return round(min(cap, spent + max(0.0, float(user.monthly_cost_limit_usd) - used)), 8)


def refund(job: JobItem) -> tuple[UsageItem, list[Action]]:
    usage = UsageItem(*UsageItem.key(job.user_id, job.usage_month))
    return usage, [UsageItem.generations_used.add(-1)]


def limit_error(user: UserItem, month: str, estimate_usd: float) -> LimitExceeded:
    """Explains which limit refused the reservation, with the reset date."""
    try:
        usage = UsageItem.get(*UsageItem.key(user.user_id, month), consistent_read=True)
        used, cost_used = int(usage.generations_used or 0), float(usage.cost_used_usd or 0)
    except DoesNotExist:
        used, cost_used = 0, 0.0
    limit = limits_for(user.subscription_tier).monthly_generations
    resets = reset_date().isoformat()
    if limit is not None and used >= limit:
        return LimitExceeded(
            f"Monthly generation limit reached ({used}/{limit}) for the {user.subscription_tier} plan",
            details={"limit": limit, "used": used, "resets_at": resets},
        )
    cap = float(user.monthly_cost_limit_usd or 0)
    reached = cost_used >= cap
    return LimitExceeded(
        "Monthly cost limit reached" if reached else "Monthly cost limit would be exceeded by this generation",
        details={"cost_limit_usd": user.monthly_cost_limit_usd, "cost_used_usd": round(cost_used, 6),
                 "estimated_cost_usd": estimate_usd, "resets_at": resets},
    )


def current_month() -> str:
    return keys.month_key()
