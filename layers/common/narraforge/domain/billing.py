"""Billing the job core keeps: every model call billed as it happens (job head, its stage, the month's cost),
the per-stage breakdown, and the usage log entry of every job that ended. The pipeline bills through it and
the refund of an ended job writes its log entry, so it sits below both."""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

from pynamodb.exceptions import TransactWriteError

from narraforge.data import checkpoints
from narraforge.data import jobs as jobs_repo
from narraforge.data import usage as usage_repo
from narraforge.data.checkpoints import Checkpoint
from narraforge.data.jobs import Job
from narraforge.data.transactions import Transaction
from narraforge.data.usage import UsageLog
from narraforge.domain.quotas import current_month
from narraforge.enums import JobStatus, Stage
from narraforge.schemas.jobs import StageUsage


class CallUsage(Protocol):
    """The tokens of one model call (an `llm.base.Usage`); named here so the job core does not import llm."""

    @property
    def prompt_tokens(self) -> int: ...

    @property
    def completion_tokens(self) -> int: ...

    @property
    def total_tokens(self) -> int: ...


MAX_RACES = 10
ENDED = (JobStatus.COMPLETED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value)


def bill_call(job: Job, stage: Stage, usage: CallUsage, cost: float, *, priced: bool = True) -> None:
    """Bills one paid model call in one transaction: the job head, the stage's counters and the month's
    cost usage — whatever the job's state, since the provider was paid even if the job was cancelled
    meanwhile. The first billed drafting call (segment_generation) marks the job so that it keeps its
    generation; if a cancel gave the generation back while this call was in flight, it is taken again.
    A call billed after the job ended also brings the job's usage log entry up to date."""
    cost = round(cost, 8)
    drafting = stage is Stage.SEGMENT_GENERATION
    running, held = True, True  # what the job is expected to be; re-read when a condition says otherwise
    for _ in range(MAX_RACES):
        retake = drafting and not held
        month = current_month()
        tx = Transaction()
        try:
            with tx:
                jobs_repo.bill(tx, job, tokens=usage.total_tokens, cost=cost, priced=priced,
                               while_status=JobStatus.RUNNING.value if running else None, drafting=drafting,
                               held=held, retake=retake)
                usage_repo.bill_stage(tx, job.job_id, stage.number, stage.value, prompt_tokens=usage.prompt_tokens,
                                      completion_tokens=usage.completion_tokens, cost=cost)
                if retake and job.usage_month != month:
                    usage_repo.take_generation(tx, job.user_id, job.usage_month)
                usage_repo.add_cost(tx, job.user_id, month, cost, generation=retake and job.usage_month == month)
        except TransactWriteError as exc:
            if "job" not in tx.failed(exc):
                raise
            head = jobs_repo.reread(job)
            if head is None:
                return  # the job was deleted with its account or project: nobody left to bill
            running, held = head.status == JobStatus.RUNNING.value, bool(head.quota_held)
            continue
        if not running:
            refresh_log(job)
        return
    raise RuntimeError(f"could not bill a call of job {job.job_id}: its state kept changing")


def stage_usage(job_id: str) -> list[StageUsage]:
    """Per stage, in pipeline order: what it was billed (every paid call, its Map segments' included)
    and, once its work is checkpointed, how long that work took (the stage and its segments) and when it
    finished. A job billed before per-stage bills existed falls back to its checkpoints' counts."""
    bills = usage_repo.stage_bills(job_id)
    done: dict[str, Checkpoint] = {}
    counted: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in checkpoints.of_job(job_id):
        if row.segment is None:
            done[row.stage] = row
        for name in ("llm_calls", "prompt_tokens", "completion_tokens", "cost_usd", "duration_seconds"):
            counted[row.stage][name] += float(getattr(row, name) or 0)
    result = []
    for stage in Stage:
        bill, checkpoint, sums = bills.get(stage.value), done.get(stage.value), counted.get(stage.value, {})
        if bill is None and checkpoint is None:
            continue
        source = {"llm_calls": bill.llm_calls, "prompt_tokens": bill.prompt_tokens,
                  "completion_tokens": bill.completion_tokens, "cost_usd": bill.cost_usd} if bill else sums
        result.append(StageUsage(
            stage=stage.value, llm_calls=int(source.get("llm_calls") or 0),
            prompt_tokens=int(source.get("prompt_tokens") or 0),
            completion_tokens=int(source.get("completion_tokens") or 0),
            cost_usd=round(float(source.get("cost_usd") or 0), 6),
            duration_seconds=round(float(sums.get("duration_seconds", 0)), 3),
            completed_at=checkpoint.completed_at if checkpoint else None,
        ))
    return result


def log_item(job: Job, status: JobStatus, narrative_id: str | None = None) -> UsageLog:
    """The usage log entry of a job that ended with `status`: its totals (from the head as read) and
    its per-stage usage."""
    stages = {s.stage: {"tokens": s.prompt_tokens + s.completion_tokens, "cost_usd": s.cost_usd,
                        "llm_calls": s.llm_calls} for s in stage_usage(job.job_id)}
    return usage_repo.log_entry(job, status.value, narrative_id, stages)


def refresh_log(job: Job) -> None:
    """Rewrites an ended job's log entry from its current bill (a call billed after it ended)."""
    head = jobs_repo.reread(job)
    if head is not None and head.status in ENDED:
        usage_repo.save_log(log_item(head, JobStatus(head.status), head.narrative_id))
