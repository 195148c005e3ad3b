"""The runner's StageContext over DynamoDB, S3 and a provider, with the job's call journal: every model call's
reply is stored (jobs/<id>/calls/...) before it is used, so a retried or resumed stage asking the same thing
again replays it instead of paying for it twice."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from botocore.exceptions import ClientError

from narraforge.config import get_settings
from narraforge.data import keys, s3, worlds
from narraforge.data.models import JobItem
from narraforge.domain.billing import bill_call
from narraforge.enums import JobStatus, Stage
from narraforge.errors import BudgetExceeded, JobCancelled, ValidationFailed
from narraforge.llm.base import Completion, Message, Provider, ProviderError, Usage
from narraforge.llm.pricing import cost_of, known_cost
from narraforge.observability import logger, tracer
from narraforge.pipeline.context import ModelRole
from narraforge.pipeline.layout import map_items
from narraforge.schemas.briefs import ProductionBrief


@dataclass
class StageUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0


@dataclass
class JobStageContext:
    """The runner's StageContext: reads earlier outputs from S3, calls the provider, counts usage."""

    job: JobItem
    stage: Stage
    segment: int | None
    provider: Provider
    instructions: str | None = None
    # The status a model call needs: RUNNING, except for the world update a COMPLETED job makes (world_update.py).
    calls_while: JobStatus = JobStatus.RUNNING
    usage: StageUsage = field(default_factory=StageUsage)
    started: float = field(default_factory=time.perf_counter)  # the runner restarts it when the work begins
    _outputs: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)  # stages may call the model from threads

    @property
    def job_id(self) -> str:
        return self.job.job_id

    @property
    def checkpoint_sk(self) -> str:
        """The sort key of the checkpoint this stage (or Map segment) writes when it is done."""
        if self.segment is not None:
            return keys.segment_sk(self.stage.number, self.segment)
        return keys.stage_sk(self.stage.number)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @cached_property
    def brief(self) -> ProductionBrief:
        return ProductionBrief.model_validate(self.job.brief)

    @property
    def world_version(self) -> int | None:
        return int(self.job.world_version) if self.job.world_version else None

    def world_document(self, version: int) -> dict[str, Any]:
        key = f"world:{version}"
        if key not in self._outputs:
            item = worlds.version(self.job.project_id, version)
            if item is None:
                raise ValidationFailed(f"version {version} of the project's world is gone")
            self._outputs[key] = worlds.read_document(item)
        return self._outputs[key]

    def output_of(self, stage: Stage) -> dict[str, Any]:
        key = s3.stage_key(self.job_id, stage.number, stage.value)
        if key not in self._outputs:
            self._outputs[key] = s3.get_json(key)
        return self._outputs[key]

    def store(self, key: str, output: dict[str, Any]) -> None:
        """Writes a stage's output to S3 and keeps it for this invocation's later reads."""
        s3.put_json(key, output)
        self._outputs[key] = output

    def segment_output(self, stage: Stage, index: int) -> dict[str, Any] | None:
        try:
            return s3.get_json(s3.segment_key(self.job_id, stage.number, index))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

    def segment_outputs(self, stage: Stage) -> list[dict[str, Any]]:
        count = map_items(stage, segment_count(self))
        return [s3.get_json(s3.segment_key(self.job_id, stage.number, i)) for i in range(count)]

    def complete(
        self,
        role: ModelRole,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float = 0.7,
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        """A call whose result is in the job's call journal (a retried or resumed stage asking the same
        thing again) is replayed from it: every successful call is made, and billed, exactly once."""
        model = get_settings().model_for(role.value, self.stage.value)
        journal_key = s3.call_key(self.job_id, self.stage.number, self.segment,
                                  _call_fingerprint(model, messages, max_tokens, temperature, json_schema))
        recorded = _journal_read(journal_key)
        if recorded is not None:
            self._count(recorded)
            return replace(recorded, metadata={**recorded.metadata, "journal_key": journal_key})
        head = _reload(self.job)
        if head.status != self.calls_while.value:
            raise JobCancelled(f"job is {head.status}")
        cap = get_settings().job_cost_cap_usd if head.cost_cap_usd is None else float(head.cost_cap_usd)
        spent = float(head.actual_cost_usd or 0)
        if spent >= cap:
            raise BudgetExceeded(f"job cost cap of ${cap:.4f} reached (spent ${spent:.4f}; the per-job cap or "
                                 "what the monthly cost limit left)")
        started = time.perf_counter()
        with tracer.provider.in_subsegment(f"## llm {role.value}") as subsegment:
            subsegment.put_annotation("model", model)
            try:
                completion = self.provider.complete(
                    messages, model=model, max_tokens=max_tokens, temperature=temperature, json_schema=json_schema
                )
            except ProviderError as exc:
                if exc.usage is not None:  # the provider charged for replies it could not use
                    self._bill(exc.usage, cost_of(model, exc.usage, provider=self.provider.name),
                               priced=known_cost(model, exc.usage, provider=self.provider.name) is not None)
                raise
            cost = cost_of(completion.model, completion.usage, provider=self.provider.name)
            subsegment.put_metadata("usage", {"prompt_tokens": completion.usage.prompt_tokens,
                                              "completion_tokens": completion.usage.completion_tokens,
                                              "cost_usd": cost}, "narraforge")
        s3.put_json(journal_key, {"text": completion.text, "model": completion.model,
                                  "finish_reason": completion.finish_reason, "metadata": completion.metadata,
                                  "prompt_tokens": completion.usage.prompt_tokens,
                                  "completion_tokens": completion.usage.completion_tokens, "cost_usd": cost})
        self._bill(completion.usage, cost,
                   priced=known_cost(completion.model, completion.usage, provider=self.provider.name) is not None)
        self._count(completion, cost)
        completion = replace(completion, metadata={**completion.metadata, "journal_key": journal_key})
        logger.debug(
            "llm call",
            extra={
                "model": model,
                "role": role.value,
                "seconds": round(time.perf_counter() - started, 3),
                "prompt_tokens": completion.usage.prompt_tokens,
                "completion_tokens": completion.usage.completion_tokens,
            },
        )
        return completion

    def forget(self, completion: Completion) -> None:
        key = completion.metadata.get("journal_key")
        if key:
            s3.delete(key)

    def _bill(self, usage: Usage, cost: float, *, priced: bool = True) -> None:
        """Billed now, unconditionally (the provider was paid even if the job is cancelled meanwhile): to
        the job, to this stage, and to the month's cost usage, in one transaction (`usage.bill_call`).
        A call whose model has no known price counts 0 and marks the job's cost as unknown."""
        bill_call(self.job, self.stage, usage, cost, priced=priced)

    def _count(self, completion: Completion, cost: float | None = None) -> None:
        with self._lock:
            self._add(completion, cost)

    def _add(self, completion: Completion, cost: float | None) -> None:
        self.usage.calls += 1
        self.usage.prompt_tokens += completion.usage.prompt_tokens
        self.usage.completion_tokens += completion.usage.completion_tokens
        self.usage.cost_usd += completion.metadata.get("cost_usd", 0.0) if cost is None else cost


def _call_fingerprint(model: str, messages: list[Message], max_tokens: int, temperature: float,
                      json_schema: dict[str, Any] | None) -> str:
    payload = json.dumps({"model": model, "messages": [[m.role, m.content] for m in messages],
                          "max_tokens": max_tokens, "temperature": temperature, "schema": json_schema},
                         sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:40]


def _journal_read(key: str) -> Completion | None:
    try:
        entry = s3.get_json(key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise
    return Completion(text=entry["text"], usage=Usage(entry["prompt_tokens"], entry["completion_tokens"]),
                      model=entry["model"], finish_reason=entry["finish_reason"],
                      metadata={**entry["metadata"], "replayed": True, "cost_usd": entry["cost_usd"]})


def _reload(job: JobItem) -> JobItem:
    return JobItem.get(job.pk, job.sk, consistent_read=True)


def segment_count(ctx: JobStageContext) -> int:
    return len(ctx.output_of(Stage.SEGMENT_PLANNING)["segments"])
