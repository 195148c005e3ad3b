"""Builds each function's FastAPI app the same way and wraps it for Lambda."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from mangum import Mangum

from narraforge import __version__
from narraforge.api.errors import install_error_handlers
from narraforge.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from narraforge.api.problems import PROBLEM_MEDIA_TYPE
from narraforge.api.routing import collection_paths
from narraforge.config import get_settings
from narraforge.observability import logger, metrics, tracer

API_TITLE = "NarraForge API"
API_DESCRIPTION = (
    "Turns a production brief into a finished narrative through a ten-stage LLM pipeline. "
    "Authenticate with `POST /auth/register` or `POST /auth/login`, then send "
    "`Authorization: Bearer <access_token>`."
)

ERROR_SCHEMA_REF = "#/components/schemas/ErrorResponse"


def error_response(description: str) -> dict[str, Any]:
    """An error a route documents, as a reference to the one ErrorResponse schema (the docs add it).
    Not `{"model": ErrorResponse}`: FastAPI would build a validator per route and code at cold start,
    ~5 ms a function, for documentation only the docs function serves."""
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": ERROR_SCHEMA_REF}}}}


COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: error_response("Missing, invalid or expired access token"),
    413: error_response("Request body over the size limit"),
    422: error_response("Invalid input, with field-level details"),
    429: error_response("Rate limit reached; `Retry-After` says when to try again"),
}


ANY_PORT = ":*"
# What a browser may send cross-origin; API Gateway's preflight (template.yaml, Api.Cors) allows the same.
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID", "If-Match", "If-None-Match"]


def cors_origin_regex(origins: list[str]) -> str | None:
    """The CORS_ORIGINS entries that end in `:*` (any port of that scheme and host, as the local stack's
    default `http://localhost:*,http://127.0.0.1:*` does) as one expression the origin must match whole."""
    hosts = [origin.removesuffix(ANY_PORT) for origin in origins if origin.endswith(ANY_PORT)]
    if not hosts:
        return None
    return "|".join(f"{re.escape(host)}(?::[0-9]{{1,5}})?" for host in hosts)


def create_app(routers: Iterable[APIRouter]) -> FastAPI:
    """One function's app. Docs are served once, for all routers, by the health function."""
    app = FastAPI(
        title=API_TITLE,
        description=API_DESCRIPTION,
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    routers = list(routers)
    for router in routers:
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    origins = get_settings().cors_origins
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[origin for origin in origins if not origin.endswith(ANY_PORT)],
            allow_origin_regex=cors_origin_regex(origins),
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            expose_headers=["X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy", "ETag", "Location"],
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware, collections=collection_paths(routers))
    return app


def lambda_handler(app: FastAPI) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Mangum with lifespan off (it would run per invocation), plus Powertools logs, traces, metrics."""
    asgi = Mangum(app, lifespan="off")

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True, raise_on_empty_metrics=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return asgi(event, context)

    return handler
