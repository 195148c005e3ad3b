"""/narratives/*: list (no text), read (text + metadata, counts a view), rename, plain text, export, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import PlainTextResponse, RedirectResponse

from narraforge.api.app_factory import COMMON_ERRORS, error_response
from narraforge.api.deps import CurrentUserDep, GeneratingUserDep, PageDep, ResourceId, generation_admission
from narraforge.api.routing import collection_route
from narraforge.enums import ExportFormat, Genre, ProductionType
from narraforge.schemas.common import Page
from narraforge.schemas.jobs import JobResponse
from narraforge.schemas.narratives import (
    NarrativeDetailResponse,
    NarrativeResponse,
    NarrativeUpdateRequest,
    NarrativeVersionResponse,
    RegenerateRequest,
)
from narraforge.services import narratives as narrative_service

router = APIRouter(prefix="/narratives", tags=["narratives"], responses=COMMON_ERRORS)
NOT_FOUND = {404: error_response("No such narrative for this user")}


@collection_route(router, "GET", response_model=Page[NarrativeResponse], summary="List narratives, newest first")
def list_narratives(
    current: CurrentUserDep,
    paging: PageDep,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
    genre: Annotated[Genre | None, Query()] = None,
    production_type: Annotated[ProductionType | None, Query()] = None,
) -> Page[NarrativeResponse]:
    result = narrative_service.list_page(current.id, project_id=project_id, genre=genre,
                                         production_type=production_type, page=paging.page,
                                         page_size=paging.page_size, cursor=paging.cursor)
    return result.to_page(narrative_service.to_response)


VersionQuery = Annotated[int | None, Query(ge=1, le=1_000_000, description="An older version (default: current)")]


@router.get("/{narrative_id}", response_model=NarrativeDetailResponse, responses=NOT_FOUND)
def get_narrative(narrative_id: ResourceId, current: CurrentUserDep,
                  version: VersionQuery = None) -> NarrativeDetailResponse:
    head = narrative_service.read_with_view(current.id, narrative_id)
    chosen = narrative_service.get_version(narrative_id, version or int(head.version))
    return narrative_service.to_detail(head, chosen)


@router.patch("/{narrative_id}", response_model=NarrativeResponse, responses=NOT_FOUND,
              summary="Rename a narrative")
def update_narrative(narrative_id: ResourceId, body: NarrativeUpdateRequest,
                     current: CurrentUserDep) -> NarrativeResponse:
    return narrative_service.to_response(narrative_service.rename(current.id, narrative_id, body.title))


@router.get("/{narrative_id}/text", response_class=PlainTextResponse, responses={
    **NOT_FOUND, 200: {"content": {"text/plain": {}}, "description": "The narrative as UTF-8 text"}})
def get_text(narrative_id: ResourceId, current: CurrentUserDep, version: VersionQuery = None) -> PlainTextResponse:
    head = narrative_service.get_head(current.id, narrative_id)
    chosen = narrative_service.get_version(narrative_id, version or int(head.version))
    return PlainTextResponse(narrative_service.text_of(chosen), media_type="text/plain; charset=utf-8")


@router.get("/{narrative_id}/versions", response_model=list[NarrativeVersionResponse], responses=NOT_FOUND,
            summary="Every version, oldest first")
def list_versions(narrative_id: ResourceId, current: CurrentUserDep) -> list[NarrativeVersionResponse]:
    return narrative_service.list_versions(current.id, narrative_id)


@router.post("/{narrative_id}/regenerate", status_code=202, response_model=JobResponse, responses={
    **NOT_FOUND, 403: error_response("Plan limit reached"),
    503: error_response("The pipeline could not be started")},
    summary="Start a job that adds a new version")
def regenerate(
    narrative_id: ResourceId,
    current: GeneratingUserDep,
    response: Response,
    body: RegenerateRequest | None = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128,
                                                  pattern=r"^[\x21-\x7e]+$")] = None,
) -> JobResponse:
    """Reuses the current version's stages before `from_stage`; counts as a generation."""
    from narraforge.services import jobs as job_service
    from narraforge.services.regenerate import regenerate as start_regeneration

    job, created = start_regeneration(current, narrative_id, body or RegenerateRequest(), idempotency_key,
                                      generation_admission(current, response))
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return job_service.to_response(job)


EXPORT_MEDIA_TYPES = ("text/plain", "text/markdown", "application/pdf", "application/epub+zip",
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    200: {"description": "The export as an attachment (Content-Disposition gives the file name)",
          "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in EXPORT_MEDIA_TYPES},
          "headers": {"Content-Disposition": {"schema": {"type": "string"},
                                              "description": "attachment; filename=...; filename*=UTF-8''..."}}},
    307: {"description": "Too large to answer inline (over 5 MB as sent): Location is a presigned S3 URL, "
                         "valid for 5 minutes", "headers": {"Location": {"schema": {"type": "string"}}}},
}


@router.get("/{narrative_id}/export/{format}", response_class=Response, responses=EXPORT_RESPONSES,
            summary="Download a narrative as txt, md, pdf, epub or docx")
def export_narrative(
    narrative_id: ResourceId,
    format: ExportFormat,
    current: CurrentUserDep,
    version: Annotated[int | None, Query(ge=1, le=999_999, description="Defaults to the latest version")] = None,
) -> Response:
    """Built on the first request for a version and format, then served from S3; counts a download."""
    # Imported here, not at the top: the export service and its libraries stay out of every other route's cold start.
    from narraforge.services import exports as export_service

    result = export_service.export(current.id, narrative_id, format, version)
    if result.redirect_url is not None:
        return RedirectResponse(result.redirect_url, status_code=307)
    return Response(result.body, media_type=result.content_type,
                    headers={"Content-Disposition": result.content_disposition})


@router.delete("/{narrative_id}", status_code=204, response_class=Response, responses=NOT_FOUND)
def delete_narrative(narrative_id: ResourceId, current: CurrentUserDep) -> Response:
    narrative_service.delete(current.id, narrative_id)
    return Response(status_code=204)
