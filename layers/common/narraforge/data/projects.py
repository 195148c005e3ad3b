"""Project items (USER#uid / PROJECT#pid, in their user's partition so another user's id is simply absent):
construction, reads, partial updates, deletion with the platform counter, the narrative totals that stage 10
and narrative deletion keep, and the GSI1 listing of what hangs under a project (its jobs and narratives)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError

from narraforge.data import keys, usage
from narraforge.data.base import BaseItem, applied, utcnow
from narraforge.data.listing import Listing
from narraforge.data.models import JobItem, NarrativeItem, ProjectItem
from narraforge.data.transactions import Transaction

Project = ProjectItem  # the record this repository hands out


def create(user_id: str, *, name: str, description: str | None, world_id: str | None, default_genre: str | None,
           default_production_type: str | None) -> ProjectItem:
    """A new project and the platform's project count, in one transaction."""
    project_id = keys.new_id()
    item = ProjectItem(
        *ProjectItem.key(user_id, project_id),
        project_id=project_id,
        user_id=user_id,
        name=name,
        description=description,
        world_id=world_id,
        default_genre=default_genre,
        default_production_type=default_production_type,
    )
    with Transaction() as tx:
        tx.save("project", item, condition=ProjectItem.pk.does_not_exist())
        usage.add_to_stats(tx, projects=1)
    return item


def find(user_id: str, project_id: str) -> ProjectItem | None:
    return ProjectItem.find(*ProjectItem.key(user_id, project_id))


def listing(user_id: str) -> Listing:
    """The user's projects, newest first."""
    pk = keys.user_pk(user_id)
    sk_condition = ProjectItem.sk.startswith(keys.PROJECT_PREFIX)
    return Listing(lambda **kw: ProjectItem.query(pk, sk_condition, scan_index_forward=False, **kw),
                   lambda: ProjectItem.count(pk, sk_condition), ("pk", "sk"))


def update(user_id: str, project_id: str, changes: dict[str, Any]) -> ProjectItem | None:
    """Sets each attribute of `changes` (None removes it) and `updated_at`, only if the project exists;
    None if it does not."""
    actions = []
    for field, value in changes.items():
        attribute = getattr(ProjectItem, field)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    actions.append(ProjectItem.updated_at.set(utcnow()))
    item = ProjectItem(*ProjectItem.key(user_id, project_id))
    return item if applied(lambda: item.update(actions=actions, condition=ProjectItem.pk.exists())) else None


def delete(item: ProjectItem) -> bool:
    """The project and the platform's project count, in one transaction; False if it was already gone."""
    tx = Transaction()
    try:
        with tx:
            tx.delete("project", item, condition=ProjectItem.pk.exists())
            usage.add_to_stats(tx, projects=-1)
    except TransactWriteError as exc:
        if "project" in tx.failed(exc):
            return False
        raise
    return True


def add_narrative_totals(tx: Transaction, user_id: str, project_id: str, *, narratives: int, words: int,
                         cost: float) -> None:
    """The "project" part: narrative count and totals moved by a narrative published or deleted."""
    tx.update("project", ProjectItem(*ProjectItem.key(user_id, project_id)),
              actions=[ProjectItem.narrative_count.add(narratives),
                       ProjectItem.total_word_count.add(words),
                       ProjectItem.total_cost_usd.add(cost),
                       ProjectItem.updated_at.set(utcnow())],
              condition=ProjectItem.pk.exists())


def contents(item: ProjectItem) -> tuple[list[JobItem], list[NarrativeItem]]:
    """The jobs and narratives under the project (GSI1), in the index's order. Only the owner's: GSI1 keys are
    per project id, and a project id belongs to one user."""
    jobs: list[JobItem] = []
    narratives: list[NarrativeItem] = []
    for child in BaseItem.gsi1.query(keys.project_gsi1pk(item.project_id)):
        if child.pk != item.pk:
            continue
        if isinstance(child, JobItem):
            jobs.append(child)
        elif isinstance(child, NarrativeItem):
            narratives.append(child)
    return jobs, narratives


def of_user(user_id: str) -> list[ProjectItem]:
    """Every project of the user (a read of the whole partition, as account deletion needs)."""
    return [item for item in BaseItem.query(keys.user_pk(user_id)) if isinstance(item, ProjectItem)]
