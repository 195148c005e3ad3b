"""The usage report: the month's quota and cost counters and the usage log of the jobs that ended (the
billing itself is the job core's: `domain.billing`)."""

from __future__ import annotations

from narraforge.data import usage as usage_repo
from narraforge.data.usage import UsageLog
from narraforge.domain.quotas import current_month, reset_date
from narraforge.domain.tiers import limits_for
from narraforge.enums import JobStatus, Tier
from narraforge.schemas.usage import UsageLogEntry, UsageResponse
from narraforge.services.identity import CurrentUser
from narraforge.services.pagination import fetch_page


def report(current: CurrentUser, *, page: int, page_size: int, cursor: str | None) -> UsageResponse:
    month = current_month()
    listing = usage_repo.log_listing(current.id, month)
    result = fetch_page(
        listing.query, listing.count,
        page=page, page_size=page_size, cursor=cursor, scope=f"usage:{current.id}:{month}",
        key_attributes=listing.key_attributes,
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


def _entry(item: UsageLog) -> UsageLogEntry:
    return UsageLogEntry(id=item.sk, job_id=item.job_id, narrative_id=item.narrative_id,
                         status=JobStatus(item.status) if item.status else JobStatus.COMPLETED,
                         llm_calls=int(item.llm_calls or 0), tokens_used=int(item.tokens_used),
                         cost_usd=None if int(item.unpriced_calls or 0) else round(float(item.cost_usd), 6),
                         stages=dict(item.stages or {}),
                         created_at=item.created_at)
