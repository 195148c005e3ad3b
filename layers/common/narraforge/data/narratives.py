"""Narrative items: the head (one per narrative, under its user) and its versions (NARR#id / VER#n).
Item construction and the head's raw reads, shared by stage 10 (which writes them, pipeline/publish.py)
and the API's service (which reads, renames and deletes them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from narraforge.data import keys
from narraforge.data.models import NarrativeItem, NarrativeVersionItem


def find_head(user_id: str, narrative_id: str) -> NarrativeItem | None:
    try:
        return NarrativeItem.get(*NarrativeItem.key(user_id, narrative_id))
    except DoesNotExist:
        return None


def find_version(narrative_id: str, number: int) -> NarrativeVersionItem | None:
    try:
        return NarrativeVersionItem.get(*NarrativeVersionItem.key(narrative_id, number))
    except DoesNotExist:
        return None


def take_version_number(user_id: str, narrative_id: str) -> int | None:
    """The next number of the narrative's versions, from its atomic counter; None if it was deleted."""
    head = NarrativeItem(*NarrativeItem.key(user_id, narrative_id))
    try:
        head.update(actions=[NarrativeItem.version_counter.add(1)], condition=NarrativeItem.pk.exists())
    except UpdateError:
        return None
    return int(head.version_counter)


def new_version(narrative_id: str, number: int, *, job_id: str, text_key: str, metadata_key: str,
                word_count: int, quality_metrics: dict[str, Any], parent_version: int | None,
                instructions: str | None, created_at: datetime) -> NarrativeVersionItem:
    return NarrativeVersionItem(
        *NarrativeVersionItem.key(narrative_id, number), narrative_id=narrative_id, number=number,
        job_id=job_id, text_key=text_key, metadata_key=metadata_key, word_count=word_count,
        quality_metrics=quality_metrics, parent_version=parent_version, instructions=instructions,
        created_at=created_at,
    )


def new_head(version: NarrativeVersionItem, *, user_id: str, project_id: str, title: str, production_type: str,
             genre: str, cost_usd: float, unpriced_calls: int, tokens_used: int) -> NarrativeItem:
    """The head of a narrative whose first version is `version`, with the keys of its two listings (by
    project, by genre)."""
    nid = version.narrative_id
    return NarrativeItem(
        *NarrativeItem.key(user_id, nid), narrative_id=nid, user_id=user_id,
        project_id=project_id, job_id=version.job_id, title=title,
        production_type=production_type, genre=genre, word_count=version.word_count,
        overall_quality_score=(version.quality_metrics or {}).get("overall_score"), generation_cost_usd=cost_usd,
        unpriced_calls=unpriced_calls, tokens_used=tokens_used, version=1, version_counter=1,
        gsi1pk=keys.project_gsi1pk(project_id), gsi1sk=keys.narrative_sk(nid),
        gsi2pk=keys.narrative_genre_gsi2pk(user_id, genre), gsi2sk=nid,
        created_at=version.created_at, updated_at=version.created_at,
    )
