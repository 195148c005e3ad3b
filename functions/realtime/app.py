"""Lambda entry point of the WebSocket API ($connect, $disconnect, subscribe, $default). Wiring only; a plain
handler (no FastAPI): the events are API Gateway's WebSocket proxy events."""

from typing import Any

from narraforge.api.websocket import handle
from narraforge.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event)
