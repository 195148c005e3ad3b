"""Maps every error to one RFC 9457 problem (`api/problems.py`), in one place: domain errors through the
resolver's table (`api/resolver.py`), the framework's own errors through their status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from narraforge.api.middleware import security_headers
from narraforge.api.problems import PROBLEM_MEDIA_TYPE, problem_body
from narraforge.api.resolver import ANSWERED, headers_of, resolve
from narraforge.errors import DomainError
from narraforge.observability import logger

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_response(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    request_id = request_id_of(request)
    merged = dict(headers or {})
    if request_id:
        # Set here too: a 500 is answered outside the middleware that adds it to everything else.
        merged["X-Request-ID"] = request_id
    return JSONResponse(problem_body(status_code, code, message, request_id, details), status_code=status_code,
                        headers=merged, media_type=PROBLEM_MEDIA_TYPE)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Field-level details without echoing large or secret inputs back (passwords are inputs too)."""
    details = []
    for error in exc.errors():
        details.append({"loc": list(error.get("loc", ())), "msg": error.get("msg", ""),
                        "type": error.get("type", "")})
    return details


def _allowed_methods(request: Request) -> str:
    """Every method of the path: Starlette's 405 names only the first route's, and our collections and
    items have one route per method (RFC 9110 wants them all in `Allow`)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        problem = resolve(exc)
        return error_response(request, problem.status, problem.code, exc.message, exc.details, headers_of(exc))

    for answered in ANSWERED:  # by class, as Starlette looks handlers up along the MRO; the rest is a 500
        app.add_exception_handler(answered, _domain_error)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(request, 422, "validation_error", "Request validation failed",
                              _validation_details(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # A body that is not UTF-8 is invalid JSON, like malformed JSON (FastAPI's 422 json_invalid).
            return error_response(request, 422, "validation_error", "Request validation failed", [
                {"loc": ["body"], "msg": "body is not valid UTF-8 JSON", "type": "json_invalid"}])
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return error_response(request, exc.status_code, code, message, None, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"request_id": request_id_of(request)})
        # Answered by Starlette's outermost middleware, outside ours: the security headers are added here.
        return error_response(request, 500, "internal_error", "Internal server error", headers=security_headers())
