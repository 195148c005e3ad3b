"""Narratives: the API's reads, renames and deletes (stage 10 publishes them: pipeline/publish.py)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from narraforge.data import keys, s3
from narraforge.data.base import utcnow
from narraforge.data.models import NarrativeItem, NarrativeVersionItem, ProjectItem, StatsItem
from narraforge.data.narratives import find_head, find_version
from narraforge.data.transactions import Transaction
from narraforge.domain.errors import NotFound
from narraforge.enums import Genre, ProductionType
from narraforge.schemas.narratives import NarrativeDetailResponse, NarrativeResponse, NarrativeVersionResponse
from narraforge.services.cascade import delete_narrative_tree
from narraforge.services.pagination import PageResult, fetch_page

NOT_FOUND = "Narrative not found"


def get_head(user_id: str, narrative_id: str) -> NarrativeItem:
    head = find_head(user_id, narrative_id)
    if head is None:
        raise NotFound(NOT_FOUND)
    return head


def get_version(narrative_id: str, number: int) -> NarrativeVersionItem:
    version = find_version(narrative_id, number)
    if version is None:
        raise NotFound(f"Version {number} not found")
    return version


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
