"""/projects/*: the five routes of the reference, plus the slash and PATCH forms its client uses."""

from __future__ import annotations

from fastapi import APIRouter, Response

from narraforge.api.app_factory import COMMON_ERRORS, error_response
from narraforge.api.deps import CurrentUserDep, PageDep, ResourceId
from narraforge.api.routing import collection_route, update_route
from narraforge.schemas.common import Page
from narraforge.schemas.projects import ProjectCreateRequest, ProjectResponse, ProjectUpdateRequest
from narraforge.services import projects as project_service

router = APIRouter(prefix="/projects", tags=["projects"], responses=COMMON_ERRORS)
NOT_FOUND = {404: error_response("No such project for this user")}


@collection_route(router, "GET", response_model=Page[ProjectResponse], summary="List projects, newest first")
def list_projects(current: CurrentUserDep, paging: PageDep) -> Page[ProjectResponse]:
    result = project_service.list_page(current.id, page=paging.page, page_size=paging.page_size,
                                       cursor=paging.cursor)
    return result.to_page(project_service.to_response)


@collection_route(router, "POST", status_code=201, response_model=ProjectResponse, summary="Create a project")
def create_project(body: ProjectCreateRequest, current: CurrentUserDep) -> ProjectResponse:
    return project_service.to_response(project_service.create(current.id, body))


@router.get("/{project_id}", response_model=ProjectResponse, responses=NOT_FOUND)
def get_project(project_id: ResourceId, current: CurrentUserDep) -> ProjectResponse:
    return project_service.to_response(project_service.get(current.id, project_id))


@update_route(router, "/{project_id}", response_model=ProjectResponse, responses=NOT_FOUND,
              summary="Update the fields sent")
def update_project(project_id: ResourceId, body: ProjectUpdateRequest, current: CurrentUserDep) -> ProjectResponse:
    return project_service.to_response(project_service.update(current.id, project_id, body))


@router.delete("/{project_id}", status_code=204, response_class=Response, responses=NOT_FOUND,
               summary="Delete a project and everything under it")
def delete_project(project_id: ResourceId, current: CurrentUserDep) -> Response:
    project_service.delete(current.id, project_id)
    return Response(status_code=204)
