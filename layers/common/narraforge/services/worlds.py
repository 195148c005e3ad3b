"""World rules: ownership, preconditions (optimistic concurrency), JSON Merge Patch, and the checks across
entries that field validation cannot make (unique names and ids, references, the document's size).

Concurrency, as RFC 9110 §13 and RFC 6585 §3 describe it: the version is the ETag. Creating a world needs no
precondition (or `If-None-Match: *`, which refuses to replace one that exists). Changing one needs `If-Match`
with the ETag of the version the change is based on: without it 428, with a stale one 412. The check made here
is only the early answer; the write itself is conditional on the version (`data/worlds.py`), so two writers
that pass it at the same moment still cannot both land: the second gets 412, never a lost update.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from narraforge.data import keys
from narraforge.data import worlds as store
from narraforge.data.models import WorldItem, WorldVersionItem
from narraforge.errors import (
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    UnsupportedMediaType,
)
from narraforge.schemas.worlds import MAX_DOCUMENT_BYTES, SECTIONS, WorldDocument, WorldVersionResponse
from narraforge.services import projects
from narraforge.services.pagination import PageResult, fetch_page

MERGE_PATCH = "application/merge-patch+json"
NO_WORLD = "This project has no world yet"
NO_VERSION = "No such version of this project's world"


@dataclass(frozen=True)
class Preconditions:
    """The request's conditional headers, parsed: the versions named (None: header absent) or any (`*`)."""

    if_match: frozenset[int] | None = None
    if_match_any: bool = False
    if_none_match: frozenset[int] | None = None
    if_none_match_any: bool = False


@dataclass(frozen=True)
class WorldRead:
    document: WorldDocument
    version: int
    created: bool = False


def get(user_id: str, project_id: str, number: int | None = None) -> WorldRead:
    """The current world, or version `number`. No world yet is 404, like another user's project: a world
    has no empty version 0, so every ETag names a version that was written."""
    projects.get(user_id, project_id)
    item: WorldItem | WorldVersionItem | None
    if number is None:
        item = store.head(project_id)
        if item is None:
            raise NotFound(NO_WORLD)
        return WorldRead(WorldDocument.model_validate(store.read_document(item)), int(item.version))
    item = store.version(project_id, number)
    if item is None:
        raise NotFound(NO_VERSION)
    return WorldRead(WorldDocument.model_validate(store.read_document(item)), int(item.number))


def versions_page(user_id: str, project_id: str, *, page: int, page_size: int,
                  cursor: str | None) -> PageResult[WorldVersionItem]:
    projects.get(user_id, project_id)
    listing = store.versions(project_id)
    return fetch_page(listing.query, listing.count, page=page, page_size=page_size, cursor=cursor,
                      scope=f"world-versions:{project_id}", key_attributes=listing.key_attributes)


def to_version_response(item: WorldVersionItem) -> WorldVersionResponse:
    counts = {name: int(value) for name, value in (item.entry_counts or {}).items()}
    return WorldVersionResponse(version=int(item.number), entry_counts=counts, entries=sum(counts.values()),
                                size_bytes=int(item.size_bytes or 0), updated_at=item.created_at,
                                updated_by=item.updated_by)


def put(user_id: str, project_id: str, document: WorldDocument, conditions: Preconditions) -> WorldRead:
    """Replaces the whole world (or creates it)."""
    projects.get(user_id, project_id)
    current = store.head(project_id)
    _check(current, conditions)
    previous = WorldDocument.model_validate(store.read_document(current)) if current else None
    return _write(user_id, project_id, document, current, previous)


def patch(user_id: str, project_id: str, body: bytes, content_type: str | None,
          conditions: Preconditions) -> WorldRead:
    """Applies a JSON Merge Patch (RFC 7396) to the current world: objects merge, `null` removes a member,
    arrays (a section's entries) are replaced whole."""
    projects.get(user_id, project_id)
    if (content_type or "").split(";")[0].strip().lower() != MERGE_PATCH:
        raise UnsupportedMediaType(f"A world is patched with a JSON Merge Patch ({MERGE_PATCH})",
                                   headers={"Accept-Patch": MERGE_PATCH})
    try:
        patch_value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("Request validation failed", details=[
            {"loc": ["body"], "msg": f"not valid JSON: {exc}", "type": "json_invalid"}]) from exc
    current = store.head(project_id)
    if current is None:
        raise NotFound(f"{NO_WORLD}; create it with PUT")
    _check(current, conditions)
    stored = store.read_document(current)
    merged = merge_patch(stored, patch_value)
    try:
        document = WorldDocument.model_validate(merged)
    except ValidationError as exc:
        raise InvalidInput("Request validation failed", details=[
            {"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]}
            for error in exc.errors()]) from exc
    return _write(user_id, project_id, document, current, WorldDocument.model_validate(stored))


def merge_patch(target: Any, patch_value: Any) -> Any:
    """RFC 7396 §2, its pseudo-code as written: eight lines, where the one PyPI package for it (json-merge-patch)
    is little used and written against the obsoleted RFC 7386."""
    if not isinstance(patch_value, dict):
        return patch_value
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch_value.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def _check(current: WorldItem | None, conditions: Preconditions) -> None:
    """RFC 9110 §13.2.2's order: If-Match, then If-None-Match; then this API's rule that an update of an
    existing world must say which version it is based on (`If-Match: *` says nothing about that)."""
    version = int(current.version) if current else None
    if conditions.if_match_any and version is None:
        raise PreconditionFailed(NO_WORLD)
    if conditions.if_match is not None and version not in conditions.if_match:
        raise PreconditionFailed(_stale(version))
    if version is not None and (conditions.if_none_match_any
                                or (conditions.if_none_match is not None and version in conditions.if_none_match)):
        raise PreconditionFailed("This project already has a world; update it with If-Match")
    if version is not None and conditions.if_match is None:
        raise PreconditionRequired(f'Updating a world needs If-Match with its current ETag ("{version}")')


def _stale(version: int | None) -> str:
    if version is None:
        return NO_WORLD
    return f'The world has changed: its current ETag is "{version}"; read it again and reapply your change'


def _write(user_id: str, project_id: str, document: WorldDocument, current: WorldItem | None,
           previous: WorldDocument | None) -> WorldRead:
    document = _with_ids(document, previous)
    _check_entries(document)
    data = document.model_dump(mode="json")
    try:
        head = store.write(user_id, project_id, data, based_on=current, entry_counts=entry_counts(document),
                           updated_by=f"user:{user_id}")
    except store.VersionConflict as exc:
        raise PreconditionFailed("The world was changed by another write at the same time; read it again "
                                 "and reapply your change") from exc
    except store.ProjectGone as exc:
        raise NotFound(projects.NOT_FOUND) from exc
    return WorldRead(document, int(head.version), created=current is None)


def entry_counts(document: WorldDocument) -> dict[str, int]:
    return {section: len(getattr(document, section)) for section in SECTIONS}


def _with_ids(document: WorldDocument, previous: WorldDocument | None) -> WorldDocument:
    """Every entry gets an id: its own, else that of the same-named entry of the previous version in the
    same section (a client that drops ids keeps them stable), else a new one."""
    taken = {entry.id for section in SECTIONS for entry in getattr(document, section) if entry.id}
    updates: dict[str, Any] = {}
    for section in SECTIONS:
        known = {entry.name.casefold(): entry.id for entry in getattr(previous, section, [])} if previous else {}
        entries = []
        for entry in getattr(document, section):
            if entry.id is None:
                reused = known.get(entry.name.casefold())
                new_id = reused if reused and reused not in taken else keys.new_id()
                taken.add(new_id)
                entry = entry.model_copy(update={"id": new_id})
            entries.append(entry)
        updates[section] = entries
    return document.model_copy(update=updates)


def _check_entries(document: WorldDocument) -> None:
    """Names unique per section and ids across the world; a character's place and relations exist; the
    whole document within its size. Every problem is reported, each at its field, as a 422."""
    problems: list[dict[str, Any]] = []

    def problem(loc: list[Any], msg: str, kind: str) -> None:
        problems.append({"loc": ["body", *loc], "msg": msg, "type": kind})

    ids: set[str] = set()
    names: dict[str, set[str]] = {}
    for section in SECTIONS:
        seen: set[str] = set()
        for index, entry in enumerate(getattr(document, section)):
            folded = entry.name.casefold()
            if folded in seen:
                problem([section, index, "name"], f"another entry of {section} is named {entry.name!r}",
                        "duplicate_name")
            seen.add(folded)
            if entry.id in ids:
                problem([section, index, "id"], f"id {entry.id!r} is used by another entry", "duplicate_id")
            ids.add(str(entry.id))
        names[section] = seen
    places = names["places"] | {place.id.casefold() for place in document.places if place.id}
    characters = names["characters"] | {c.id.casefold() for c in document.characters if c.id}
    for index, character in enumerate(document.characters):
        if character.location and character.location.casefold() not in places:
            problem(["characters", index, "location"], f"no place {character.location!r} in this world",
                    "unknown_place")
        for number, relation in enumerate(character.relationships):
            if relation.to.casefold() not in characters:
                problem(["characters", index, "relationships", number, "to"],
                        f"no character {relation.to!r} in this world", "unknown_character")
    if not problems:
        size = len(json.dumps(document.model_dump(mode="json"), ensure_ascii=False,
                              separators=(",", ":")).encode("utf-8"))
        if size > MAX_DOCUMENT_BYTES:
            problem([], f"the world is {size} bytes as JSON; at most {MAX_DOCUMENT_BYTES}", "too_large")
    if problems:
        raise InvalidInput("The world breaks its rules", details=problems)
