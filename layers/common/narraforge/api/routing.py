"""Route registration helpers for what existing web clients send (README, "API conventions")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute


def collection_route(router: APIRouter, method: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """`/things/`; `/things` reaches the same route through `collection_paths` (no redirect: browsers would
    drop CORS preflights, and no second route: each one costs cold-start time to build)."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route("/", endpoint, methods=[method], **kwargs)
        return endpoint

    return register


def collection_paths(routers: Iterable[APIRouter]) -> frozenset[str]:
    """The collections the routers serve, without their trailing slash (`/jobs` for `/jobs/`)."""
    return frozenset(route.path.rstrip("/") for router in routers for route in router.routes
                     if isinstance(route, APIRoute) and route.path.endswith("/") and route.path != "/")


def update_route(router: APIRouter, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """PUT, and PATCH with the same meaning (fields sent are changed); both documented, as both are served."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(path, endpoint, methods=["PUT"], **kwargs)
        router.add_api_route(path, endpoint, methods=["PATCH"], **kwargs)
        return endpoint

    return register
