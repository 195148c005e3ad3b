"""Project rules: ownership by key (another user's id is simply not found), partial updates, cascade."""

from __future__ import annotations

from narraforge.data import projects as projects_repo
from narraforge.data.projects import Project
from narraforge.errors import NotFound
from narraforge.schemas.projects import ProjectCreateRequest, ProjectResponse, ProjectUpdateRequest
from narraforge.services.pagination import PageResult, fetch_page

NOT_FOUND = "Project not found"


def to_response(item: Project) -> ProjectResponse:
    return ProjectResponse(
        id=item.project_id,
        user_id=item.user_id,
        name=item.name,
        description=item.description,
        world_id=item.world_id,
        default_genre=item.default_genre,
        default_production_type=item.default_production_type,
        narrative_count=int(item.narrative_count or 0),
        total_word_count=int(item.total_word_count or 0),
        total_cost_usd=round(float(item.total_cost_usd or 0), 6),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def create(user_id: str, body: ProjectCreateRequest) -> Project:
    return projects_repo.create(
        user_id,
        name=body.name,
        description=body.description,
        world_id=body.world_id,
        default_genre=body.default_genre.value if body.default_genre else None,
        default_production_type=body.default_production_type.value if body.default_production_type else None,
    )


def get(user_id: str, project_id: str) -> Project:
    item = projects_repo.find(user_id, project_id)
    if item is None:
        raise NotFound(NOT_FOUND)
    return item


def list_page(user_id: str, *, page: int, page_size: int, cursor: str | None) -> PageResult[Project]:
    listing = projects_repo.listing(user_id)
    return fetch_page(
        listing.query,
        listing.count,
        page=page,
        page_size=page_size,
        cursor=cursor,
        scope=f"projects:{user_id}",
        key_attributes=listing.key_attributes,
    )


_UPDATABLE = ("name", "description", "world_id", "default_genre", "default_production_type")


def update(user_id: str, project_id: str, body: ProjectUpdateRequest) -> Project:
    """Only the fields the client sent change; `name: null` is ignored rather than clearing the name."""
    sent = body.model_dump(exclude_unset=True, mode="json")
    changes = {field: sent[field] for field in _UPDATABLE
               if field in sent and not (field == "name" and sent[field] is None)}
    item = projects_repo.update(user_id, project_id, changes)
    if item is None:
        raise NotFound(NOT_FOUND)
    return item


def delete(user_id: str, project_id: str) -> None:
    """Removes the project and everything under it: jobs (running ones are cancelled first, with their
    checkpoints and S3 outputs), narratives with every version and S3 object, the world with every version."""
    # Lazy on purpose: the cascade loads boto3 (S3, Step Functions), ~40 ms that the projects and jobs
    # functions' cold starts would pay for a delete most invocations never make.
    from narraforge.data import worlds
    from narraforge.services import cascade, narratives

    item = get(user_id, project_id)
    jobs, heads = projects_repo.contents(item)
    for job in jobs:
        cascade.delete_job_tree(job)
    for head in heads:
        narratives.delete_with_project(head)
    if not projects_repo.delete(item):
        raise NotFound(NOT_FOUND)
    worlds.delete_all(project_id)  # after the project: a world write racing this fails its check on the project
