"""An API Gateway (REST, proxy integration) emulator: routes come from template.yaml and each request
becomes a proxy event for the owning function's real `handler`, as `sam local start-api` would do."""

from __future__ import annotations

import base64
import importlib
import json
import re
import time
import uuid
from functools import lru_cache
from typing import Any

from narraforge.api.app_factory import cors_origin_regex
from narraforge.api.middleware import security_headers
from narraforge.api.problems import PROBLEM_MEDIA_TYPE, problem_body
from narraforge.config import get_settings
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response

from narraforge_dev.local import webapp, websocket
from narraforge_dev.local.lambda_context import Handler, LambdaContext, call_handler
from narraforge_dev.local.template import Route, api_routes, resources_of_type

STAGE = "v1"
TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")

_handlers: dict[str, Handler] = {}


def load_handler(route: Route) -> Handler:
    key = f"{route.module}:{route.handler}"
    if key not in _handlers:
        _handlers[key] = getattr(importlib.import_module(route.module), route.handler)
    return _handlers[key]


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """API Gateway matches `/projects/` like `/projects`."""
    normalized = path.rstrip("/") or "/"
    for route in api_routes():
        params = route.match(method, normalized)
        if params is not None:
            return route, params
    return None


def is_routed_path(path: str) -> bool:
    """Whether the template declares the path for some method (the paths SAM gives a CORS OPTIONS method)."""
    normalized = path.rstrip("/") or "/"
    return any(route.pattern.fullmatch(normalized) for route in api_routes())


def build_event(
    route: Route,
    params: dict[str, str],
    *,
    method: str,
    path: str,
    stage_path: str,
    headers: list[tuple[str, str]],
    query: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
) -> dict[str, Any]:
    """A REST API proxy event, shaped like the ones API Gateway sends (and those in events/)."""
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in _forwarded_for(headers, source_ip):
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)
    content_type = single_headers.get("content-type", "")
    is_text = not body or (content_type.startswith(TEXT_TYPES) and _is_utf8(body))
    request_id = str(uuid.uuid4())
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": stage_path,
            "stage": STAGE,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": source_ip, "userAgent": single_headers.get("user-agent")},
        },
        "body": (body.decode("utf-8") if is_text else base64.b64encode(body).decode()) if body else None,
        "isBase64Encoded": bool(body) and not is_text,
    }


def _forwarded_for(headers: list[tuple[str, str]], source_ip: str) -> list[tuple[str, str]]:
    """API Gateway appends the caller's address to X-Forwarded-For (adding the header if absent); what a client
    sent there is passed on but never becomes `sourceIp`, which is the connection's peer."""
    given = [value for name, value in headers if name.lower() == "x-forwarded-for"]
    others = [(name, value) for name, value in headers if name.lower() != "x-forwarded-for"]
    return [*others, ("x-forwarded-for", ", ".join([*given, source_ip]))]


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def to_response(result: dict[str, Any]) -> Response:
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    response = Response(content=raw, status_code=int(result.get("statusCode", 502)))
    del response.headers["content-length"]
    for name, value in (result.get("headers") or {}).items():
        response.headers.append(name, str(value))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.append(name, str(value))
    response.headers["content-length"] = str(len(raw))
    return response


def no_route(method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """What API Gateway answers for a method and path the template does not route: its
    MISSING_AUTHENTICATION_TOKEN gateway response, which template.yaml maps to this 404 problem."""
    body = problem_body(404, "not_found", f"No route for {method} {path}", str(uuid.uuid4()))
    return 404, {**security_headers(), "content-type": PROBLEM_MEDIA_TYPE}, json.dumps(body).encode()


@lru_cache(maxsize=1)
def cors_settings() -> dict[str, str]:
    """The preflight headers of the template's `Cors` (quotes of API Gateway's static values removed), less
    AllowOrigin: the cloud's one origin is replaced locally by the origins of CORS_ORIGINS."""
    cors = resources_of_type("AWS::Serverless::Api")["Api"]["Properties"].get("Cors") or {}
    names = {"AllowMethods": "access-control-allow-methods", "AllowHeaders": "access-control-allow-headers",
             "MaxAge": "access-control-max-age"}
    return {header: str(cors[key]).strip("'") for key, header in names.items() if key in cors}


def preflight(origin: str | None) -> Response:
    """The OPTIONS answer of API Gateway's CORS mock integration: 200, `{}`, the template's headers, and
    Access-Control-Allow-Origin only for an allowed origin (without it the browser refuses the call)."""
    response = Response(content=b"{}", status_code=200, media_type="application/json")
    if origin and _origin_allowed(origin) and cors_settings():
        response.headers.update({**cors_settings(), "access-control-allow-origin": origin})
    response.headers["vary"] = "Origin"
    return response


def _origin_allowed(origin: str) -> bool:
    origins = get_settings().cors_origins
    pattern = cors_origin_regex(origins)
    return origin in origins or "*" in origins or bool(pattern and re.fullmatch(pattern, origin))


async def dispatch(request: Request) -> Response:
    full_path = request.url.path
    # The execute-api URL carries the stage (/v1/...); the local root serves the same routes without it.
    stage_prefix = f"/{STAGE}"
    path = full_path[len(stage_prefix):] if full_path.startswith(stage_prefix + "/") else full_path
    if request.method == "OPTIONS" and is_routed_path(path):
        return preflight(request.headers.get("origin"))
    found = match_route(request.method, path)
    if found is None:
        app_response = webapp.serve(request)  # the Studio's files and SPA fallback (narraforge_dev/local/webapp.py)
        if app_response is not None:
            return app_response
        status, headers, body = no_route(request.method, full_path)
        return Response(content=body, status_code=status, headers=headers)
    route, params = found
    event = build_event(
        route,
        params,
        method=request.method,
        path=path,
        stage_path=full_path if path != full_path else path,
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
        query=list(request.query_params.multi_items()),
        body=await request.body(),
        source_ip=request.client.host if request.client else "127.0.0.1",  # the TCP peer (uvicorn: no proxy_headers)
    )
    handler = load_handler(route)
    result = await run_in_threadpool(call_handler, handler, event, LambdaContext(route.function))
    return to_response(result)


def create_emulator() -> Starlette:
    """Every request goes to `dispatch`, as the router's default rather than a `/{path:path}` route: that
    pattern cannot match a path holding a newline (%0A), which then got Starlette's plain-text 404."""
    emulator = Starlette(routes=websocket.routes())  # the WebSocket API (narraforge_dev/local/websocket.py)
    emulator.router.default = websocket.refuse_other_sockets(request_response(dispatch))
    return emulator
