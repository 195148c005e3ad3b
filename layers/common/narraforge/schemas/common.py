"""Shapes shared by every route: the error body and the paginated list."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: `body`, `query`, `path` or `header`, then the field path")
    msg: str
    type: str | None = None


class ErrorResponse(BaseModel):
    """RFC 9457 problem details (`application/problem+json`). Besides `code` and `errors`, an error may carry
    extension members that explain it (a limit, `resets_at`, `retry_after_seconds`, ...)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    type: str = Field("about:blank", description="`about:blank`: the HTTP status says what kind of problem it is")
    title: str = Field(examples=["Unprocessable Content"], description="The HTTP status phrase")
    status: int = Field(examples=[422])
    detail: str = Field(description="What went wrong, written for a person")
    instance: str | None = Field(None, description="The request id (also in the `X-Request-ID` header)")
    code: str = Field(examples=["validation_error"], description="Machine-readable error code")
    errors: list[FieldError] | None = Field(None, description="Field-level problems of a 422")


class Page[T](BaseModel):
    items: list[T]
    total: int
    page: int
    page_size: int
    total_pages: int
    next_cursor: str | None = Field(None, description="Opaque; pass back as `cursor` for the next page")


class RequestModel(BaseModel):
    """Base of request bodies: unknown fields (owner, counters, tiers...) are ignored, never applied."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
