"""Request dependencies: the current user and list parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from narraforge.errors import Unauthorized
from narraforge.services import auth as auth_service
from narraforge.services.auth import CurrentUser

_bearer = HTTPBearer(auto_error=False, description="Access token from /auth/login or /auth/register")


def current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Not authenticated")
    return auth_service.authenticate(credentials.credentials)


CurrentUserDep = Annotated[CurrentUser, Depends(current_user)]

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
