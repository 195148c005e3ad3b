"""OAuth sign-in records: pending flows by the SHA-256 of their state (OAUTHSTATE#hash / STATE), provider accounts
linked to a user (OAUTH#provider#subject / IDENTITY, which makes one provider account belong to one user) and the
copy of each link in the user's partition (USER#uid / OAUTH#provider#subject), which account deletion follows.

The link and sign-up transactions are plain TransactWrites: a lost race surfaces as the TransactWriteError the
caller resolves by looking again (`transactions.failed_conditions`)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from narraforge.data import keys
from narraforge.data.base import applied
from narraforge.data.models import (
    EmailMarkerItem,
    OAuthIdentityItem,
    OAuthLinkItem,
    OAuthStateItem,
    StatsItem,
    UserItem,
)
from narraforge.data.transactions import connection

OAuthState = OAuthStateItem  # the record this repository hands out


def save_state(state_hash: str, *, provider: str, code_verifier: str, redirect_uri: str, expires_at: datetime,
               browser_hash: str, link_user_id: str | None) -> None:
    pending = OAuthStateItem(
        *OAuthStateItem.key(state_hash),
        provider=provider,
        code_verifier=code_verifier,
        redirect_uri=redirect_uri,
        expires_at=expires_at,
        browser_hash=browser_hash,
        link_user_id=link_user_id,
    )
    pending.ttl = pending.expires_at
    pending.save(condition=OAuthStateItem.pk.does_not_exist())


def find_state(state_hash: str) -> OAuthStateItem | None:
    return OAuthStateItem.find(*OAuthStateItem.key(state_hash), consistent_read=True)


def consume_state(pending: OAuthStateItem) -> bool:
    """Deletes the state if it is still there; False if another callback took it first."""
    return applied(lambda: pending.delete(condition=OAuthStateItem.pk.exists()))


def linked_user(provider: str, subject: str) -> UserItem | None:
    """The user the provider account is linked to (consistent reads). A link whose user is gone is dropped,
    so the provider account can sign up afresh."""
    try:
        identity = OAuthIdentityItem.get(*OAuthIdentityItem.key(provider, subject), consistent_read=True)
    except DoesNotExist:
        return None
    try:
        return UserItem.get(*UserItem.key(identity.user_id), consistent_read=True)
    except DoesNotExist:
        applied(lambda: identity.delete(condition=OAuthIdentityItem.user_id == identity.user_id))
        return None


def _link_items(user_id: str, provider: str, subject: str, email: str | None) -> tuple[
        OAuthIdentityItem, OAuthLinkItem]:
    identity = OAuthIdentityItem(*OAuthIdentityItem.key(provider, subject), user_id=user_id,
                                 provider=provider, subject=subject, email=email)
    link = OAuthLinkItem(*OAuthLinkItem.key(user_id, provider, subject), provider=provider, subject=subject)
    return identity, link


def link(user: UserItem, provider: str, subject: str, email: str | None) -> None:
    """Links the provider account to the user, if the user still exists and the account is nobody's."""
    identity, user_link = _link_items(user.user_id, provider, subject, email)
    with TransactWrite(connection=connection()) as tx:
        tx.condition_check(UserItem, user.pk, user.sk, condition=UserItem.pk.exists())
        tx.save(identity, condition=OAuthIdentityItem.pk.does_not_exist())
        tx.save(user_link)


def create_user(provider: str, subject: str, *, email: str, full_name: str | None, identity_email: str | None,
                tier: str) -> UserItem:
    """A user without a password, its email marker and the provider link in one transaction, as registration
    does: no half-made user."""
    user_id = keys.new_id()
    user = UserItem(*UserItem.key(user_id), user_id=user_id, email=email, full_name=full_name,
                    password_hash=None, subscription_tier=tier)
    marker = EmailMarkerItem(*EmailMarkerItem.key(email), user_id=user_id)
    identity, user_link = _link_items(user_id, provider, subject, identity_email)
    with TransactWrite(connection=connection()) as tx:
        tx.save(marker, condition=EmailMarkerItem.pk.does_not_exist())
        tx.save(user, condition=UserItem.pk.does_not_exist())
        tx.save(identity, condition=OAuthIdentityItem.pk.does_not_exist())
        tx.save(user_link)
        tx.update(StatsItem(*StatsItem.key()), actions=[StatsItem.users.add(1), StatsItem.tag()])
    return user
