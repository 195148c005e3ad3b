"""Messages of the WebSocket API: what a client sends (`subscribe`) and what it receives (progress, errors)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from narraforge.schemas.common import RequestModel
from narraforge.schemas.jobs import JobStatusResponse

ProgressEvent = Literal["stage_started", "stage_finished", "segment_drafted", "window_judged", "segment_stylized",
                        "job_completed", "job_failed", "job_cancelled"]


class SubscribeMessage(RequestModel):
    """`{"action": "subscribe", "job_id": "..."}`: progress of one of the caller's own jobs."""

    action: Literal["subscribe"]
    job_id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")


class SubscribedMessage(BaseModel):
    """The answer to `subscribe`: the job as it is now, so no step taken before the subscription is missed."""

    event: Literal["subscribed"] = "subscribed"
    job_id: str
    status: JobStatusResponse


class ProgressMessage(BaseModel):
    """Pushed by the pipeline to every subscriber of the job; `status` is what `GET /jobs/{id}/status` answers
    at that moment."""

    event: ProgressEvent
    job_id: str
    stage: str | None = None
    segment: int | None = None
    finished_at: int | None = Field(None, description="When the stage or segment ended (epoch milliseconds)")
    sent_at: int = Field(description="When the message was built (epoch milliseconds)")
    tokens_used: int
    status: JobStatusResponse


class ErrorMessage(BaseModel):
    """A refused message, in the fields of RFC 9457 problem details (the socket has no HTTP status)."""

    event: Literal["error"] = "error"
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    action: str | None = None
    job_id: str | None = None
    errors: list[dict[str, object]] | None = None
