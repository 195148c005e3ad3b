"""Usage: this month's consumption against the plan, and the per-job bill."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from narraforge.enums import JobStatus, Tier
from narraforge.schemas.common import Page


class UsageLogEntry(BaseModel):
    """The bill of one job that ended: completed, failed or cancelled (what was spent is billed alike)."""

    id: str
    job_id: str
    narrative_id: str | None
    status: JobStatus
    llm_calls: int
    tokens_used: int
    cost_usd: float | None = Field(description="USD; null when a model with no known price was called")
    stages: dict[str, Any]
    created_at: datetime


class UsageResponse(BaseModel):
    month: str
    subscription_tier: Tier
    generations_used: int
    generation_limit: int | None
    cost_used_usd: float
    cost_limit_usd: float | None
    resets_at: datetime
    log: Page[UsageLogEntry]
