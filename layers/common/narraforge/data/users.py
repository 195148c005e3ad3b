"""User profiles (USER#uid / PROFILE) and the email markers that make an address unique across users
(EMAIL#address / EMAIL): creation with the platform counter (and a deleted account's usage handed on), reads,
the password hash, and the removal of everything an account holds in the table."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from narraforge.data import keys, usage
from narraforge.data.base import BaseItem, utcnow
from narraforge.data.models import (
    DeletedUsageItem,
    EmailMarkerItem,
    JobItem,
    NarrativeItem,
    OAuthIdentityItem,
    OAuthLinkItem,
    RateWindowItem,
    UsageItem,
    UserItem,
)
from narraforge.data.transactions import Transaction, delete_all

User = UserItem  # the record this repository hands out


def create(email: str, *, full_name: str | None, password_hash: str | None, tier: str, month: str,
           inherited: DeletedUsageItem | None) -> tuple[UserItem, UsageItem | None] | None:
    """Profile, email marker and the platform's user count in one transaction, so concurrent sign-ups of one
    email cannot both win; with `inherited`, this month's counter starts from what a deleted account of the
    email used (and that record goes). None if the email is taken."""
    user_id = keys.new_id()
    user = UserItem(
        *UserItem.key(user_id),
        user_id=user_id,
        email=email.strip().lower(),
        full_name=full_name,
        password_hash=password_hash,
        subscription_tier=tier,
    )
    marker = EmailMarkerItem(*EmailMarkerItem.key(email), user_id=user_id)
    counter = usage.inherited(user_id, month, inherited) if inherited is not None else None
    tx = Transaction()
    try:
        with tx:
            tx.save("email", marker, condition=EmailMarkerItem.pk.does_not_exist())
            tx.save("user", user, condition=UserItem.pk.does_not_exist())
            usage.add_to_stats(tx, users=1)
            if inherited is not None and counter is not None:
                tx.save("usage", counter)
                tx.delete("tombstone", inherited)
    except TransactWriteError as exc:
        if "email" in tx.failed(exc):
            return None
        raise
    return user, counter


def find(user_id: str) -> UserItem | None:
    """The profile, read consistently."""
    return UserItem.find(*UserItem.key(user_id), consistent_read=True)


def by_email(email: str) -> UserItem | None:
    """Through the email marker (consistent reads): the one lookup of a user by address."""
    try:
        marker = EmailMarkerItem.get(*EmailMarkerItem.key(email), consistent_read=True)
        return UserItem.get(*UserItem.key(marker.user_id), consistent_read=True)
    except DoesNotExist:
        return None


def replace_password_hash(user: UserItem, new_hash: str, *, old_hash: str) -> bool:
    """Only if the stored hash is still `old_hash`; False if it changed meanwhile."""
    try:
        user.update(actions=[UserItem.password_hash.set(new_hash), UserItem.updated_at.set(utcnow())],
                    condition=UserItem.password_hash == old_hash)
    except UpdateError:
        return False
    return True


def loose_records(user_id: str) -> tuple[list[JobItem], list[NarrativeItem]]:
    """Jobs and narratives left in the user's partition outside any project."""
    items = list(BaseItem.query(keys.user_pk(user_id)))
    return ([item for item in items if isinstance(item, JobItem)],
            [item for item in items if isinstance(item, NarrativeItem)])


def purge(user_id: str, rate_windows: Iterable[tuple[str, int]]) -> list[UsageItem]:
    """Deletes all the account holds but its profile and email marker: its partition (sessions, usage
    counters, links…), the usage logs of each month it has a counter for, its OAuth identities, its refresh
    tokens (GSI1) and the given rate-limit windows (subject, window). Returns the usage counters deleted."""
    leftovers: list[BaseItem] = list(BaseItem.query(keys.user_pk(user_id)))
    counters = [item for item in leftovers if isinstance(item, UsageItem)]
    for counter in counters:
        leftovers += usage.logs_of(user_id, usage.month_of(counter))
    leftovers += [OAuthIdentityItem(*OAuthIdentityItem.key(link.provider, link.subject))
                  for link in leftovers if isinstance(link, OAuthLinkItem)]
    leftovers += list(BaseItem.gsi1.query(keys.user_tokens_gsi1pk(user_id)))
    leftovers += _rate_windows(rate_windows)
    delete_all(item for item in leftovers
               if not (item.pk == keys.user_pk(user_id) and item.sk == keys.PROFILE_SK))
    return counters


def _rate_windows(windows: Iterable[tuple[str, int]]) -> list[BaseItem]:
    found: list[BaseItem] = []
    for subject, window in windows:
        try:
            found.append(RateWindowItem.get(keys.rate_pk(subject, window), keys.RATE_SK))
        except DoesNotExist:
            continue
    return found


def remove(user: UserItem, *, tombstone: DeletedUsageItem | None) -> None:
    """The profile, its email marker and the platform's user count in one transaction, with what the account
    used this month kept behind (`tombstone`) if given."""
    with Transaction() as tx:
        if tombstone is not None:
            tx.save("tombstone", tombstone)
        tx.delete("email", EmailMarkerItem(*EmailMarkerItem.key(user.email)))
        tx.delete("user", user)
        usage.add_to_stats(tx, users=-1)
