"""Narrative items: the head (one per narrative, under its user; in GSI1 under its project, in GSI2 under its
user and genre) and its versions (NARR#id / VER#n). Item construction, reads, listings and the updates of the
head, shared by stage 10 (which writes them, pipeline/publish.py) and the API's services (which read, count,
rename, export and delete them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from narraforge.data import keys, projects, usage
from narraforge.data.base import applied, utcnow
from narraforge.data.listing import Listing
from narraforge.data.models import NarrativeItem, NarrativeVersionItem
from narraforge.data.transactions import Transaction, delete_all

Narrative = NarrativeItem  # the records this repository hands out
NarrativeVersion = NarrativeVersionItem


def find_head(user_id: str, narrative_id: str) -> NarrativeItem | None:
    return NarrativeItem.find(*NarrativeItem.key(user_id, narrative_id))


def find_version(narrative_id: str, number: int) -> NarrativeVersionItem | None:
    return NarrativeVersionItem.find(*NarrativeVersionItem.key(narrative_id, number))


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


def _update_head(user_id: str, narrative_id: str, actions: list[Any]) -> NarrativeItem | None:
    """One conditional update of an existing head, returning it as updated; None if there is none."""
    head = NarrativeItem(*NarrativeItem.key(user_id, narrative_id))
    return head if applied(lambda: head.update(actions=actions, condition=NarrativeItem.pk.exists())) else None


def count_view(user_id: str, narrative_id: str) -> NarrativeItem | None:
    """Counts a view and returns the head, in one conditional update (no read-then-write)."""
    return _update_head(user_id, narrative_id, [NarrativeItem.view_count.add(1)])


def rename(user_id: str, narrative_id: str, title: str) -> NarrativeItem | None:
    """Sets the title as its writer's (a regeneration's new version keeps it)."""
    return _update_head(user_id, narrative_id, [NarrativeItem.title.set(title), NarrativeItem.title_by_user.set(True),
                                                NarrativeItem.updated_at.set(utcnow())])


def record_download(head: NarrativeItem, fmt: str) -> bool:
    """One atomic update: counts the download and, the first time, lists the format (never twice, even when
    two first exports race: the append is conditional on the format being absent). False if the head is gone."""
    item = NarrativeItem(head.pk, head.sk)
    count = NarrativeItem.download_count.add(1)
    if fmt not in (head.exported_formats or []) and applied(lambda: item.update(
            actions=[count, NarrativeItem.exported_formats.set((NarrativeItem.exported_formats | []).append([fmt]))],
            condition=NarrativeItem.pk.exists() & ~NarrativeItem.exported_formats.contains(fmt))):
        return True
    return applied(lambda: item.update(actions=[count], condition=NarrativeItem.pk.exists()))


def listing(user_id: str, *, project_id: str | None, genre: str | None, production_type: str | None) -> Listing:
    """By genre: GSI2 (user+genre). By project: GSI1, filtered to this user. Else: the user's partition. The
    production type (and a project with a genre) filter."""
    type_filter = (NarrativeItem.production_type == production_type) if production_type else None
    if genre is not None:
        source: Any = NarrativeItem.gsi2
        hash_key = keys.narrative_genre_gsi2pk(user_id, genre)
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
    return Listing(
        lambda **kw: source.query(hash_key, condition, filter_condition=filt, scan_index_forward=False, **kw),
        lambda: source.count(hash_key, condition, filter_condition=filt),
        key_attrs,
    )


def _and(*conditions: Any) -> Any:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    combined = present[0]
    for condition in present[1:]:
        combined &= condition
    return combined


def versions(narrative_id: str) -> Iterator[NarrativeVersionItem]:
    """Every version, oldest first."""
    return NarrativeVersionItem.query(keys.narrative_pk(narrative_id))


def delete_versions(narrative_id: str) -> None:
    delete_all(list(versions(narrative_id)))


def delete(head: NarrativeItem) -> bool:
    """The head, with its project's narrative totals and the platform counters, in one transaction; False
    if the head was already gone."""
    tx = Transaction()
    try:
        with tx:
            tx.delete("narrative", head, condition=NarrativeItem.pk.exists())
            projects.add_narrative_totals(tx, head.user_id, head.project_id, narratives=-1,
                                          words=-int(head.word_count), cost=-float(head.generation_cost_usd))
            usage.add_to_stats(tx, narratives=-1, words=-int(head.word_count))
    except TransactWriteError as exc:
        if "narrative" in tx.failed(exc):
            return False
        raise
    return True


def delete_with_project(head: NarrativeItem) -> None:
    """The head and the platform counters, as part of deleting its project (no project totals to keep)."""
    with Transaction() as tx:
        tx.delete("narrative", head)
        usage.add_to_stats(tx, narratives=-1, words=-int(head.word_count))
