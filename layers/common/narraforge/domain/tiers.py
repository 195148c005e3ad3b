"""Plan limits per subscription tier: how many generations a month and how long a brief each plan allows."""

from __future__ import annotations

from dataclasses import dataclass

from narraforge.enums import Tier


@dataclass(frozen=True)
class TierLimits:
    monthly_generations: int | None  # None: unlimited
    max_brief_words: int | None


LIMITS: dict[Tier, TierLimits] = {
    Tier.FREE: TierLimits(monthly_generations=5, max_brief_words=10_000),
    Tier.PRO: TierLimits(monthly_generations=100, max_brief_words=None),
    Tier.ENTERPRISE: TierLimits(monthly_generations=None, max_brief_words=None),
}


def limits_for(tier: str) -> TierLimits:
    return LIMITS[Tier(tier)]
