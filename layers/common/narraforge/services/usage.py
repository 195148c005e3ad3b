"""The usage report: counters of the month and the paginated usage log."""

from __future__ import annotations

from narraforge.data import keys
from narraforge.data.models import UsageLogItem
from narraforge.enums import Tier
from narraforge.schemas.usage import UsageLogEntry, UsageResponse
from narraforge.services.identity import CurrentUser
from narraforge.services.pagination import fetch_page
from narraforge.services.quotas import current_month, reset_date
from narraforge.services.tiers import limits_for


def report(current: CurrentUser, *, page: int, page_size: int, cursor: str | None) -> UsageResponse:
    month = current_month()
    pk = keys.usage_log_pk(current.id, month)
    result = fetch_page(
        lambda **kw: UsageLogItem.query(pk, scan_index_forward=False, **kw),
        lambda: UsageLogItem.count(pk),
        page=page, page_size=page_size, cursor=cursor, scope=f"usage:{current.id}:{month}",
        key_attributes=("pk", "sk"),
    )
    usage = current.usage
    return UsageResponse(
        month=month,
        subscription_tier=Tier(current.user.subscription_tier),
        generations_used=int(usage.generations_used) if usage else 0,
        generation_limit=limits_for(current.user.subscription_tier).monthly_generations,
        cost_used_usd=round(float(usage.cost_used_usd), 6) if usage else 0.0,
        cost_limit_usd=current.user.monthly_cost_limit_usd,
        resets_at=reset_date(),
        log=result.to_page(_entry),
    )


def _entry(item: UsageLogItem) -> UsageLogEntry:
    return UsageLogEntry(id=item.sk, job_id=item.job_id, narrative_id=item.narrative_id,
                         tokens_used=int(item.tokens_used), cost_usd=round(float(item.cost_usd), 6),
                         stages=dict(item.stages or {}), created_at=item.created_at)
