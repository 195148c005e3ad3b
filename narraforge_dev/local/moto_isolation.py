"""Gives moto's DynamoDB the isolation real DynamoDB has.

moto applies a transaction by deep-copying the whole table as a backup, checking, writing, and on a
failed condition restoring that copy — with no lock. Under concurrent requests (the threaded local
stack, parallel Map iterations, parallel tests) that loses other threads' writes or crashes with
"dictionary changed size during iteration". Serialising the backend's data operations with one lock
restores what the service guarantees: each request, and each transaction as a whole, is atomic."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

OPERATIONS = ("put_item", "get_item", "query", "scan", "update_item", "delete_item", "transact_write_items",
              "transact_get_items", "batch_get_item", "batch_write_item", "create_table", "delete_table",
              "describe_table", "update_time_to_live")

_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {}


def _serialised(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, *args, **kwargs)

    return call


def install() -> None:
    """Idempotent."""
    for name in OPERATIONS:
        if name not in _originals:
            _originals[name] = getattr(DynamoDBBackend, name)
            setattr(DynamoDBBackend, name, _serialised(_originals[name]))
