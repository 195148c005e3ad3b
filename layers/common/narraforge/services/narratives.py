"""Narratives: the API's reads, renames and deletes (stage 10 publishes them: pipeline/publish.py)."""

from __future__ import annotations

from typing import Any

from narraforge.data import narratives as narratives_repo
from narraforge.data import s3
from narraforge.data.narratives import Narrative, NarrativeVersion
from narraforge.enums import Genre, ProductionType
from narraforge.errors import NotFound
from narraforge.schemas.narratives import NarrativeDetailResponse, NarrativeResponse, NarrativeVersionResponse
from narraforge.services.cascade import delete_narrative_tree
from narraforge.services.pagination import PageResult, fetch_page

NOT_FOUND = "Narrative not found"


def get_head(user_id: str, narrative_id: str) -> Narrative:
    head = narratives_repo.find_head(user_id, narrative_id)
    if head is None:
        raise NotFound(NOT_FOUND)
    return head


def get_version(narrative_id: str, number: int) -> NarrativeVersion:
    version = narratives_repo.find_version(narrative_id, number)
    if version is None:
        raise NotFound(f"Version {number} not found")
    return version


def read_with_view(user_id: str, narrative_id: str) -> Narrative:
    """Counts the view and returns the head in one conditional update (no read-then-write)."""
    head = narratives_repo.count_view(user_id, narrative_id)
    if head is None:
        raise NotFound(NOT_FOUND)
    return head


def rename(user_id: str, narrative_id: str, title: str) -> Narrative:
    """Sets the head's title in one conditional update: another user's (or no) narrative is 404. The title is
    the writer's from then on: a regeneration's new version does not replace it."""
    head = narratives_repo.rename(user_id, narrative_id, title)
    if head is None:
        raise NotFound(NOT_FOUND)
    return head


def text_of(version: NarrativeVersion) -> str:
    return s3.get_bytes(version.text_key).decode("utf-8")


def list_page(user_id: str, *, project_id: str | None, genre: Genre | None,
              production_type: ProductionType | None, page: int, page_size: int,
              cursor: str | None) -> PageResult[Narrative]:
    scope = f"narratives:{user_id}:{project_id}:{genre}:{production_type}"
    listing = narratives_repo.listing(user_id, project_id=project_id, genre=genre.value if genre else None,
                                      production_type=production_type.value if production_type else None)
    return fetch_page(listing.query, listing.count, page=page, page_size=page_size, cursor=cursor,
                      scope=scope, key_attributes=listing.key_attributes)


def delete(user_id: str, narrative_id: str) -> None:
    """Head, every version, every S3 object (all object versions), and the project's stats."""
    head = get_head(user_id, narrative_id)
    delete_narrative_tree(head)
    if not narratives_repo.delete(head):
        raise NotFound(NOT_FOUND)


def delete_with_project(head: Narrative) -> None:
    """Part of a project delete: no project stats to maintain."""
    delete_narrative_tree(head)
    narratives_repo.delete_with_project(head)


def to_response(head: Narrative) -> NarrativeResponse:
    return NarrativeResponse(**_common(head))


def to_detail(head: Narrative, version: NarrativeVersion) -> NarrativeDetailResponse:
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


def _common(head: Narrative) -> dict[str, Any]:
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
        for v in narratives_repo.versions(narrative_id)
    ]
