"""Project requests and responses. Owner, counters and stats are response-only."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from narraforge.enums import Genre, ProductionType
from narraforge.schemas.common import RequestModel


class ProjectCreateRequest(RequestModel):
    name: str = Field(min_length=1, max_length=200, examples=["My Fantasy World"])
    description: str | None = Field(None, max_length=2000)
    world_id: str | None = Field(None, max_length=100)
    default_genre: Genre | None = None
    default_production_type: ProductionType | None = None


class ProjectUpdateRequest(RequestModel):
    """Only the fields sent are changed; `name` cannot be cleared."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    world_id: str | None = Field(None, max_length=100)
    default_genre: Genre | None = None
    default_production_type: ProductionType | None = None


class ProjectResponse(BaseModel):
    id: str
    user_id: str
    name: str
    description: str | None
    world_id: str | None
    default_genre: Genre | None
    default_production_type: ProductionType | None
    narrative_count: int
    total_word_count: int
    total_cost_usd: float
    created_at: datetime
    updated_at: datetime
