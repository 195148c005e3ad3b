"""Test-only model doubles for the in-memory pipeline (narraforge_dev.pipeline_double): a scripted weak model."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from narraforge.llm.base import Completion, Message
from narraforge.llm.offline import OfflineEngine

Spoiler = Callable[[dict[str, Any]], dict[str, Any] | str]


@dataclass
class WeakModel:
    """A scripted weak model: answers like the offline engine, except that the next reply to a schema named in
    `spoilers` is spoiled the way a small model spoils it (a date in a `want`, a runaway name, a missing cast
    member, ...): each spoiler takes the honest reply's JSON and returns the nonsense to send. Records every
    request and every spoiled reply, and can fail chosen requests (1-based) with an exception."""

    seed: str = "weak"
    spoilers: dict[str, deque[Spoiler]] = field(default_factory=dict)
    failures: dict[int, Exception] = field(default_factory=dict)
    requests: list[tuple[str, list[Message]]] = field(default_factory=list)
    spoiled: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    name: str = "openai"

    def spoil(self, schema: str, *spoilers: Spoiler) -> None:
        self.spoilers.setdefault(schema, deque()).extend(spoilers)

    def asked(self, schema: str) -> list[list[Message]]:
        return [messages for name, messages in self.requests if name == schema]

    def complete(self, messages: list[Message], *, model: str, max_tokens: int, temperature: float,
                 json_schema: dict[str, Any] | None = None) -> Completion:
        schema = str((json_schema or {}).get("name", "prose"))
        with self.lock:
            self.requests.append((schema, list(messages)))
            failure = self.failures.pop(len(self.requests), None)
            queue = self.spoilers.get(schema)
            spoiler = queue.popleft() if queue else None
        if failure is not None:
            raise failure
        honest = OfflineEngine(self.seed).complete(messages, model=model, max_tokens=max_tokens,
                                                   temperature=temperature, json_schema=json_schema)
        reply = replace(honest, metadata={"engine": "openai", "model": model})
        if spoiler is None:
            return reply
        spoiled = spoiler(json.loads(honest.text))
        text = spoiled if isinstance(spoiled, str) else json.dumps(spoiled, ensure_ascii=False)
        with self.lock:
            self.spoiled.append(text)
        return replace(reply, text=text)
