"""Who is calling: an access token resolved to its user, session and this month's usage. Every
authenticated route needs this; only the auth function needs the rest of `services.auth`."""

from __future__ import annotations

from dataclasses import dataclass

from narraforge.data import keys
from narraforge.data.base import BaseItem
from narraforge.data.models import SessionItem, UsageItem, UserItem
from narraforge.domain.errors import Unauthorized
from narraforge.security import tokens


@dataclass(frozen=True)
class CurrentUser:
    user: UserItem
    usage: UsageItem | None
    session_family: str

    @property
    def id(self) -> str:
        return self.user.user_id


def authenticate(access_token: str) -> CurrentUser:
    """One BatchGet reads the profile, the session (logout revokes it) and this month's usage."""
    claims = tokens.decode_access_token(access_token)
    wanted = [
        UserItem.key(claims.user_id),
        SessionItem.key(claims.user_id, claims.session_family),
        UsageItem.key(claims.user_id, keys.month_key()),
    ]
    found = {(item.pk, item.sk): item for item in BaseItem.batch_get(wanted)}
    user = found.get(wanted[0])
    session = found.get(wanted[1])
    if not isinstance(user, UserItem) or not isinstance(session, SessionItem) or session.revoked:
        raise Unauthorized("Session is no longer valid")
    usage = found.get(wanted[2])
    return CurrentUser(user=user, usage=usage if isinstance(usage, UsageItem) else None,
                       session_family=claims.session_family)
