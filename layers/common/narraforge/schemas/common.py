"""Shapes shared by every route: the error body and the paginated list."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class ErrorBody(BaseModel):
    code: str = Field(examples=["validation_error"])
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody
    request_id: str | None = None


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    total_pages: int
    next_cursor: str | None = Field(None, description="Opaque; pass back as `cursor` for the next page")


class RequestModel(BaseModel):
    """Base of request bodies: unknown fields (owner, counters, tiers...) are ignored, never applied."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
