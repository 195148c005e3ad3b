"""Pure ASGI middleware shared by every function: request id, stage-aware root_path, body limit,
security headers. Pure ASGI (not BaseHTTPMiddleware) so streaming and Mangum stay untouched."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from narraforge.api.problems import PROBLEM_MEDIA_TYPE, problem_body
from narraforge.config import get_settings
from narraforge.data.keys import new_id
from narraforge.observability import logger

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cache-control", b"no-store"),
]
# Responses of the API load nothing at all; the docs pages set their own policy (api/docs.py).
API_CSP = b"default-src 'none'; frame-ancestors 'none'"


def security_headers() -> dict[str, str]:
    """The headers every API response carries, for the one response answered outside this middleware (a 500)."""
    return {name.decode(): value.decode() for name, value in [*SECURITY_HEADERS, (b"content-security-policy", API_CSP)]}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class RequestContextMiddleware:
    """Gives each request an id (client's X-Request-ID if sane, else API Gateway's, else new),
    sets `root_path` from the API Gateway stage so /docs works behind /v1, routes `/things` to the
    `/things/` collection route, and adds headers."""

    def __init__(self, app: ASGIApp, collections: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.collections = collections

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        event: dict[str, Any] = scope.get("aws.event") or {}
        context = event.get("requestContext") or {}
        supplied = _header(scope, b"x-request-id")
        if supplied and (len(supplied) > 128 or not supplied.isprintable()):
            supplied = None
        request_id = supplied or context.get("requestId") or new_id()
        scope.setdefault("state", {})["request_id"] = request_id
        scope["root_path"] = _stage_prefix(event)
        logger.append_keys(request_id=request_id)
        if scope["path"] in self.collections:
            scope["path"] += "/"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                if b"x-request-id" not in present:
                    headers.append((b"x-request-id", request_id.encode()))
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", API_CSP))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _stage_prefix(event: dict[str, Any]) -> str:
    """`/v1` when called through the execute-api URL (requestContext.path = /v1 + path), else ''."""
    full_path = (event.get("requestContext") or {}).get("path") or ""
    path = event.get("path") or ""
    if path and full_path.endswith(path) and full_path != path:
        return full_path[: -len(path)]
    return ""


class BodyLimitMiddleware:
    """Answers 413 for bodies over MAX_BODY_BYTES, whether or not Content-Length tells the truth, and 422 for
    JSON nested deeper than MAX_JSON_DEPTH: no request body of this API needs more, and deep nesting would
    reach Python's recursion limit in the JSON parser, validation or hashing (a 500 for client input)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = get_settings().max_body_bytes
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(scope, send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if json_depth(body) > MAX_JSON_DEPTH:
            await _problem(scope, send, 422, "validation_error", "Request validation failed", [
                {"loc": ["body"], "msg": f"JSON is nested deeper than {MAX_JSON_DEPTH} levels",
                 "type": "json_too_deep"}])
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in `body` (brackets inside strings do not count). Not a parser:
    whatever the real parser then refuses is refused there, with its own message."""
    depth = deepest = 0
    for bracket in _JSON_BRACKETS.findall(_JSON_STRING.sub(b"", body)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    await _problem(scope, send, 413, "payload_too_large", f"Request body exceeds {limit} bytes", {"max_bytes": limit})


async def _problem(scope: Scope, send: Send, status: int, code: str, detail: str, details: Any) -> None:
    """An error answered before the app runs (its exception handlers are not reached from here)."""
    body = json.dumps(problem_body(status, code, detail, scope.get("state", {}).get("request_id"), details)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
