"""Account deletion: everything the user owns, in DynamoDB and S3, is removed."""

from __future__ import annotations

import time
from datetime import timedelta

from narraforge.data import projects as projects_repo
from narraforge.data import usage as usage_repo
from narraforge.data import users as users_repo
from narraforge.domain.quotas import reset_date
from narraforge.observability import logger
from narraforge.services import auth, cascade, narratives, projects
from narraforge.services.identity import CurrentUser

# How long after the month's end a deleted account's usage is kept (clock skew, a late pipeline's refund).
TOMBSTONE_MARGIN = timedelta(days=3)
# The per-user rate limits whose windows an account leaves behind.
RATE_SUBJECTS = ("user", "generate", "password-check")


def delete_account(current: CurrentUser, password: str | None) -> None:
    """Re-checks the password (OAuth-only accounts have none and confirm with their session alone),
    then removes projects (with their jobs, narratives, versions, exports and S3 objects), usage logs,
    sessions, refresh tokens, rate windows, the email marker and the profile. This month's usage stays
    behind under a hash of the email (no personal data) until the month ends, so registering the same
    email again does not reset the monthly limits."""
    user = current.user
    auth.confirm_password(user, password)
    uid = user.user_id
    project_count = 0
    for project in projects_repo.of_user(uid):
        projects.delete(uid, project.project_id)
        project_count += 1
    jobs, heads = users_repo.loose_records(uid)  # anything left outside a project
    for job in jobs:
        cascade.delete_job_tree(job)
    for head in heads:
        narratives.delete_with_project(head)
    counters = users_repo.purge(uid, _rate_windows(uid))
    month = usage_repo.current_month()
    this_month = next((counter for counter in counters if usage_repo.is_month(counter, month)), None)
    tombstone = None
    if this_month is not None and (this_month.generations_used or this_month.cost_used_usd):
        tombstone = usage_repo.tombstone(user.email, month, this_month, reset_date() + TOMBSTONE_MARGIN)
    users_repo.remove(user, tombstone=tombstone)
    logger.info("account deleted", extra={"user_id": uid, "projects": project_count})


def _rate_windows(uid: str) -> list[tuple[str, int]]:
    """Current and previous windows of the per-user limits (older ones have expired by TTL)."""
    window = int(time.time() // 60)
    return [(f"{name}:{uid}", w) for name in RATE_SUBJECTS for w in (window - 1, window)]
