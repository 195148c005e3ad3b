"""Account deletion: everything the user owns, in DynamoDB and S3, is removed."""

from __future__ import annotations

import time
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist

from narraforge.data import keys
from narraforge.data.base import BaseItem
from narraforge.data.models import (
    DeletedUsageItem,
    EmailMarkerItem,
    JobItem,
    NarrativeItem,
    OAuthIdentityItem,
    OAuthLinkItem,
    ProjectItem,
    RateWindowItem,
    StatsItem,
    UsageItem,
    UsageLogItem,
)
from narraforge.data.transactions import Transaction
from narraforge.domain.quotas import reset_date
from narraforge.observability import logger
from narraforge.services import auth, cascade, narratives, projects
from narraforge.services.identity import CurrentUser

# How long after the month's end a deleted account's usage is kept (clock skew, a late pipeline's refund).
TOMBSTONE_MARGIN = timedelta(days=3)


def delete_account(current: CurrentUser, password: str | None) -> None:
    """Re-checks the password (OAuth-only accounts have none and confirm with their session alone),
    then removes projects (with their jobs, narratives, versions, exports and S3 objects), usage logs,
    sessions, refresh tokens, rate windows, the email marker and the profile. This month's usage stays
    behind under a hash of the email (no personal data) until the month ends, so registering the same
    email again does not reset the monthly limits."""
    user = current.user
    auth.confirm_password(user, password)
    uid = user.user_id
    owned = list(BaseItem.query(keys.user_pk(uid)))
    project_count = 0
    for item in owned:
        if isinstance(item, ProjectItem):
            projects.delete(uid, item.project_id)
            project_count += 1
    for item in BaseItem.query(keys.user_pk(uid)):  # anything left outside a project
        if isinstance(item, JobItem):
            cascade.delete_job_tree(item)
        elif isinstance(item, NarrativeItem):
            narratives.delete_with_project(item)
    leftovers: list[BaseItem] = list(BaseItem.query(keys.user_pk(uid)))
    for usage in (i for i in leftovers if isinstance(i, UsageItem)):
        month = usage.sk.removeprefix("USAGE#")
        leftovers += list(UsageLogItem.query(keys.usage_log_pk(uid, month)))
    leftovers += [OAuthIdentityItem(*OAuthIdentityItem.key(link.provider, link.subject))
                  for link in leftovers if isinstance(link, OAuthLinkItem)]
    leftovers += list(BaseItem.gsi1.query(keys.user_tokens_gsi1pk(uid)))
    leftovers += _rate_windows(uid)
    with BaseItem.batch_write() as batch:
        for item in leftovers:
            if not (item.pk == keys.user_pk(uid) and item.sk == keys.PROFILE_SK):
                batch.delete(item)
    month = keys.month_key()
    this_month = next((i for i in leftovers if isinstance(i, UsageItem) and i.sk == keys.usage_sk(month)), None)
    with Transaction() as tx:
        if this_month is not None and (this_month.generations_used or this_month.cost_used_usd):
            tombstone = DeletedUsageItem(*DeletedUsageItem.key(user.email, month),
                                         generations_used=this_month.generations_used,
                                         cost_used_usd=this_month.cost_used_usd)
            tombstone.ttl = reset_date() + TOMBSTONE_MARGIN
            tx.save("tombstone", tombstone)
        tx.delete("email", EmailMarkerItem(*EmailMarkerItem.key(user.email)))
        tx.delete("user", user)
        tx.update("stats", StatsItem(*StatsItem.key()), actions=[StatsItem.users.add(-1), StatsItem.tag()])
    logger.info("account deleted", extra={"user_id": uid, "projects": project_count})


def _rate_windows(uid: str) -> list[BaseItem]:
    """Current and previous windows of the per-user limits (older ones have expired by TTL)."""
    window = int(time.time() // 60)
    found: list[BaseItem] = []
    for subject in (f"user:{uid}", f"generate:{uid}", f"password-check:{uid}"):
        for w in (window - 1, window):
            try:
                found.append(RateWindowItem.get(keys.rate_pk(subject, w), keys.RATE_SK))
            except DoesNotExist:
                continue
    return found
