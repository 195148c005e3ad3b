"""Job requests and responses; field names follow the reference API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from narraforge.enums import JobStatus
from narraforge.schemas.briefs import ProductionBrief, ProductionBriefRequest
from narraforge.schemas.common import RequestModel

UNKNOWN_COST = "USD; null when a model with no known price is involved (unknown, not free)"


class JobCreateRequest(RequestModel):
    project_id: str = Field(min_length=1, max_length=64)
    production_brief: ProductionBriefRequest


class JobEstimateRequest(RequestModel):
    """What `POST /jobs/` would get: the project (for its defaults) and the brief."""

    project_id: str = Field(min_length=1, max_length=64)
    production_brief: ProductionBriefRequest


class JobEstimateResponse(BaseModel):
    """What a brief is expected to take, before any job exists (nothing is reserved or started)."""

    production_brief: ProductionBrief = Field(description="The brief as the job would run it (project defaults in)")
    engine: str = Field(description='"offline" (the demo engine, free) or "openai" (a model server)')
    estimated_cost_usd: float | None = Field(description=UNKNOWN_COST)
    unpriced_models: list[str] = Field(description="Configured models with no known price")
    model_calls: int
    prompt_tokens: int
    completion_tokens: int
    estimated_seconds: float = Field(description="Wall time under the assumptions stated beside it")
    assumptions: str
    within_plan: bool = Field(description="False when the plan would refuse it (brief length, monthly limits)")


class StageUsage(BaseModel):
    """One stage's share of the job's bill: its Map segments' calls included, and calls of attempts that
    failed or were cancelled (the provider was paid for them), so the stages add up to the job's totals."""

    stage: str
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    duration_seconds: float = Field(description="Work time of the stage and its segments (segments may overlap)")
    completed_at: datetime | None = Field(None, description="None while the stage is not done")


class JobStatusResponse(BaseModel):
    id: str
    status: JobStatus
    current_stage: str | None
    completed_stages: list[str]
    progress_percentage: float
    segments_total: int | None = Field(None, description="Planned segments, once segment planning is done")
    segments_drafted: int = Field(0, description="Segments drafted so far (segment_generation)")
    estimated_cost_usd: float | None = Field(description=UNKNOWN_COST)
    actual_cost_usd: float | None = Field(description=UNKNOWN_COST)
    can_resume: bool
    narrative_id: str | None
    error_message: str | None
    updated_at: datetime


class JobResponse(BaseModel):
    id: str
    user_id: str
    project_id: str
    status: JobStatus
    production_brief: ProductionBrief
    current_stage: str | None
    completed_stages: list[str]
    progress_percentage: float
    segments_total: int | None = Field(None, description="Planned segments, once segment planning is done")
    segments_drafted: int = Field(0, description="Segments drafted so far (segment_generation)")
    estimated_cost_usd: float | None = Field(description=UNKNOWN_COST)
    actual_cost_usd: float | None = Field(description=UNKNOWN_COST)
    tokens_used: int
    llm_calls: int = Field(0, description="Model calls billed to the job")
    unpriced_llm_calls: int = Field(0, description="Calls to a model with no known price (their cost is unknown)")
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None
    error_message: str | None
    failed_stage: str | None
    retry_count: int
    can_resume: bool
    execution_arn: str | None
    narrative_id: str | None
    provider: str | None = Field(None, description='"offline" when the offline engine wrote it')
    stages: list[StageUsage] = Field(default_factory=list, description="Per-stage tokens, cost and timing")
    created_at: datetime
    updated_at: datetime
