"""Logins: a session per refresh-token family (USER#uid / SESSION#family) and each refresh token by its SHA-256
(RT#hash / RT, listed under its user in GSI1 so account deletion finds them all). Issuing, rotating and
revoking them; and the one read that resolves an access token to its user, session and month's usage."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError

from narraforge.data import keys
from narraforge.data.base import BaseItem
from narraforge.data.models import RefreshTokenItem, SessionItem, UsageItem, UserItem
from narraforge.data.transactions import Transaction

Session = SessionItem  # the records this repository hands out
RefreshToken = RefreshTokenItem

# A refresh token's item outlives its expiry by this much, so a late use is still recognised as one.
TOKEN_ITEM_MARGIN = timedelta(days=1)


def signed_in(user_id: str, family: str, month: str) -> tuple[UserItem | None, SessionItem | None, UsageItem | None]:
    """One BatchGet of the profile, the session and the month's usage; each None if absent."""
    wanted = [UserItem.key(user_id), SessionItem.key(user_id, family), UsageItem.key(user_id, month)]
    found = {(item.pk, item.sk): item for item in BaseItem.batch_get(wanted)}
    user, session, usage = (found.get(key) for key in wanted)
    return (user if isinstance(user, UserItem) else None, session if isinstance(session, SessionItem) else None,
            usage if isinstance(usage, UsageItem) else None)


def find_refresh_token(token_hash: str) -> RefreshTokenItem | None:
    return RefreshTokenItem.find(*RefreshTokenItem.key(token_hash), consistent_read=True)


def issue(user_id: str, token_hash: str, *, family: str | None, expires_at: datetime,
          rotating: RefreshTokenItem | None = None) -> RefreshTokenItem | None:
    """Saves a new refresh token in one transaction with either a new session (`family` None: a new login) or,
    when `rotating` an old token of `family`, that token marked used and the session's life extended. None if
    the rotation lost: the old token was used meanwhile, or the session is revoked or gone."""
    new_item = RefreshTokenItem(
        *RefreshTokenItem.key(token_hash),
        user_id=user_id,
        family=family or keys.new_id(),
        expires_at=expires_at,
    )
    new_item.ttl = new_item.expires_at + TOKEN_ITEM_MARGIN
    new_item.gsi1pk, new_item.gsi1sk = keys.user_tokens_gsi1pk(user_id), keys.new_id()
    tx = Transaction()
    try:
        with tx:
            if rotating is None:
                session = SessionItem(*SessionItem.key(user_id, new_item.family),
                                      family=new_item.family, user_id=user_id)
                session.ttl = new_item.ttl
                tx.save("session", session, condition=SessionItem.pk.does_not_exist())
            else:
                tx.update("rotated", rotating, actions=[RefreshTokenItem.used.set(True)],
                          condition=RefreshTokenItem.used == False)  # noqa: E712 - a DynamoDB condition
                session = SessionItem(*SessionItem.key(user_id, new_item.family))
                tx.update("session", session, actions=[SessionItem.ttl.set(new_item.ttl)],
                          condition=SessionItem.pk.exists() & (SessionItem.revoked == False))  # noqa: E712
            tx.save("token", new_item, condition=RefreshTokenItem.pk.does_not_exist())
    except TransactWriteError as exc:
        if rotating is not None and tx.failed(exc) & {"rotated", "session"}:
            return None
        raise
    return new_item


def revoke(user_id: str, family: str) -> bool:
    """Marks the session revoked (every token of the family stops working); False if it is gone."""
    session = SessionItem(*SessionItem.key(user_id, family))
    try:
        session.update(actions=[SessionItem.revoked.set(True)], condition=SessionItem.pk.exists())
    except UpdateError:
        return False
    return True
