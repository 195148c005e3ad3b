"""Who is calling: an access token resolved to its user, session and this month's usage. Every
authenticated route needs this; only the auth function needs the rest of `services.auth`."""

from __future__ import annotations

from dataclasses import dataclass

from narraforge.data import sessions
from narraforge.data import usage as usage_repo
from narraforge.data.usage import Usage
from narraforge.data.users import User
from narraforge.errors import Unauthorized
from narraforge.security import tokens


@dataclass(frozen=True)
class CurrentUser:
    user: User
    usage: Usage | None
    session_family: str

    @property
    def id(self) -> str:
        return self.user.user_id


def authenticate(access_token: str) -> CurrentUser:
    """One BatchGet reads the profile, the session (logout revokes it) and this month's usage."""
    claims = tokens.decode_access_token(access_token)
    user, session, usage = sessions.signed_in(claims.user_id, claims.session_family, usage_repo.current_month())
    if user is None or session is None or session.revoked:
        raise Unauthorized("Session is no longer valid")
    return CurrentUser(user=user, usage=usage, session_family=claims.session_family)
