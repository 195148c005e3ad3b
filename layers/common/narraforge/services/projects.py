"""Project rules: ownership by key (another user's id is simply not found), partial updates, cascade."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from narraforge.data import keys
from narraforge.data.base import utcnow
from narraforge.data.models import JobItem, NarrativeItem, ProjectItem, StatsItem
from narraforge.data.transactions import Transaction
from narraforge.domain.errors import NotFound
from narraforge.schemas.projects import ProjectCreateRequest, ProjectResponse, ProjectUpdateRequest
from narraforge.services.pagination import PageResult, fetch_page

NOT_FOUND = "Project not found"


def to_response(item: ProjectItem) -> ProjectResponse:
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


def create(user_id: str, body: ProjectCreateRequest) -> ProjectItem:
    project_id = keys.new_id()
    item = ProjectItem(
        *ProjectItem.key(user_id, project_id),
        project_id=project_id,
        user_id=user_id,
        name=body.name,
        description=body.description,
        world_id=body.world_id,
        default_genre=body.default_genre.value if body.default_genre else None,
        default_production_type=body.default_production_type.value if body.default_production_type else None,
    )
    with Transaction() as tx:
        tx.save("project", item, condition=ProjectItem.pk.does_not_exist())
        tx.update("stats", StatsItem(*StatsItem.key()), actions=[StatsItem.projects.add(1), StatsItem.tag()])
    return item


def get(user_id: str, project_id: str) -> ProjectItem:
    try:
        return ProjectItem.get(*ProjectItem.key(user_id, project_id))
    except DoesNotExist as exc:
        raise NotFound(NOT_FOUND) from exc


def list_page(user_id: str, *, page: int, page_size: int, cursor: str | None) -> PageResult[ProjectItem]:
    pk = keys.user_pk(user_id)
    sk_condition = ProjectItem.sk.startswith(keys.PROJECT_PREFIX)
    return fetch_page(
        lambda **kw: ProjectItem.query(pk, sk_condition, scan_index_forward=False, **kw),
        lambda: ProjectItem.count(pk, sk_condition),
        page=page,
        page_size=page_size,
        cursor=cursor,
        scope=f"projects:{user_id}",
        key_attributes=("pk", "sk"),
    )


_UPDATABLE = ("name", "description", "world_id", "default_genre", "default_production_type")


def update(user_id: str, project_id: str, body: ProjectUpdateRequest) -> ProjectItem:
    """Only the fields the client sent change; `name: null` is ignored rather than clearing the name."""
    sent = body.model_dump(exclude_unset=True, mode="json")
    actions = []
    for field in _UPDATABLE:
        if field not in sent or (field == "name" and sent[field] is None):
            continue
        attribute = getattr(ProjectItem, field)
        actions.append(attribute.remove() if sent[field] is None else attribute.set(sent[field]))
    actions.append(ProjectItem.updated_at.set(utcnow()))
    item = ProjectItem(*ProjectItem.key(user_id, project_id))
    try:
        item.update(actions=actions, condition=ProjectItem.pk.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound(NOT_FOUND) from exc
        raise
    return item


def delete(user_id: str, project_id: str) -> None:
    """Removes the project and everything under it: jobs (running ones are cancelled first, with their
    checkpoints and S3 outputs), narratives with every version and S3 object."""
    # Lazy on purpose: the cascade loads boto3 (S3, Step Functions), ~40 ms that the projects and jobs
    # functions' cold starts would pay for a delete most invocations never make.
    from narraforge.services import cascade, narratives

    item = get(user_id, project_id)
    for child in cascade.children_of_project(project_id):
        if child.pk != item.pk:
            continue  # GSI1 keys are per project id, and a project id belongs to one user
        if isinstance(child, JobItem):
            cascade.delete_job_tree(child)
        elif isinstance(child, NarrativeItem):
            narratives.delete_with_project(child)
    tx = Transaction()
    try:
        with tx:
            tx.delete("project", item, condition=ProjectItem.pk.exists())
            tx.update("stats", StatsItem(*StatsItem.key()), actions=[StatsItem.projects.add(-1), StatsItem.tag()])
    except TransactWriteError as exc:
        if "project" in tx.failed(exc):
            raise NotFound(NOT_FOUND) from exc
        raise

