"""The one map from domain errors to HTTP: status and problem `code`, as an exception resolver does.

Framework-free, so the WebSocket function (no FastAPI at its cold start) answers with the same statuses and codes
as the HTTP API's problem details (`api/errors.py`). Job-ending errors (`JobStopped`) are not here: they end a
Step Functions execution and never reach a client (`pipeline/handler.py` names them).
"""

from __future__ import annotations

from typing import NamedTuple

from narraforge.errors import (
    BadGateway,
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    LimitExceeded,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)


class HttpProblem(NamedTuple):
    status: int
    code: str


HTTP_PROBLEMS: dict[type[DomainError], HttpProblem] = {
    BadRequest: HttpProblem(400, "bad_request"),
    Unauthorized: HttpProblem(401, "unauthorized"),
    Forbidden: HttpProblem(403, "forbidden"),
    LimitExceeded: HttpProblem(403, "limit_exceeded"),
    NotFound: HttpProblem(404, "not_found"),
    Conflict: HttpProblem(409, "conflict"),
    PreconditionFailed: HttpProblem(412, "precondition_failed"),
    UnsupportedMediaType: HttpProblem(415, "unsupported_media_type"),
    InvalidInput: HttpProblem(422, "validation_error"),
    PreconditionRequired: HttpProblem(428, "precondition_required"),
    RateLimited: HttpProblem(429, "rate_limited"),
    BadGateway: HttpProblem(502, "bad_gateway"),
    ServiceUnavailable: HttpProblem(503, "service_unavailable"),
}
# Headers an answer always carries for its kind of error, beside those the raiser gave (RFC 9110 §11.6.1).
HTTP_HEADERS: dict[type[DomainError], dict[str, str]] = {Unauthorized: {"WWW-Authenticate": "Bearer"}}


# The errors a client is answered with; any other (a job-ending error) is a bug if it reaches the API: a 500.
ANSWERED: tuple[type[DomainError], ...] = tuple(HTTP_PROBLEMS)


def resolve(exc: DomainError) -> HttpProblem:
    """The status and code of `exc`, one of ANSWERED, by its nearest mapped class (LimitExceeded's own, not
    Forbidden's)."""
    return next(HTTP_PROBLEMS[cls] for cls in type(exc).__mro__ if cls in HTTP_PROBLEMS)


def headers_of(exc: DomainError) -> dict[str, str]:
    """The kind's own headers, then the raiser's (a cleared cookie, a rate window's Retry-After)."""
    kind = next((HTTP_HEADERS[cls] for cls in type(exc).__mro__ if cls in HTTP_HEADERS), {})
    return {**kind, **exc.headers}
