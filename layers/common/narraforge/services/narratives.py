"""Narratives: publishing a finished job (stage 10) and the API's reads and deletes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from narraforge.data import keys, s3
from narraforge.data.base import utcnow
from narraforge.data.models import (
    CheckpointItem,
    JobItem,
    NarrativeItem,
    NarrativeVersionItem,
    ProjectItem,
    StatsItem,
)
from narraforge.data.transactions import Transaction
from narraforge.enums import Genre, JobStatus, ProductionType
from narraforge.errors import NotFound
from narraforge.observability import logger, metrics
from narraforge.schemas.narratives import NarrativeDetailResponse, NarrativeResponse, NarrativeVersionResponse
from narraforge.services import usage
from narraforge.services.cascade import delete_narrative_tree
from narraforge.services.job_state import status_actions
from narraforge.services.pagination import PageResult, fetch_page

if TYPE_CHECKING:
    from narraforge.pipeline.runner import JobStageContext

NOT_FOUND = "Narrative not found"


def publish(ctx: JobStageContext, sk: str, started: float) -> None:
    """Stage 10: assemble, store text and metadata in S3, then one transaction that completes the job
    and writes the narrative (head + version 1, or a new version of a regenerated narrative), project
    stats and the usage log — all or nothing. (The month's cost usage was billed call by call.)

    A first version takes the job's id as the narrative id and a regeneration keeps the version number
    it took on its first attempt (`_version_number`), so a retried stage 10 rewrites the same S3 keys
    instead of orphaning objects, and two regenerations never write the same key."""
    from narraforge.pipeline.stages.output_processing import assemble

    job = ctx.job
    assembled = assemble(ctx)
    narrative_id = job.target_narrative_id or job.job_id
    version = _version_number(job)
    text_key = s3.narrative_text_key(narrative_id, version)
    metadata_key = s3.narrative_metadata_key(narrative_id, version)
    s3.put_text(text_key, assembled.text)
    s3.put_json(metadata_key, assembled.metadata)
    stage_key = s3.stage_key(job.job_id, ctx.stage.number, ctx.stage.value)
    s3.put_json(stage_key, {"narrative_id": narrative_id, "version": version, "word_count": assembled.word_count})
    now = utcnow()
    job.refresh(consistent_read=True)  # every call is already billed on the head
    bill = _Bill(
        cost=round(float(job.actual_cost_usd or 0), 8),
        tokens=int(job.tokens_used or 0),
        duration=time.perf_counter() - started,
        unpriced_calls=int(job.unpriced_calls or 0),
    )
    version_item = NarrativeVersionItem(
        *NarrativeVersionItem.key(narrative_id, version), narrative_id=narrative_id, number=version,
        job_id=job.job_id, text_key=text_key, metadata_key=metadata_key, word_count=assembled.word_count,
        quality_metrics=assembled.quality_metrics, parent_version=job.parent_version,
        instructions=job.instructions, created_at=now,
    )
    if job.target_narrative_id:
        _publish_version(ctx, sk, stage_key, version_item, assembled, bill)
    else:
        _publish_first(ctx, sk, stage_key, version_item, assembled, bill)
    metrics.add_metric(name="JobsCompleted", unit="Count", value=1)
    metrics.add_metric(name="NarrativeWords", unit="Count", value=assembled.word_count)
    metrics.add_metric(name="JobTokens", unit="Count", value=bill.tokens)
    metrics.add_metric(name="JobCostUsd", unit="None", value=bill.cost)
    score = assembled.quality_metrics.get("overall_score")
    if score is not None:
        metrics.add_metric(name="OverallScore", unit="None", value=float(score))
    logger.info("narrative published", extra={"narrative_id": narrative_id, "version": version,
                                              "words": assembled.word_count})


def _version_number(job: JobItem) -> int:
    """1 for a first narrative. A regeneration takes its narrative's next number when it first reaches
    stage 10 (an atomic counter on the head) and records it on the job, which a retry then reuses.
    Numbers follow publication order, and a regeneration that fails earlier takes none."""
    if not job.target_narrative_id:
        return 1
    if job.target_version is None:
        head = NarrativeItem(*NarrativeItem.key(job.user_id, job.target_narrative_id))
        try:
            head.update(actions=[NarrativeItem.version_counter.add(1)], condition=NarrativeItem.pk.exists())
        except UpdateError as exc:
            from narraforge.llm.base import ValidationFailed

            raise ValidationFailed("the narrative was deleted while the job ran") from exc
        try:
            job.update(actions=[JobItem.target_version.set(int(head.version_counter))],
                       condition=JobItem.target_version.does_not_exist())
        except UpdateError:
            job.refresh(consistent_read=True)  # a concurrent attempt numbered it first
    return int(job.target_version)


@dataclass(frozen=True)
class _Bill:
    cost: float
    tokens: int
    duration: float
    unpriced_calls: int


def _completion(tx: Transaction, ctx: JobStageContext, sk: str, stage_key: str, narrative_id: str,
                bill: _Bill) -> None:
    """The operations every publication shares: checkpoint, job COMPLETED, usage log entry."""
    from narraforge.pipeline.runner import checkpoint_item, head_actions

    job = ctx.job
    log = usage.log_item(job, JobStatus.COMPLETED, narrative_id)
    job_actions = [*head_actions(ctx), *status_actions(job.user_id, JobStatus.COMPLETED, touch=False),
                   JobItem.narrative_id.set(narrative_id), JobItem.completed_at.set(utcnow())]
    tx.save("checkpoint", checkpoint_item(ctx, sk, stage_key, bill.duration),
            condition=CheckpointItem.pk.does_not_exist())
    tx.update("job", job, actions=job_actions, condition=JobItem.status == JobStatus.RUNNING.value)
    tx.save("log", log)


def _raise_for(failed: set[str], exc: TransactWriteError) -> None:
    from narraforge.llm.base import JobCancelled, ValidationFailed

    if "job" in failed:
        raise JobCancelled("job is no longer running; the narrative was not published") from exc
    if "project" in failed or "narrative" in failed:
        raise ValidationFailed("the project or narrative was deleted while the job ran") from exc
    raise exc


def _publish_first(ctx: JobStageContext, sk: str, stage_key: str, version_item: NarrativeVersionItem,
                   assembled: Any, bill: _Bill) -> None:
    job, brief = ctx.job, ctx.brief
    nid = version_item.narrative_id
    head = NarrativeItem(
        *NarrativeItem.key(job.user_id, nid), narrative_id=nid, user_id=job.user_id,
        project_id=job.project_id, job_id=job.job_id, title=assembled.title,
        production_type=brief.production_type.value, genre=brief.genre.value, word_count=assembled.word_count,
        overall_quality_score=assembled.quality_metrics.get("overall_score"), generation_cost_usd=bill.cost,
        unpriced_calls=bill.unpriced_calls,
        tokens_used=bill.tokens, version=1, version_counter=1,
        gsi1pk=keys.project_gsi1pk(job.project_id), gsi1sk=keys.narrative_sk(nid),
        gsi2pk=keys.narrative_genre_gsi2pk(job.user_id, brief.genre.value), gsi2sk=nid,
        created_at=version_item.created_at, updated_at=version_item.created_at,
    )
    tx = Transaction()
    try:
        with tx:
            _completion(tx, ctx, sk, stage_key, nid, bill)
            tx.save("narrative_new", head, condition=NarrativeItem.pk.does_not_exist())
            tx.save("version", version_item, condition=NarrativeVersionItem.pk.does_not_exist())
            tx.update("project", ProjectItem(*ProjectItem.key(job.user_id, job.project_id)),
                      actions=[ProjectItem.narrative_count.add(1),
                               ProjectItem.total_word_count.add(assembled.word_count),
                               ProjectItem.total_cost_usd.add(bill.cost), ProjectItem.updated_at.set(utcnow())],
                      condition=ProjectItem.pk.exists())
            tx.update("stats", StatsItem(*StatsItem.key()),
                      actions=[StatsItem.narratives.add(1), StatsItem.words.add(assembled.word_count),
                               StatsItem.tokens.add(bill.tokens), StatsItem.cost_usd.add(bill.cost),
                               StatsItem.jobs_completed.add(1), StatsItem.tag()])
    except TransactWriteError as exc:
        failed = tx.failed(exc)
        if "checkpoint" in failed:
            logger.info("narrative already published by a concurrent invocation")
            return
        _raise_for(failed, exc)


MAX_HEAD_RACES = 10


def _publish_version(ctx: JobStageContext, sk: str, stage_key: str, version_item: NarrativeVersionItem,
                     assembled: Any, bill: _Bill) -> None:
    """Adds version n to an existing narrative. The head moves to n only if it still shows an older
    version (optimistic concurrency on `version`): concurrent regenerations each add their version and
    the head ends on the newest; none is lost."""
    job = ctx.job
    nid, number = version_item.narrative_id, int(version_item.number)
    for _ in range(MAX_HEAD_RACES):
        head = get_head(job.user_id, nid)
        current = int(head.version)
        becomes_current = number > current
        word_delta = assembled.word_count - int(head.word_count) if becomes_current else 0
        tx = Transaction()
        try:
            with tx:
                _completion(tx, ctx, sk, stage_key, nid, bill)
                tx.save("version", version_item, condition=NarrativeVersionItem.pk.does_not_exist())
                head_actions_ = [NarrativeItem.generation_cost_usd.add(bill.cost),
                                 NarrativeItem.unpriced_calls.add(bill.unpriced_calls),
                                 NarrativeItem.tokens_used.add(bill.tokens), NarrativeItem.updated_at.set(utcnow())]
                if becomes_current:
                    head_actions_ += [NarrativeItem.version.set(number), NarrativeItem.job_id.set(job.job_id),
                                      NarrativeItem.word_count.set(assembled.word_count)]
                    if not head.title_by_user:
                        head_actions_.append(NarrativeItem.title.set(assembled.title))
                    # A version nobody judged shows no score, not the score of the version before it.
                    score = assembled.quality_metrics.get("overall_score")
                    head_actions_.append(NarrativeItem.overall_quality_score.set(score) if score is not None
                                         else NarrativeItem.overall_quality_score.remove())
                tx.update("narrative", head, actions=head_actions_,
                          condition=NarrativeItem.pk.exists() & (NarrativeItem.version == current))
                tx.update("project", ProjectItem(*ProjectItem.key(job.user_id, job.project_id)),
                          actions=[ProjectItem.total_word_count.add(word_delta),
                                   ProjectItem.total_cost_usd.add(bill.cost), ProjectItem.updated_at.set(utcnow())],
                          condition=ProjectItem.pk.exists())
                tx.update("stats", StatsItem(*StatsItem.key()),
                          actions=[StatsItem.words.add(word_delta), StatsItem.tokens.add(bill.tokens),
                                   StatsItem.cost_usd.add(bill.cost), StatsItem.jobs_completed.add(1),
                                   StatsItem.tag()])
            return
        except TransactWriteError as exc:
            failed = tx.failed(exc)
            if "checkpoint" in failed or "version" in failed:
                logger.info("version already published by a concurrent invocation")
                return
            if failed == {"narrative"}:
                continue  # another regeneration moved the head: re-read and try again
            _raise_for(failed, exc)
    from narraforge.llm.base import ValidationFailed

    raise ValidationFailed("the narrative head kept changing; resume the job to publish this version")


def get_head(user_id: str, narrative_id: str) -> NarrativeItem:
    try:
        return NarrativeItem.get(*NarrativeItem.key(user_id, narrative_id))
    except DoesNotExist as exc:
        raise NotFound(NOT_FOUND) from exc


def get_version(narrative_id: str, number: int) -> NarrativeVersionItem:
    try:
        return NarrativeVersionItem.get(*NarrativeVersionItem.key(narrative_id, number))
    except DoesNotExist as exc:
        raise NotFound(f"Version {number} not found") from exc


def read_with_view(user_id: str, narrative_id: str) -> NarrativeItem:
    """Counts the view and returns the head in one conditional update (no read-then-write)."""
    head = NarrativeItem(*NarrativeItem.key(user_id, narrative_id))
    try:
        head.update(actions=[NarrativeItem.view_count.add(1)], condition=NarrativeItem.pk.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(NOT_FOUND) from exc
        raise
    return head


def rename(user_id: str, narrative_id: str, title: str) -> NarrativeItem:
    """Sets the head's title in one conditional update: another user's (or no) narrative is 404. The title is
    the writer's from then on: a regeneration's new version does not replace it."""
    head = NarrativeItem(*NarrativeItem.key(user_id, narrative_id))
    try:
        head.update(actions=[NarrativeItem.title.set(title), NarrativeItem.title_by_user.set(True),
                             NarrativeItem.updated_at.set(utcnow())],
                    condition=NarrativeItem.pk.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(NOT_FOUND) from exc
        raise
    return head


def text_of(version: NarrativeVersionItem) -> str:
    return s3.get_bytes(version.text_key).decode("utf-8")


def list_page(user_id: str, *, project_id: str | None, genre: Genre | None,
              production_type: ProductionType | None, page: int, page_size: int,
              cursor: str | None) -> PageResult[NarrativeItem]:
    scope = f"narratives:{user_id}:{project_id}:{genre}:{production_type}"
    type_filter = (NarrativeItem.production_type == production_type.value) if production_type else None
    if genre is not None:
        source: Any = NarrativeItem.gsi2
        hash_key = keys.narrative_genre_gsi2pk(user_id, genre.value)
        condition = None
        filt = _and(type_filter, (NarrativeItem.project_id == project_id) if project_id else None)
        key_attrs: tuple[str, ...] = ("pk", "sk", "gsi2pk", "gsi2sk")
    elif project_id is not None:
        source, hash_key = NarrativeItem.gsi1, keys.project_gsi1pk(project_id)
        condition = NarrativeItem.gsi1sk.startswith(keys.NARR_PREFIX)
        filt = _and(type_filter, NarrativeItem.user_id == user_id)
        key_attrs = ("pk", "sk", "gsi1pk", "gsi1sk")
    else:
        source, hash_key = NarrativeItem, keys.user_pk(user_id)
        condition = NarrativeItem.sk.startswith(keys.NARR_PREFIX)
        filt = type_filter
        key_attrs = ("pk", "sk")
    return fetch_page(
        lambda **kw: source.query(hash_key, condition, filter_condition=filt, scan_index_forward=False, **kw),
        lambda: source.count(hash_key, condition, filter_condition=filt),
        page=page, page_size=page_size, cursor=cursor, scope=scope, key_attributes=key_attrs,
    )


def _and(*conditions: Any) -> Any:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    combined = present[0]
    for condition in present[1:]:
        combined &= condition
    return combined


def delete(user_id: str, narrative_id: str) -> None:
    """Head, every version, every S3 object (all object versions), and the project's stats."""
    head = get_head(user_id, narrative_id)
    delete_narrative_tree(head)
    tx = Transaction()
    try:
        with tx:
            tx.delete("narrative", head, condition=NarrativeItem.pk.exists())
            tx.update("project", ProjectItem(*ProjectItem.key(user_id, head.project_id)),
                      actions=[ProjectItem.narrative_count.add(-1),
                               ProjectItem.total_word_count.add(-int(head.word_count)),
                               ProjectItem.total_cost_usd.add(-float(head.generation_cost_usd)),
                               ProjectItem.updated_at.set(utcnow())],
                      condition=ProjectItem.pk.exists())
            tx.update("stats", StatsItem(*StatsItem.key()), actions=_stats_removal(head))
    except TransactWriteError as exc:
        if "narrative" in tx.failed(exc):
            raise NotFound(NOT_FOUND) from exc
        raise


def delete_with_project(head: NarrativeItem) -> None:
    """Part of a project delete: no project stats to maintain."""
    delete_narrative_tree(head)
    with Transaction() as tx:
        tx.delete("narrative", head)
        tx.update("stats", StatsItem(*StatsItem.key()), actions=_stats_removal(head))


def _stats_removal(head: NarrativeItem) -> list[Any]:
    return [StatsItem.narratives.add(-1), StatsItem.words.add(-int(head.word_count)), StatsItem.tag()]


def to_response(head: NarrativeItem) -> NarrativeResponse:
    return NarrativeResponse(**_common(head))


def to_detail(head: NarrativeItem, version: NarrativeVersionItem) -> NarrativeDetailResponse:
    return NarrativeDetailResponse(
        **(_common(head) | {"version": int(version.number), "word_count": int(version.word_count),
                            "job_id": version.job_id}),
        narrative_text=text_of(version),
        narrative_metadata=s3.get_json(version.metadata_key),
        quality_metrics=dict(version.quality_metrics or {}),
        parent_narrative_id=head.parent_narrative_id,
        exported_formats=list(head.exported_formats or []),
        updated_at=head.updated_at,
    )


def _common(head: NarrativeItem) -> dict[str, Any]:
    return {
        "id": head.narrative_id, "user_id": head.user_id, "project_id": head.project_id, "job_id": head.job_id,
        "title": head.title, "production_type": head.production_type, "genre": head.genre,
        "word_count": int(head.word_count), "overall_quality_score": head.overall_quality_score,
        "generation_cost_usd": (None if int(head.unpriced_calls or 0)
                                else round(float(head.generation_cost_usd), 6)), "tokens_used": int(head.tokens_used),
        "version": int(head.version), "view_count": int(head.view_count),
        "download_count": int(head.download_count), "created_at": head.created_at,
    }


def list_versions(user_id: str, narrative_id: str) -> list[NarrativeVersionResponse]:
    """Every version, oldest first; ownership is checked on the head (another user's id is 404)."""
    head = get_head(user_id, narrative_id)
    return [
        NarrativeVersionResponse(
            version=int(v.number), created_at=v.created_at, word_count=int(v.word_count),
            overall_score=(v.quality_metrics or {}).get("overall_score"), job_id=v.job_id,
            parent_version=int(v.parent_version) if v.parent_version is not None else None,
            instructions=v.instructions, is_current=int(v.number) == int(head.version),
        )
        for v in NarrativeVersionItem.query(keys.narrative_pk(narrative_id))
    ]
