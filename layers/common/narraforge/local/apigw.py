"""An API Gateway (REST, proxy integration) emulator: routes come from template.yaml and each request
becomes a proxy event for the owning function's real `handler`, as `sam local start-api` would do."""

from __future__ import annotations

import asyncio
import base64
import importlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import request_response

from narraforge.local.template import Route, api_routes

STAGE = "v1"
TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class LambdaContext:
    """What a Lambda handler receives as `context` (Powertools reads these fields)."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline_ms: float = field(default_factory=lambda: time.time() * 1000 + 29_000)

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


_handlers: dict[str, Handler] = {}


def load_handler(route: Route) -> Handler:
    key = f"{route.module}:{route.handler}"
    if key not in _handlers:
        _handlers[key] = getattr(importlib.import_module(route.module), route.handler)
    return _handlers[key]


def call_handler(handler: Handler, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda runs handlers on a thread that has an event loop (Mangum relies on it); so do we."""
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    return handler(event, context)


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """API Gateway matches `/projects/` like `/projects`."""
    normalized = path.rstrip("/") or "/"
    for route in api_routes():
        params = route.match(method, normalized)
        if params is not None:
            return route, params
    return None


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
    for name, value in headers:
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


async def dispatch(request: Request) -> Response:
    full_path = request.url.path
    # The execute-api URL carries the stage (/v1/...); the local root serves the same routes without it.
    stage_prefix = f"/{STAGE}"
    path = full_path[len(stage_prefix):] if full_path.startswith(stage_prefix + "/") else full_path
    found = match_route(request.method, path)
    if found is None:
        return JSONResponse({"message": "Missing Authentication Token"}, status_code=403)
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
        source_ip=request.client.host if request.client else "127.0.0.1",
    )
    handler = load_handler(route)
    result = await run_in_threadpool(call_handler, handler, event, LambdaContext(route.function))
    return to_response(result)


def create_emulator() -> Starlette:
    """Every request goes to `dispatch`, as the router's default rather than a `/{path:path}` route: that
    pattern cannot match a path holding a newline (%0A), which then got Starlette's plain-text 404."""
    emulator = Starlette()
    emulator.router.default = request_response(dispatch)
    return emulator
