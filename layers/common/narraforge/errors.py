"""Domain errors. Services raise these; the API maps them to the one error shape in one place."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}


class BadRequest(AppError):
    """A request that is well-formed but cannot be honoured (a stale or forged OAuth state, say)."""


class InvalidInput(AppError):
    status_code = 422
    code = "validation_error"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"

    def __init__(self, message: str = "Not authenticated", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class LimitExceeded(Forbidden):
    code = "limit_exceeded"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


class BadGateway(AppError):
    """An upstream service (an OAuth provider) failed or answered nonsense: not the client's fault."""

    status_code = 502
    code = "bad_gateway"
