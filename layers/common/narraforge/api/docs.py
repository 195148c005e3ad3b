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
from narraforge.api.app_factory import API_DESCRIPTION, API_TITLE, ERROR_SCHEMA_REF
from narraforge.schemas.common import ErrorResponse

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
    _add_error_schema(document)
    return document


def _add_error_schema(document: dict[str, Any]) -> None:
    """Routes document errors by reference (`error_response`), so the schema they point to is added here."""
    schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(schema.pop("$defs", {}))
    schemas[ERROR_SCHEMA_REF.rsplit("/", 1)[1]] = schema


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
