"""/projects/{id}/world: a project's world, read and written with ETags (served by the projects function)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from narraforge.api.app_factory import COMMON_ERRORS, error_response
from narraforge.api.deps import CurrentUserDep, PageDep, ResourceId
from narraforge.schemas.common import Page
from narraforge.schemas.worlds import WorldDocument, WorldVersionResponse
from narraforge.services import worlds as world_service

router = APIRouter(prefix="/projects", tags=["worlds"], responses=COMMON_ERRORS)

ETAG_HEADER = {"ETag": {"description": 'The version of the world, a strong entity tag: `"3"`',
                        "schema": {"type": "string"}}}
NOT_FOUND = {404: error_response("No such project for this user, or it has no world (or no such version)")}
PRECONDITIONS = {
    412: error_response("`If-Match` names a version that is no longer current (another write landed first), or "
                        "`If-None-Match: *` found a world"),
    428: error_response("An update of an existing world sent without `If-Match`"),
}
IF_MATCH_DOC = ('The ETag of the version this change is based on (`"3"`). Required to change an existing world; '
                "absent (or `If-None-Match: *`) to create one")
# Strong entity tags as this API writes them; any other tag matches no version.
_ETAG = re.compile(r'^"([0-9]{1,12})"$')

IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=1024, description=IF_MATCH_DOC)]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=1024,
                                           description="`*`: create only, never replace an existing world")]


def etag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str | None, weak_matches: bool) -> tuple[frozenset[int] | None, bool]:
    """(versions named, `*`) of a precondition header. If-Match compares strongly (a weak tag names nothing),
    If-None-Match weakly (RFC 9110 §13.1.1-2)."""
    if header is None:
        return None, False
    if header.strip() == "*":
        return None, True
    versions = set()
    for tag in header.split(","):
        tag = tag.strip()
        if weak_matches and tag.startswith("W/"):
            tag = tag[2:]
        if found := _ETAG.match(tag):
            versions.add(int(found.group(1)))
    return frozenset(versions), False


def preconditions(if_match: IfMatch = None, if_none_match: IfNoneMatch = None) -> world_service.Preconditions:
    matched, match_any = _tags(if_match, weak_matches=False)
    none_matched, none_match_any = _tags(if_none_match, weak_matches=True)
    return world_service.Preconditions(if_match=matched, if_match_any=match_any, if_none_match=none_matched,
                                       if_none_match_any=none_match_any)


PreconditionsDep = Annotated[world_service.Preconditions, Depends(preconditions)]


async def raw_body(request: Request) -> bytes:
    """The PATCH body as sent: a merge patch is parsed by the service, after the project is known to be the
    caller's (so another user's project answers 404 whatever the body)."""
    return await request.body()


def _answer(read: world_service.WorldRead, response: Response, project_id: str) -> WorldDocument:
    response.headers["ETag"] = etag(read.version)
    if read.created:
        response.status_code = 201
        response.headers["Location"] = f"/projects/{project_id}/world"
    return read.document


@router.get("/{project_id}/world", response_model=WorldDocument, summary="Read the project's world",
            responses={200: {"description": "The world document; its version in `ETag`", "headers": ETAG_HEADER},
                       **NOT_FOUND})
def get_world(project_id: ResourceId, current: CurrentUserDep, response: Response,
              version: Annotated[int | None, Query(ge=1, le=999_999, description="An earlier version")] = None,
              ) -> WorldDocument:
    return _answer(world_service.get(current.id, project_id, version), response, project_id)


@router.put("/{project_id}/world", response_model=WorldDocument, summary="Create or replace the whole world",
            responses={200: {"description": "Replaced; the new version in `ETag`", "headers": ETAG_HEADER},
                       201: {"description": "Created (version 1)", "model": WorldDocument,
                             "headers": {**ETAG_HEADER, "Location": {"schema": {"type": "string"}}}},
                       **NOT_FOUND, **PRECONDITIONS})
def put_world(project_id: ResourceId, body: WorldDocument, current: CurrentUserDep, conditions: PreconditionsDep,
              response: Response) -> WorldDocument:
    return _answer(world_service.put(current.id, project_id, body, conditions), response, project_id)


MERGE_PATCH_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {world_service.MERGE_PATCH: {
    "schema": {"type": "object", "description": "JSON Merge Patch (RFC 7396) of the world document: members "
               "merge, `null` removes one, a section's array is replaced whole"},
    "example": {"summary": "The archipelago after the flood", "characters": [
        {"name": "Mira Vell", "status": "dead", "location": "Saltmere"}]},
}}}}


@router.patch("/{project_id}/world", response_model=WorldDocument, summary="Change part of the world",
              openapi_extra=MERGE_PATCH_BODY,
              responses={200: {"description": "Patched; the new version in `ETag`", "headers": ETAG_HEADER},
                         **NOT_FOUND, **PRECONDITIONS,
                         415: error_response("Not `application/merge-patch+json` (see `Accept-Patch`)")})
def patch_world(project_id: ResourceId, current: CurrentUserDep, conditions: PreconditionsDep, response: Response,
                request: Request, body: Annotated[bytes, Depends(raw_body)]) -> WorldDocument:
    read = world_service.patch(current.id, project_id, body, request.headers.get("content-type"), conditions)
    return _answer(read, response, project_id)


@router.get("/{project_id}/world/versions", response_model=Page[WorldVersionResponse], responses=NOT_FOUND,
            summary="The world's versions, newest first")
def list_world_versions(project_id: ResourceId, current: CurrentUserDep, paging: PageDep) -> Page[WorldVersionResponse]:
    result = world_service.versions_page(current.id, project_id, page=paging.page, page_size=paging.page_size,
                                         cursor=paging.cursor)
    return result.to_page(world_service.to_version_response)
