"""/docs, /redoc and /openapi.json: one spec of all routers, built on first request (not at cold start)."""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from narraforge import __version__
from narraforge.api.app_factory import API_DESCRIPTION, API_TITLE

# Every router module of the product; the combined spec documents them all.
ROUTER_MODULES = (
    "narraforge.api.routers.auth",
    "narraforge.api.routers.projects",
    "narraforge.api.routers.jobs",
    "narraforge.api.routers.narratives",
    "narraforge.api.routers.usage",
    "narraforge.api.routers.health",
)

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    app = FastAPI()
    for module in ROUTER_MODULES:
        app.include_router(importlib.import_module(module).router)
    document = get_openapi(title=API_TITLE, version=__version__, description=API_DESCRIPTION, routes=app.routes)
    _errors_as_json(document)
    return document


ERROR_SCHEMA_REF = "#/components/schemas/ErrorResponse"


def _errors_as_json(document: dict[str, Any]) -> None:
    """FastAPI documents an error model under the route's own media type (text/plain for /text, say);
    errors always leave as JSON, so that is where the spec must say they are."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                for media_type in [m for m in content if m != "application/json"]:
                    if content[media_type].get("schema", {}).get("$ref") == ERROR_SCHEMA_REF:
                        content["application/json"] = content.pop(media_type)


@router.get("/openapi.json")
def openapi_json(request: Request) -> JSONResponse:
    document = dict(openapi_document())
    root_path = request.scope.get("root_path", "")
    if root_path:
        document["servers"] = [{"url": root_path}]
    return JSONResponse(document)


@router.get("/docs")
def swagger(request: Request) -> HTMLResponse:
    root_path = request.scope.get("root_path", "")
    return get_swagger_ui_html(openapi_url=f"{root_path}/openapi.json", title=f"{API_TITLE} - Swagger UI")


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    root_path = request.scope.get("root_path", "")
    return get_redoc_html(openapi_url=f"{root_path}/openapi.json", title=f"{API_TITLE} - ReDoc")
