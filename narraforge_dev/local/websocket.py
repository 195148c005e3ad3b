"""API Gateway's WebSocket API on the local stack's port, as template.yaml declares it: a connection to `/ws`
becomes `$connect`, each frame a route chosen by `$request.body.action`, the close `$disconnect` — proxy events
for the real function's handler — and `/ws/@connections/{id}` is the Management API the pipeline posts to
(`WEBSOCKET_MANAGEMENT_URL` points at it), so the cloud's push code runs unchanged."""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from narraforge_dev.local.lambda_context import LambdaContext, call_handler
from narraforge_dev.local.template import function_module, resources_of_type

API_TYPE = "AWS::ApiGatewayV2::Api"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SocketRoute:
    key: str  # $connect, $disconnect, $default, subscribe, ...
    function: str  # logical id of the integrated function
    module: str
    handler: str


@dataclass
class Connection:
    socket: WebSocket
    source_ip: str
    connected_at: int = field(default_factory=lambda: int(time.time() * 1000))
    last_active_at: int = field(default_factory=lambda: int(time.time() * 1000))
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


_connections: dict[str, Connection] = {}


@lru_cache(maxsize=1)
def stage_name() -> str:
    """The WebSocket API's stage (`ws`): the local path, like the execute-api URL's."""
    (stage,) = resources_of_type("AWS::ApiGatewayV2::Stage").values()
    return str(stage["Properties"]["StageName"])


@lru_cache(maxsize=1)
def socket_routes() -> dict[str, SocketRoute]:
    """Route key → function, through each route's integration (`integrations/${X}`) and its URI (`${F.Arn}`)."""
    integrations = resources_of_type("AWS::ApiGatewayV2::Integration")
    routes: dict[str, SocketRoute] = {}
    for resource in resources_of_type("AWS::ApiGatewayV2::Route").values():
        props = resource["Properties"]
        integration = re.search(r"\$\{(\w+)\}", _sub(props["Target"])).group(1)  # type: ignore[union-attr]
        uri = _sub(integrations[integration]["Properties"]["IntegrationUri"])
        function = re.search(r"\$\{(\w+)\.Arn\}", uri).group(1)  # type: ignore[union-attr]
        module, handler = function_module(function)
        routes[props["RouteKey"]] = SocketRoute(props["RouteKey"], function, module, handler)
    return routes


def _sub(value: Any) -> str:
    return str(value["Fn::Sub"] if isinstance(value, dict) else value)


def management_url(host: str, port: int) -> str:
    """What `WEBSOCKET_MANAGEMENT_URL` is locally: this port's `/ws`, like `https://{api}.execute-api.../ws`."""
    reachable = "127.0.0.1" if host in ("", "0.0.0.0") else ("[::1]" if host == "::" else host)
    reachable = f"[{reachable}]" if ":" in reachable and not reachable.startswith("[") else reachable
    return f"http://{reachable}:{port}/{stage_name()}"


def _invoke(route: SocketRoute, event: dict[str, Any]) -> dict[str, Any]:
    handler = getattr(importlib.import_module(route.module), route.handler)
    return call_handler(handler, event, LambdaContext(route.function)) or {}


def _event(route_key: str, event_type: str, connection_id: str, connection_ip: str, **extra: Any) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    now = int(time.time() * 1000)
    return {
        "requestContext": {
            "routeKey": route_key, "eventType": event_type, "connectionId": connection_id,
            "messageDirection": "IN", "stage": stage_name(), "apiId": "local", "domainName": "127.0.0.1",
            "requestId": request_id, "extendedRequestId": request_id, "requestTimeEpoch": now,
            "connectedAt": _connections[connection_id].connected_at if connection_id in _connections else now,
            "identity": {"sourceIp": connection_ip},
        },
        "isBase64Encoded": False,
        **extra,
    }


def select_route(body: str) -> str:
    """`$request.body.action`: the JSON body's `action` if a route has that key, else `$default`."""
    try:
        action = json.loads(body).get("action")
    except (ValueError, AttributeError):
        action = None
    routes = socket_routes()
    return action if isinstance(action, str) and action in routes and not action.startswith("$") else "$default"


def _new_connection_id() -> str:
    """Shaped like API Gateway's (16 characters, base64)."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()[:15] + "="


async def socket_endpoint(websocket: WebSocket) -> None:
    routes = socket_routes()
    connection_id = _new_connection_id()
    source_ip = websocket.client.host if websocket.client else "127.0.0.1"
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in websocket.headers.items():
        single[name] = value
        multi.setdefault(name, []).append(value)
    query = list(websocket.query_params.multi_items())
    connect = _event("$connect", "CONNECT", connection_id, source_ip, headers=single, multiValueHeaders=multi,
                     queryStringParameters=dict(query) or None,
                     multiValueQueryStringParameters={k: [v for n, v in query if n == k] for k, _ in query} or None)
    try:
        result = await run_in_threadpool(_invoke, routes["$connect"], connect) if "$connect" in routes else {}
    except Exception:  # a function error refuses the upgrade, as API Gateway does (500)
        logger.exception("WebSocket $connect failed")
        result = {"statusCode": 500, "body": json.dumps({"message": "Internal server error"})}
    status = int(result.get("statusCode", 200))
    headers = {name.lower(): str(value) for name, value in (result.get("headers") or {}).items()}
    if not 200 <= status < 300:  # API Gateway refuses the upgrade with the function's status
        await websocket.send_denial_response(Response(result.get("body") or "", status_code=status,
                                                      media_type=headers.get("content-type", "application/json")))
        return
    await websocket.accept(subprotocol=headers.get("sec-websocket-protocol"))
    connection = _connections[connection_id] = Connection(websocket, source_ip)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            body = message.get("text") if message.get("text") is not None else (message.get("bytes") or b"").decode(
                "utf-8", "replace")
            connection.last_active_at = int(time.time() * 1000)
            key = select_route(body)
            if key not in routes:
                await _send(connection, json.dumps({"message": "Forbidden", "connectionId": connection_id}))
                continue
            try:
                answer = await run_in_threadpool(_invoke, routes[key], _event(key, "MESSAGE", connection_id,
                                                                               source_ip, body=body))
            except Exception:  # a function error: API Gateway answers this on the socket, which stays open
                logger.exception("WebSocket route %s failed", key)
                answer = {"body": json.dumps({"message": "Internal server error", "connectionId": connection_id})}
            if answer.get("body"):  # the route response (two-way route) goes back on the socket
                await _send(connection, answer["body"])
    except WebSocketDisconnect:
        pass
    finally:
        _connections.pop(connection_id, None)
        if "$disconnect" in routes:
            try:
                await run_in_threadpool(_invoke, routes["$disconnect"],
                                        _event("$disconnect", "DISCONNECT", connection_id, source_ip))
            except Exception:  # the connection is gone either way; its items expire by TTL
                logger.exception("WebSocket $disconnect failed")


async def _send(connection: Connection, data: str | bytes) -> None:
    async with connection.lock:
        if isinstance(data, bytes):
            await connection.socket.send_bytes(data)
        else:
            await connection.socket.send_text(data)


def _gone(connection_id: str) -> Response:
    """What the Management API answers for a closed connection: 410, GoneException (botocore reads the type)."""
    return JSONResponse({"message": f"Connection {connection_id} is gone"}, status_code=410,
                        headers={"x-amzn-ErrorType": "GoneException"})


async def management(request: Request) -> Response:
    """POST sends the body to the connection; GET describes it; DELETE closes it."""
    connection_id = request.path_params["connection_id"]
    connection = _connections.get(connection_id)
    if connection is None:
        return _gone(connection_id)
    try:
        if request.method == "POST":
            data = await request.body()
            try:
                await _send(connection, data.decode("utf-8"))
            except UnicodeDecodeError:
                await _send(connection, data)
            return Response(status_code=200)
        if request.method == "DELETE":
            await connection.socket.close()
            return Response(status_code=204)
    except (RuntimeError, WebSocketDisconnect):  # closed while we wrote
        _connections.pop(connection_id, None)
        return _gone(connection_id)
    return JSONResponse({"connectedAt": connection.connected_at, "lastActiveAt": connection.last_active_at,
                         "identity": {"sourceIp": connection.source_ip}})


def routes() -> list[BaseRoute]:
    """The emulator's WebSocket routes, when the template declares a WebSocket API."""
    if not resources_of_type(API_TYPE):
        return []
    path = f"/{stage_name()}"
    return [WebSocketRoute(path, socket_endpoint),
            Route(path + "/@connections/{connection_id}", management, methods=["POST", "GET", "DELETE"])]


def refuse_other_sockets(app: ASGIApp) -> ASGIApp:
    """A WebSocket to any other path is refused (403), as API Gateway refuses one outside the stage."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await WebSocket(scope, receive, send).close(code=1008)
            return
        await app(scope, receive, send)

    return wrapped
