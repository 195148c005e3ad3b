"""/docs, /redoc and /openapi.json: one spec of all routers, built on first request (not at cold start).

Swagger UI and ReDoc come from the pinned `fastapi-offline` distribution and are served from
`/docs/static/`, so the docs work with no network and the pages load nothing from another origin.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response

from narraforge import __version__
from narraforge.api.app_factory import API_DESCRIPTION, API_TITLE, ERROR_SCHEMA_REF
from narraforge.errors import NotFound
from narraforge.schemas.common import ErrorResponse

# Every router module of the product; the combined spec documents them all.
ROUTER_MODULES = (
    "narraforge.api.routers.auth",
    "narraforge.api.routers.projects",
    "narraforge.api.routers.worlds",
    "narraforge.api.routers.jobs",
    "narraforge.api.routers.narratives",
    "narraforge.api.routers.usage",
    "narraforge.api.routers.health",
)

router = APIRouter(include_in_schema=False)

# The assets the two pages use, by the name they are served under, with their media types.
STATIC_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
# The pages run only their own inline start-up script and the assets above; ReDoc renders in a blob worker.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'")


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
    static = f"{root_path}/docs/static"
    page = get_swagger_ui_html(openapi_url=f"{root_path}/openapi.json", title=f"{API_TITLE} - Swagger UI",
                               swagger_js_url=f"{static}/swagger-ui-bundle.js",
                               swagger_css_url=f"{static}/swagger-ui.css", swagger_favicon_url=f"{static}/favicon.png")
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    root_path = request.scope.get("root_path", "")
    static = f"{root_path}/docs/static"
    page = get_redoc_html(openapi_url=f"{root_path}/openapi.json", title=f"{API_TITLE} - ReDoc",
                          redoc_js_url=f"{static}/redoc.standalone.js", redoc_favicon_url=f"{static}/favicon.png",
                          with_google_fonts=False)
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


@router.get("/docs/static/{asset}")
def static_asset(asset: Annotated[str, Path(max_length=64)]) -> Response:
    """An asset of the docs pages, from the installed distribution (cacheable: it changes with its pin)."""
    media_type = STATIC_ASSETS.get(asset)
    if media_type is None:
        raise NotFound(f"No docs asset named {asset}")
    content = resources.files("fastapi_offline").joinpath("static", asset).read_bytes()
    return Response(content, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
