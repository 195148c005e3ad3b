"""API Gateway WebSocket events (`$connect`, `$disconnect`, `subscribe`, `$default`) → services.realtime.

Plain dicts, no web framework: the function's cold start loads no FastAPI. A message's answer is the route
response (the integration's `body`, sent back on the socket); a refused message is answered with an `error`
message in the fields of RFC 9457 problem details, and the socket stays open.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError

from narraforge.api.resolver import ANSWERED, resolve
from narraforge.domain import push
from narraforge.errors import BadRequest, DomainError, InvalidInput
from narraforge.observability import logger
from narraforge.schemas.realtime import ErrorMessage, SubscribeMessage
from narraforge.services import realtime

# Browsers cannot set an Authorization header on a WebSocket: the token comes as `?token=` or as the second
# entry of `new WebSocket(url, ["narraforge.bearer", token])`, whose first entry the server echoes back.
BEARER_PROTOCOL = "narraforge.bearer"
# RFC 9110's phrase, as the HTTP API's problems say it (Python's HTTPStatus still has RFC 7231's).
TITLES = {422: "Unprocessable Content"}


def handle(event: dict[str, Any]) -> dict[str, Any]:
    context = event.get("requestContext") or {}
    route, connection_id = context.get("routeKey"), str(context.get("connectionId") or "")
    logger.append_keys(connection_id=connection_id, route=route)
    if route == "$connect":
        return _connect(connection_id, event)
    if route == "$disconnect":
        push.forget(connection_id)
        return {"statusCode": 200}
    return _message(route, connection_id, event.get("body"))


def access_token(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """(token, subprotocol to echo) from the query string or the Sec-WebSocket-Protocol header."""
    query = event.get("queryStringParameters") or {}
    if query.get("token"):
        return query["token"], None
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    offered = [part.strip() for part in str(headers.get("sec-websocket-protocol") or "").split(",") if part.strip()]
    if BEARER_PROTOCOL in offered:
        others = [part for part in offered if part != BEARER_PROTOCOL]
        return (others[0] if others else None), BEARER_PROTOCOL
    return None, None


def _connect(connection_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """A non-2xx answer makes API Gateway refuse the upgrade with that HTTP status."""
    token, protocol = access_token(event)
    try:
        realtime.connect(connection_id, token)
    except ANSWERED as exc:
        logger.info("connection refused", extra={"code": resolve(exc).code})
        return {"statusCode": resolve(exc).status, "headers": {"Content-Type": "application/problem+json"},
                "body": json.dumps(_error(exc).model_dump(exclude={"event", "action", "job_id"}, exclude_none=True))}
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": protocol} if protocol else {}}


def _message(route: str | None, connection_id: str, body: str | None) -> dict[str, Any]:
    try:
        message = json.loads(body or "")
    except ValueError:
        message = None
    action = message.get("action") if isinstance(message, dict) else None
    job_id = message.get("job_id") if isinstance(message, dict) and isinstance(message.get("job_id"), str) else None
    try:
        if route != "subscribe":
            raise BadRequest('Unknown message; send {"action": "subscribe", "job_id": "<your job id>"}')
        try:
            request = SubscribeMessage.model_validate(message)
        except ValidationError as exc:
            raise InvalidInput("Invalid subscribe message", details=[
                {"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]}
                for error in exc.errors(include_url=False, include_context=False, include_input=False)]) from exc
        answer = realtime.subscribe(connection_id, request.job_id).model_dump(mode="json")
    except ANSWERED as exc:
        logger.info("message refused", extra={"code": resolve(exc).code, "action": action})
        answer = _error(exc, action=action if isinstance(action, str) else None, job_id=job_id).model_dump(
            mode="json", exclude_none=True)
    return {"statusCode": 200, "body": json.dumps(answer)}


def _error(exc: DomainError, *, action: str | None = None, job_id: str | None = None) -> ErrorMessage:
    status, code = resolve(exc)
    return ErrorMessage(title=TITLES.get(status) or HTTPStatus(status).phrase,
                        status=status, detail=exc.message, code=code, action=action, job_id=job_id,
                        errors=exc.details if isinstance(exc.details, list) else None)
