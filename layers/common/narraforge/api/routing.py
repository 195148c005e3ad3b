"""Route registration helpers for what the reference web client sends (DESIGN §6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


def collection_route(router: APIRouter, method: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """Serve `/things/` and `/things` directly: a redirect would make browsers drop CORS preflights."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route("/", endpoint, methods=[method], **kwargs)
        router.add_api_route("", endpoint, methods=[method], include_in_schema=False, **kwargs)
        return endpoint

    return register


def update_route(router: APIRouter, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """PUT, and PATCH with the same meaning (fields sent are changed); both documented, as both are served."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(path, endpoint, methods=["PUT"], **kwargs)
        router.add_api_route(path, endpoint, methods=["PATCH"], **kwargs)
        return endpoint

    return register
