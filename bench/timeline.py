"""Timing of the provider calls of a benchmarked job: when each call was in flight, and which stage and
segment it served, so a wall time can be split into model latency and orchestration overhead."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from narraforge.llm.base import Completion, Message
from narraforge.llm.offline import OfflineEngine, context_of

# Prose tasks that run inside a Map iteration, by Map (the rest run one after another in a Task state).
MAP_TASKS = {"draft": "drafting", "extend": "drafting", "smooth_seam": "stylization"}


@dataclass(frozen=True)
class CallSpan:
    kind: str  # schema name of a structured call, else the prose task (draft, extend, revise, smooth_seam)
    segment: int | None
    started: float
    ended: float
    modelled: float  # the modelled latency in real (unscaled) seconds


@dataclass
class Timeline:
    """Shared by every provider instance the stage runner creates during one benchmark."""

    spans: list[CallSpan] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, span: CallSpan) -> None:
        with self.lock:
            self.spans.append(span)

    def in_flight_seconds(self) -> float:
        """Wall time during which at least one call was waiting on the (modelled) model."""
        total, end = 0.0, float("-inf")
        for span in sorted(self.spans, key=lambda s: s.started):
            if span.ended > end:
                total += span.ended - max(span.started, end)
                end = span.ended
        return total

    def critical_path(self, concurrency: int) -> dict[str, float]:
        """Modelled latency of the job with zero overhead, by call kind: Task-state calls one after another,
        each Map's per-segment chains list-scheduled on `concurrency` workers in segment order (as the Map
        runs them). The values add up to the whole critical path."""
        path: dict[str, float] = {}
        chains: dict[str, dict[int, float]] = {}
        for span in self.spans:
            group = MAP_TASKS.get(span.kind)
            if group is None or span.segment is None:
                path[span.kind] = path.get(span.kind, 0.0) + span.modelled
            else:
                per_segment = chains.setdefault(group, {})
                per_segment[span.segment] = per_segment.get(span.segment, 0.0) + span.modelled
        for group, per_segment in chains.items():
            workers = [0.0] * max(1, concurrency)
            for index in sorted(per_segment):
                free = workers.index(min(workers))
                workers[free] += per_segment[index]
            path[f"{group} map"] = max(workers)
        return {kind: round(seconds, 2) for kind, seconds in path.items()}


@dataclass
class SlowOfflineEngine:
    """The offline engine's replies after a modelled latency of `base + completion_tokens / tokens_per_second`
    seconds, slept for `scale` times that (a benchmark may run the clock faster and scale wall time back)."""

    seed: str
    timeline: Timeline
    base_seconds: float
    tokens_per_second: float | None = None
    scale: float = 1.0
    name: str = "offline"

    def complete(self, messages: list[Message], *, model: str, max_tokens: int, temperature: float,
                 json_schema: dict[str, Any] | None = None) -> Completion:
        started = time.perf_counter()
        reply = OfflineEngine(self.seed).complete(messages, model=model, max_tokens=max_tokens,
                                                  temperature=temperature, json_schema=json_schema)
        rate = reply.usage.completion_tokens / self.tokens_per_second if self.tokens_per_second else 0.0
        modelled = self.base_seconds + rate
        time.sleep(modelled * self.scale)
        facts = context_of(messages)
        kind = str(json_schema.get("name")) if json_schema else str(facts.get("task", "draft"))
        segment = facts.get("segment_index")
        self.timeline.add(CallSpan(kind, int(segment) if isinstance(segment, int) else None, started,
                                   time.perf_counter(), modelled))
        return reply


def install_slow_provider(timeline: Timeline, base_seconds: float, tokens_per_second: float | None = None,
                          scale: float = 1.0) -> None:
    """Every stage invocation gets a SlowOfflineEngine seeded by its job id (as `provider_for` would)."""
    from narraforge.pipeline import handler

    handler.provider_for = lambda job_id: SlowOfflineEngine(job_id, timeline, base_seconds, tokens_per_second, scale)
