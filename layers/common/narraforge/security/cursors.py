"""Opaque, signed pagination cursors: clients can pass them back but cannot forge or edit them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from narraforge.errors import InvalidInput
from narraforge.security.secrets import derived_key

_SIG_BYTES = 16


def encode_cursor(position: dict[str, Any], scope: str) -> str:
    """`scope` binds a cursor to one listing (user + filters) so it cannot be replayed elsewhere."""
    payload = json.dumps({"p": position, "s": scope}, separators=(",", ":"), sort_keys=True).encode()
    signature = hmac.new(derived_key("cursor"), payload, hashlib.sha256).digest()[:_SIG_BYTES]
    return base64.urlsafe_b64encode(signature + payload).decode().rstrip("=")


def decode_cursor(cursor: str, scope: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError) as exc:
        raise _invalid() from exc
    signature, payload = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
    expected = hmac.new(derived_key("cursor"), payload, hashlib.sha256).digest()[:_SIG_BYTES]
    if len(raw) <= _SIG_BYTES or not hmac.compare_digest(signature, expected):
        raise _invalid()
    data = json.loads(payload)
    if data.get("s") != scope or not isinstance(data.get("p"), dict):
        raise _invalid()
    return data["p"]


def _invalid() -> InvalidInput:
    return InvalidInput(
        "Invalid cursor",
        details=[{"loc": ["query", "cursor"], "msg": "cursor is invalid or belongs to another listing"}],
    )
