"""Request dependencies: the current user and list parameters."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

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
) -> CurrentUser:
    """The caller of job creation and regeneration, authenticated but not counted yet: dependencies run
    before the body is validated, and a request refused as invalid must not use up the generation limit
    (see `generation_admission`)."""
    return _authenticate(credentials)


def generation_admission(current: CurrentUser, response: Response) -> Callable[[], None]:
    """What the service calls once a generation request has passed every check, right before it
    reserves the quota: counts it against the per-user generation limit (429 once the window is full)
    and sets the RateLimit headers."""
    def admit() -> None:
        decision = rate_limits.enforce(f"generate:{current.id}", get_settings().rate_limit_generation_per_minute)
        response.headers.update(decision.headers())
    return admit


def _client_ip(request: Request) -> str:
    """The connection's address (API Gateway's `requestContext.identity.sourceIp`, set by Mangum), never a
    header a client can write."""
    return request.client.host if request.client else "unknown"


def _enforce_all(response: Response, limits: list[tuple[str, int, int]]) -> None:
    """Counts the request in every (subject, limit, window) and shows the tightest one in the headers."""
    decisions = [rate_limits.enforce(subject, limit, window) for subject, limit, window in limits]
    response.headers.update(min(decisions, key=lambda d: d.remaining).headers())


def limit_auth_attempts(request: Request, email: str, response: Response,
                        action: Literal["login", "register"]) -> None:
    """Brute-force guard of login and register: per client IP and email (guessing one account's password),
    and per client IP alone: logins across many emails (password spraying), sign-ups per hour."""
    settings = get_settings()
    client_ip = _client_ip(request)
    # The email is hashed: rate-limit items must not hold personal data after an account is deleted.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]
    per_ip = (
        (f"login-ip:{client_ip}", settings.rate_limit_login_per_ip_per_minute, 60) if action == "login"
        else (f"register-ip:{client_ip}", settings.rate_limit_register_per_ip_per_hour, 3600)
    )
    _enforce_all(response, [(f"auth:{client_ip}:{digest}", settings.rate_limit_auth_per_minute, 60), per_ip])


def limit_password_checks(request: Request, user_id: str, response: Response) -> None:
    """A password re-check (account deletion) counts like a login, per user and in the client IP's login
    budget, so a stolen access token cannot be used to guess the account's password."""
    settings = get_settings()
    _enforce_all(response, [
        (f"password-check:{user_id}", settings.rate_limit_auth_per_minute, 60),
        (f"login-ip:{_client_ip(request)}", settings.rate_limit_login_per_ip_per_minute, 60),
    ])


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
