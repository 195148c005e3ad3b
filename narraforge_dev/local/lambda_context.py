"""How the local stack calls a function's real `handler` as Lambda would: the `context` it receives and the thread
it runs on. Shared by the REST emulator (apigw.py), the WebSocket emulator (websocket.py), the Step Functions bridge
(lambda_bridge.py) and `make invoke`; it imports only the standard library, so none of them imports another for it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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


def call_handler(handler: Handler, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda runs handlers on a thread that has an event loop (Mangum relies on it); so do we."""
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    return handler(event, context)
