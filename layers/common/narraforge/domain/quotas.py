"""Monthly quotas: one conditional ADD on the usage counter reserves a generation atomically;
a refund gives it back exactly once (the job's `quota_held` flag flips in the same transaction).
The month's cost is added call by call as the pipeline is billed (`billing.bill_call`)."""

from __future__ import annotations

from datetime import UTC, datetime

from narraforge.config import get_settings
from narraforge.data import usage as usage_repo
from narraforge.data.transactions import Transaction
from narraforge.data.usage import Reservation
from narraforge.data.users import User
from narraforge.domain.tiers import limits_for
from narraforge.errors import LimitExceeded


def reset_date(now: datetime | None = None) -> datetime:
    """First instant of next month (UTC): when monthly quotas reset."""
    now = now or datetime.now(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def reservation(user: User, month: str, estimate_usd: float, *, generation: bool = True) -> Reservation:
    """What reserving takes from the month's counter — one generation (none with `generation=False`: a resume
    of a job that kept its own) — with the limits DynamoDB then enforces in the same conditional update: the
    tier's generation limit and the user's cost cap. The cap is measured against what was spent this month,
    cancelled and failed jobs included: a cap already reached refuses even a free estimate."""
    limit = limits_for(user.subscription_tier).monthly_generations
    if user.monthly_cost_limit_usd is None:
        return Reservation(user.user_id, month, generation, limit, None)
    cap = float(user.monthly_cost_limit_usd)
    room = cap - estimate_usd
    if room < 0:
        raise limit_error(user, month, estimate_usd)
    return Reservation(user.user_id, month, generation, limit, cap, room)


def job_cost_cap(user: User, month: str, spent: float = 0.0) -> float:
    """What a job (which already spent `spent`) may spend in all: the per-job cap, or the room left under the
    user's monthly cost cap if smaller — so one job cannot run the month past the cap the user set."""
    cap = get_settings().job_cost_cap_usd
    if user.monthly_cost_limit_usd is None:
        return cap
    usage = usage_repo.find(user.user_id, month, consistent=True)
    used = float(usage.cost_used_usd or 0) if usage is not None else 0.0
    return round(min(cap, spent + max(0.0, float(user.monthly_cost_limit_usd) - used)), 8)


def refund(tx: Transaction, user_id: str, month: str) -> None:
    """Gives one generation back to the month it was taken from (the "refund" part of ending a job)."""
    usage_repo.give_back_generation(tx, user_id, month)


def limit_error(user: User, month: str, estimate_usd: float) -> LimitExceeded:
    """Explains which limit refused the reservation, with the reset date."""
    usage = usage_repo.find(user.user_id, month, consistent=True)
    used, cost_used = (int(usage.generations_used or 0), float(usage.cost_used_usd or 0)) if usage else (0, 0.0)
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
    return usage_repo.current_month()
