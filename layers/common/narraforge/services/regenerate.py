"""Regeneration: a new version of a narrative from the same brief (optionally changed), reusing the
current version's stage outputs before `from_stage`. It is a generation like any other (quota,
idempotency); it takes its version number when it publishes (stage 10, `pipeline/publish.py`), so a failed or
cancelled regeneration leaves no gap in the numbers."""

from __future__ import annotations

from pydantic import ValidationError

from narraforge.data import checkpoints, s3
from narraforge.data import jobs as jobs_repo
from narraforge.data.jobs import Job
from narraforge.domain.stages import progress_before
from narraforge.enums import Stage
from narraforge.errors import InvalidInput
from narraforge.observability import logger
from narraforge.schemas.briefs import ProductionBrief
from narraforge.schemas.narratives import RegenerateRequest
from narraforge.services import jobs
from narraforge.services.identity import CurrentUser
from narraforge.services.narratives import get_head, get_version

# Changing these reshapes the plan itself, so the plan cannot be reused.
STRUCTURAL_FIELDS = {"production_type", "genre", "subject", "target_length", "character_count", "language",
                     "setting_period", "featured_characters", "sequel_of"}


def regenerate(current: CurrentUser, narrative_id: str, body: RegenerateRequest,
               idempotency_key: str | None, admit: jobs.Admit | None = None) -> tuple[Job, bool]:
    """`admit` (the generation rate limit) runs only once the request passed every check."""
    head = get_head(current.id, narrative_id)
    source = jobs.get(current.id, get_version(narrative_id, int(head.version)).job_id)
    brief = _merged_brief(source, body)
    jobs.check_world_references(current.id, head.project_id, brief, at=("body", "brief_overrides"))
    request_hash = jobs.body_hash({"narrative_id": narrative_id, **body.model_dump(mode="json")})
    job, created = jobs.reserve(
        current, head.project_id, brief, idempotency_key, request_hash, admit=admit,
        target_narrative_id=narrative_id, parent_version=int(head.version), instructions=body.instructions,
        source_job_id=source.job_id,
    )
    if not created:
        return job, False
    reused = _reuse_checkpoints(source.job_id, job, body.from_stage)
    first_to_run = next((stage for stage in Stage if stage not in reused), Stage.OUTPUT_PROCESSING)
    segments_total, segments_drafted = _segment_counts(job.job_id, reused)
    jobs_repo.mark_reused(job, completed_stages=[stage.value for stage in reused],
                          progress=round(progress_before(first_to_run), 4), segments_total=segments_total,
                          segments_drafted=segments_drafted)
    logger.info("regeneration created", extra={"job_id": job.job_id, "narrative_id": narrative_id,
                                               "parent_version": int(head.version),
                                               "reused": [s.value for s in reused]})
    return jobs.start(job), True


def _segment_counts(job_id: str, reused: list[Stage]) -> tuple[int | None, int | None]:
    """The segment counters of what was reused: the plan's size, and the drafts taken over (None: not reused)."""
    total = drafted = None
    if Stage.SEGMENT_PLANNING in reused:
        plan = s3.get_json(s3.stage_key(job_id, Stage.SEGMENT_PLANNING.number, Stage.SEGMENT_PLANNING.value))
        total = len(plan["segments"])
    if Stage.SEGMENT_GENERATION in reused:
        drafted = checkpoints.count_segments(job_id, Stage.SEGMENT_GENERATION.number)
    return total, drafted


def _merged_brief(source: Job, body: RegenerateRequest) -> ProductionBrief:
    overrides = body.brief_overrides
    structural = sorted(STRUCTURAL_FIELDS & overrides.keys())
    if structural and body.from_stage is not Stage.BRIEF_INTERPRETATION:
        raise InvalidInput(
            "Changing these brief fields needs from_stage=brief_interpretation: " + ", ".join(structural),
            details=[{"loc": ["body", "brief_overrides", name], "msg": "requires from_stage=brief_interpretation"}
                     for name in structural],
        )
    try:
        return ProductionBrief.model_validate({**source.brief, **overrides})
    except ValidationError as exc:
        raise InvalidInput("Invalid brief_overrides", details=[
            {"loc": ["body", "brief_overrides", *[str(p) for p in err["loc"]]], "msg": err["msg"]}
            for err in exc.errors()
        ]) from exc


def _reuse_checkpoints(source_job_id: str, job: Job, from_stage: Stage) -> list[Stage]:
    """Copies the stage (and segment) outputs before `from_stage` into the new job, with checkpoints
    that bill nothing: those stages are neither re-run nor re-billed."""
    reused: list[Stage] = []
    for stage in Stage:
        if stage.number >= from_stage.number:
            break
        if not checkpoints.stage_done(source_job_id, stage.number):
            break
        for row in checkpoints.segment_rows(source_job_id, stage.number):
            index = int(row.segment)
            target = s3.segment_key(job.job_id, stage.number, index)
            s3.copy(row.s3_key, target)
            checkpoints.save_copied(job.job_id, stage.number, stage=row.stage, segment=row.segment, s3_key=target)
        target = s3.stage_key(job.job_id, stage.number, stage.value)
        s3.copy(s3.stage_key(source_job_id, stage.number, stage.value), target)
        checkpoints.save_copied(job.job_id, stage.number, stage=stage.value, segment=None, s3_key=target)
        reused.append(stage)
    return reused
