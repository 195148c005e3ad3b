"""Timing of the provider calls of a benchmarked job: when each call was in flight, and which stage and
segment it served, so a wall time can be split into model latency and orchestration overhead."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from narraforge.llm.base import Completion, Message
from narraforge.llm.offline import OfflineEngine, context_of
from narraforge.pipeline.layout import JUDGE_WINDOW
from narraforge.pipeline.stages.segment_planning import MAX_PARALLEL_ACTS

# The state machine's graph (statemachine/narrative_pipeline.asl.json) as phases run one after another; inside a
# phase, chains of calls (one per act, segment or window) run side by side on a limited number of workers.
PLANNING = ("brief_interpretation", "world_architecture", "character_architecture", "structure_design")
DRAFTING = ("draft", "extend")
JUDGING = ("coherence_review", "continuity_check")
SEAM = "smooth_seam"


@dataclass(frozen=True)
class CallSpan:
    kind: str  # schema name of a structured call, else the prose task (draft, extend, revise, smooth_seam)
    item: int | None  # the act (segment plans), window (judging) or segment (prose) the call serves
    started: float
    ended: float
    modelled: float  # the modelled latency in real (unscaled) seconds


def _schedule(chains: dict[int, float], workers: int) -> float:
    """Makespan of per-item chains list-scheduled in item order on `workers` (as a Map or a thread pool runs
    them: the next item starts on the first free worker)."""
    free = [0.0] * max(1, workers)
    for index in sorted(chains):
        slot = free.index(min(free))
        free[slot] += chains[index]
    return max(free) if chains else 0.0


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

    def serial_seconds(self) -> float:
        """Every call's modelled latency one after another: the job on one worker with no overhead."""
        return sum(s.modelled for s in self.spans)

    def _chains(self, kinds: tuple[str, ...], *, again: bool | None = None) -> dict[int, float]:
        """Per-item sums of the calls of `kinds`; `again` picks only the first call of each item (False) or only
        the later ones (True: a segment's second seam call is stage 8's finalize, after a revision)."""
        chains: dict[int, float] = {}
        seen: set[int] = set()
        for span in sorted(self.spans, key=lambda s: s.started):
            if span.kind not in kinds or span.item is None:
                continue
            if again is not None:
                repeated = span.item in seen
                seen.add(span.item)
                if repeated != again:
                    continue
            chains[span.item] = chains.get(span.item, 0.0) + span.modelled
        return chains

    def critical_path(self, concurrency: int, *, sequential: bool = False) -> dict[str, float]:
        """Modelled latency of the job with zero overhead, phase by phase along the state machine: the four
        planning calls in a chain; segment plans per act, acts side by side (a `sequential` work, drafted one
        segment after another, plans them in one chain); the drafting Map (1 at a time when `sequential`); the
        judging Map beside the seam Map (the Parallel state,
        each at `concurrency`: the longer of the two counts); revisions side by side; seams smoothed again;
        editorial. The values add up to the whole critical path."""
        drafting = 1 if sequential else concurrency
        path = {kind: sum(s.modelled for s in self.spans if s.kind == kind) for kind in PLANNING}
        acts = self._chains(("segment_plan",))
        path["segment plans (acts side by side)"] = (sum(acts.values()) if sequential
                                                     else _schedule(acts, MAX_PARALLEL_ACTS))
        path["drafting map"] = _schedule(self._chains(DRAFTING), drafting)
        judging = _schedule(self._chains(JUDGING), concurrency)
        seams = _schedule(self._chains((SEAM,), again=False), concurrency)
        path["judging map beside seam map"] = max(judging, seams)
        path["revisions"] = max((s.modelled for s in self.spans if s.kind == "revise"), default=0.0)
        path["seams again"] = max(self._chains((SEAM,), again=True).values(), default=0.0)
        path["editorial_review"] = sum(s.modelled for s in self.spans if s.kind == "editorial_review")
        return {kind: round(seconds, 2) for kind, seconds in path.items()}

    def branches(self, concurrency: int) -> dict[str, float]:
        """The two Maps of the Parallel state alone (the critical path counts the longer one)."""
        return {"judging map": round(_schedule(self._chains(JUDGING), concurrency), 2),
                "seam map": round(_schedule(self._chains((SEAM,), again=False), concurrency), 2)}


@dataclass
class SlowOfflineEngine:
    """The offline engine's replies after a modelled latency of `base + completion_tokens / tokens_per_second`
    seconds, times `scale` (a benchmark may run the clock faster and scale wall time back). The engine's own
    time writing the reply stands in for the model's, so it counts towards the latency: the call sleeps only
    the rest (a reply that took longer than its latency to write is that much late, like any overhead)."""

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
        time.sleep(max(0.0, modelled * self.scale - (time.perf_counter() - started)))
        facts = context_of(messages)
        kind = str(json_schema.get("name")) if json_schema else str(facts.get("task", "draft"))
        self.timeline.add(CallSpan(kind, _item(kind, facts), started, time.perf_counter(), modelled))
        return reply


def _item(kind: str, facts: dict[str, Any]) -> int | None:
    """The act, judging window or segment a call serves, read from its prompt's facts."""
    if kind == "segment_plan" and isinstance(facts.get("act"), dict):
        return int(facts["act"]["number"])
    if kind in JUDGING and facts.get("segments"):
        return int(facts["segments"][0]["index"]) // JUDGE_WINDOW
    index = facts.get("segment_index")
    return int(index) if isinstance(index, int) else None


def install_slow_provider(timeline: Timeline, base_seconds: float, tokens_per_second: float | None = None,
                          scale: float = 1.0) -> None:
    """Every stage invocation gets a SlowOfflineEngine seeded by its job id (as `provider_for` would)."""
    from narraforge.pipeline import handler

    handler.provider_for = lambda job_id: SlowOfflineEngine(job_id, timeline, base_seconds, tokens_per_second, scale)
