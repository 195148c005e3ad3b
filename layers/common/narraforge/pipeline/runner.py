"""The stage contract (DESIGN §7), in one place every stage goes through:

1. a stage (or segment) whose checkpoint exists returns without work — Retry, resume and duplicate
   invocations are safe and never billed twice;
2. a cancelled job stops with `JobCancelled`; the cost cap is checked before every LLM call;
3. output goes to S3 first, then one transaction writes the checkpoint and updates the job head,
   conditional on the job still RUNNING — a late write of a cancelled job is dropped;
4. errors are typed so the state machine can retry or record them.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from narraforge.config import get_settings
from narraforge.data import keys, s3
from narraforge.data.base import utcnow
from narraforge.data.models import CheckpointItem, JobItem
from narraforge.data.transactions import Transaction
from narraforge.enums import JobStatus, Stage
from narraforge.llm.base import (
    BudgetExceeded,
    Completion,
    JobCancelled,
    Message,
    PipelineError,
    Provider,
    Usage,
)
from narraforge.llm.pricing import cost_of, known_cost
from narraforge.observability import logger, stage_duration, tracer
from narraforge.pipeline.context import ModelRole
from narraforge.pipeline.stages import STAGES
from narraforge.schemas.briefs import ProductionBrief
from narraforge.services.usage import bill_call

MAP_STAGES = (Stage.SEGMENT_GENERATION, Stage.LANGUAGE_STYLIZATION)


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
    usage: StageUsage = field(default_factory=StageUsage)
    _outputs: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)  # stages may call the model from threads

    @property
    def job_id(self) -> str:
        return self.job.job_id

    @cached_property
    def brief(self) -> ProductionBrief:
        return ProductionBrief.model_validate(self.job.brief)

    def output_of(self, stage: Stage) -> dict[str, Any]:
        key = s3.stage_key(self.job_id, stage.number, stage.value)
        if key not in self._outputs:
            self._outputs[key] = s3.get_json(key)
        return self._outputs[key]

    def segment_output(self, stage: Stage, index: int) -> dict[str, Any] | None:
        try:
            return s3.get_json(s3.segment_key(self.job_id, stage.number, index))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

    def segment_outputs(self, stage: Stage) -> list[dict[str, Any]]:
        count = segment_count(self)
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
        if head.status != JobStatus.RUNNING.value:
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
            except PipelineError as exc:
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


def map_concurrency(plan: dict[str, Any], limit: int) -> int:
    """Sequential mode (short works: each draft reads the previous real text) drafts one at a time."""
    return 1 if plan.get("mode") == "sequential" else max(1, limit)


def load_job(user_id: str, job_id: str) -> JobItem:
    try:
        return JobItem.get(*JobItem.key(user_id, job_id), consistent_read=True)
    except DoesNotExist as exc:
        raise JobCancelled(f"job {job_id} no longer exists") from exc


def checkpoint_exists(job_id: str, sk: str) -> bool:
    try:
        CheckpointItem.get(keys.job_pk(job_id), sk, consistent_read=True)
    except DoesNotExist:
        return False
    return True


def completed_stages(job_id: str) -> set[Stage]:
    rows = CheckpointItem.query(keys.job_pk(job_id), CheckpointItem.sk.startswith("STAGE#"), consistent_read=True)
    return {Stage(row.stage) for row in rows}


def progress_through(stage: Stage) -> float:
    """Percent done when `stage` is complete: the sum of the stage weights up to it."""
    total = 0.0
    for candidate in Stage:
        total += STAGES[candidate].weight
        if candidate is stage:
            return round(total, 4)
    return 100.0


def run_stage(
    job: JobItem,
    stage: Stage,
    provider: Provider,
    *,
    segment: int | None = None,
    max_concurrency: int = 1,
) -> dict[str, Any]:
    """Runs one stage, one segment of a Map stage, or (no segment) a Map stage's finalize step.
    `max_concurrency` is the Map limit of the deployment; segment planning answers with the one to use."""
    sk = keys.segment_sk(stage.number, segment) if segment is not None else keys.stage_sk(stage.number)
    ctx = JobStageContext(job=job, stage=stage, segment=segment, provider=provider, instructions=job.instructions)
    if checkpoint_exists(job.job_id, sk):
        logger.info("checkpoint exists; skipping", extra={"segment": segment})
        return _result(ctx, max_concurrency)
    mark_started(job, stage)
    spec = STAGES[stage]
    started = time.perf_counter()
    if stage is Stage.OUTPUT_PROCESSING:
        from narraforge.services.narratives import publish

        publish(ctx, sk, started)
    else:
        if segment is not None:
            output = spec.run_segment(ctx, segment)  # type: ignore[misc]
            key = s3.segment_key(job.job_id, stage.number, segment)
        elif stage in MAP_STAGES:
            output = spec.finalize(ctx) if spec.finalize else {}
            key = s3.stage_key(job.job_id, stage.number, stage.value)
        else:
            output = spec.run(ctx)  # type: ignore[misc]
            key = s3.stage_key(job.job_id, stage.number, stage.value)
        s3.put_json(key, output)
        ctx._outputs[key] = output
        commit_checkpoint(ctx, sk, key, time.perf_counter() - started)
    duration = time.perf_counter() - started
    stage_duration(stage.value, duration)
    logger.info("stage complete", extra={"segment": segment, "llm_calls": ctx.usage.calls,
                                         "tokens": ctx.usage.prompt_tokens + ctx.usage.completion_tokens,
                                         "seconds": round(duration, 3)})
    return _result(ctx, max_concurrency)


def mark_started(job: JobItem, stage: Stage) -> None:
    """Shows the stage in progress as `current_stage` (conditional: a cancelled job stays cancelled)."""
    try:
        job.update(
            actions=[JobItem.current_stage.set(stage.value), JobItem.updated_at.set(utcnow())],
            condition=JobItem.status == JobStatus.RUNNING.value,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise JobCancelled("job is no longer running") from exc
        raise


def checkpoint_item(ctx: JobStageContext, sk: str, key: str, duration: float) -> CheckpointItem:
    return CheckpointItem(
        keys.job_pk(ctx.job_id),
        sk,
        job_id=ctx.job_id,
        stage=ctx.stage.value,
        segment=ctx.segment,
        s3_key=key,
        prompt_tokens=ctx.usage.prompt_tokens,
        completion_tokens=ctx.usage.completion_tokens,
        cost_usd=round(ctx.usage.cost_usd, 8),
        llm_calls=ctx.usage.calls,
        duration_seconds=round(duration, 3),
    )


def head_actions(ctx: JobStageContext) -> list[Any]:
    """Job-head changes of a finished stage or segment: progress and current stage (usage is billed per
    call, as it happens)."""
    actions: list[Any] = [
        JobItem.current_stage.set(ctx.stage.value),
        JobItem.updated_at.set(utcnow()),
    ]
    if ctx.segment is not None:
        share = STAGES[ctx.stage].weight / max(segment_count(ctx), 1)
        actions.append(JobItem.progress_percentage.add(round(share, 4)))
        if ctx.stage is Stage.SEGMENT_GENERATION:
            actions.append(JobItem.segments_drafted.add(1))
    else:
        actions += [
            JobItem.progress_percentage.set(progress_through(ctx.stage)),
            JobItem.completed_stages.set(JobItem.completed_stages.append([ctx.stage.value])),
        ]
        if ctx.stage is Stage.SEGMENT_PLANNING:
            actions.append(JobItem.segments_total.set(segment_count(ctx)))
    return actions


def commit_checkpoint(ctx: JobStageContext, sk: str, key: str, duration: float) -> None:
    tx = Transaction()
    try:
        with tx:
            tx.save("checkpoint", checkpoint_item(ctx, sk, key, duration),
                    condition=CheckpointItem.pk.does_not_exist())
            tx.update("job", ctx.job, actions=head_actions(ctx), condition=JobItem.status == JobStatus.RUNNING.value)
    except TransactWriteError as exc:
        failed = tx.failed(exc)
        if "checkpoint" in failed:
            logger.info("checkpoint written by a concurrent invocation; not billed twice")
            return
        if "job" in failed:
            raise JobCancelled("job is no longer running; the stage's write was dropped") from exc
        raise


def _result(ctx: JobStageContext, max_concurrency: int) -> dict[str, Any]:
    """What the state machine receives: small (ids and counts), never the text."""
    result: dict[str, Any] = {"stage": ctx.stage.value}
    if ctx.stage is Stage.SEGMENT_PLANNING and ctx.segment is None:
        result["segments"] = list(range(segment_count(ctx)))
        result["map_concurrency"] = map_concurrency(ctx.output_of(Stage.SEGMENT_PLANNING), max_concurrency)
    if ctx.segment is not None:
        result["segment"] = ctx.segment
    return result
