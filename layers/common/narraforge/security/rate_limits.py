"""Fixed-window rate limits kept in DynamoDB (README, "Account, usage and limits"): one conditional ADD per
request, so a request is counted once, refused requests are not counted, and concurrent Lambdas share the window."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import UpdateError

from narraforge.data import keys
from narraforge.data.models import RateWindowItem
from narraforge.errors import RateLimited


@dataclass(frozen=True)
class Decision:
    limit: int
    remaining: int
    reset_seconds: int
    window_seconds: int

    def headers(self) -> dict[str, str]:
        """IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers)."""
        return {
            "RateLimit-Policy": f"{self.limit};w={self.window_seconds}",
            "RateLimit": f"limit={self.limit}, remaining={self.remaining}, reset={self.reset_seconds}",
        }


def enforce(subject: str, limit: int, window_seconds: int = 60, *, now: float | None = None) -> Decision:
    """Counts one request for `subject`; raises 429 with Retry-After once the window is full."""
    now = time.time() if now is None else now
    window = int(now // window_seconds)
    reset = max(1, math.ceil((window + 1) * window_seconds - now))
    item = RateWindowItem(keys.rate_pk(subject, window), keys.RATE_SK)
    expires = datetime.fromtimestamp((window + 2) * window_seconds, UTC) + timedelta(minutes=5)
    try:
        item.update(
            actions=[RateWindowItem.count.add(1), RateWindowItem.ttl.set(expires), RateWindowItem.tag()],
            condition=RateWindowItem.count.does_not_exist() | (RateWindowItem.count < limit),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        decision = Decision(limit, 0, reset, window_seconds)
        raise RateLimited(
            f"Too many requests: at most {limit} per {window_seconds} s. Retry in {reset} s.",
            details={"limit": limit, "window_seconds": window_seconds, "retry_after_seconds": reset},
            headers={"Retry-After": str(reset), **decision.headers()},
        ) from exc
    return Decision(limit, max(0, limit - int(item.count)), reset, window_seconds)
