"""Request dependencies: the current user and list parameters."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from narraforge.config import get_settings
from narraforge.errors import Unauthorized
from narraforge.security import rate_limits
from narraforge.services.identity import CurrentUser, authenticate

_bearer = HTTPBearer(auto_error=False, description="Access token from /auth/login or /auth/register")


def _authenticate(credentials: HTTPAuthorizationCredentials | None) -> CurrentUser:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Not authenticated")
    return authenticate(credentials.credentials)


def _counted(credentials: HTTPAuthorizationCredentials | None, response: Response, bucket: str,
             limit: int) -> CurrentUser:
    user = _authenticate(credentials)
    response.headers.update(rate_limits.enforce(f"{bucket}:{user.id}", limit).headers())
    return user


def current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    response: Response,
) -> CurrentUser:
    """The caller, counted against the per-user limit of ordinary routes."""
    return _counted(credentials, response, "user", get_settings().rate_limit_default_per_minute)


def generating_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    response: Response,
) -> CurrentUser:
    """The caller, counted against the (smaller) per-user limit of job creation and regeneration."""
    return _counted(credentials, response, "generate", get_settings().rate_limit_generation_per_minute)


def limit_auth_attempts(request: Request, email: str, response: Response) -> None:
    """Brute-force guard of login and register: per client IP and email."""
    client_ip = request.client.host if request.client else "unknown"
    # The email is hashed: rate-limit items must not hold personal data after an account is deleted.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]
    subject = f"auth:{client_ip}:{digest}"
    decision = rate_limits.enforce(subject, get_settings().rate_limit_auth_per_minute)
    response.headers.update(decision.headers())


CurrentUserDep = Annotated[CurrentUser, Depends(current_user)]
GeneratingUserDep = Annotated[CurrentUser, Depends(generating_user)]

# Ids are ULIDs; anything of a sane length that matches nothing is simply not found (404).
ResourceId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int
    cursor: str | None


def page_params(
    page: Annotated[int, Query(ge=1, le=10_000, description="1-based page number")] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048, description="`next_cursor` of the previous page")]
    = None,
) -> PageParams:
    return PageParams(page=page, page_size=page_size, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]
