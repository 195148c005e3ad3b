"""/auth/*: parse, call the auth service, shape the response."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from narraforge.api.app_factory import COMMON_ERRORS, error_response
from narraforge.api.deps import CurrentUserDep, limit_auth_attempts
from narraforge.enums import OAuthProvider
from narraforge.errors import BadRequest, InvalidInput
from narraforge.schemas.auth import (
    AuthResponse,
    DeleteAccountRequest,
    LoginRequest,
    OAuthStartResponse,
    RefreshRequest,
    RegisterRequest,
    UserResponse,
)
from narraforge.services import auth as auth_service
from narraforge.services import oauth as oauth_service

router = APIRouter(prefix="/auth", tags=["auth"], responses=COMMON_ERRORS)


@router.post("/register", status_code=201, response_model=AuthResponse,
             responses={409: error_response("Email already registered")})
def register(body: RegisterRequest, request: Request, response: Response) -> AuthResponse:
    limit_auth_attempts(request, body.email, response)
    return auth_service.register(body.email, body.password, body.full_name)


@router.post("/login", response_model=AuthResponse)
def login(body: LoginRequest, request: Request, response: Response) -> AuthResponse:
    limit_auth_attempts(request, body.email, response)
    return auth_service.login(body.email, body.password)


@router.post("/refresh", response_model=AuthResponse)
def refresh(body: RefreshRequest) -> AuthResponse:
    """Rotates the refresh token; presenting an already-rotated token revokes the whole login."""
    return auth_service.refresh(body.refresh_token)


@router.get("/me", response_model=UserResponse)
def me(current: CurrentUserDep) -> UserResponse:
    return auth_service.user_response(current.user, current.usage)


@router.delete("/me", status_code=204, response_class=Response, summary="Delete the account and all its data")
def delete_me(current: CurrentUserDep, body: DeleteAccountRequest | None = None) -> Response:
    """Removes projects, jobs, narratives, versions, exports, sessions, usage and every S3 object of the
    user. The password is checked again (accounts created through OAuth have none)."""
    from narraforge.services.accounts import delete_account

    delete_account(current, body.password if body else None)
    return Response(status_code=204)


@router.post("/logout", status_code=204, response_class=Response)
def logout(current: CurrentUserDep) -> Response:
    """Revokes this login's refresh-token family; its access tokens stop working too."""
    auth_service.logout(current)
    return Response(status_code=204)


OAUTH_ERRORS: dict[int | str, dict] = {
    502: error_response("The provider failed, timed out or answered nonsense"),
    503: error_response("This provider is not configured on this deployment"),
}


@router.get("/oauth/{provider}", response_model=OAuthStartResponse, responses={
    **OAUTH_ERRORS,
    200: {"description": "With `?format=json`: the authorization URL, for SPA clients"},
    307: {"description": "Redirect to the provider's consent page (with `state` and a PKCE challenge)"},
})
def oauth_start(
    provider: OAuthProvider,
    response_format: Annotated[Literal["redirect", "json"], Query(
        alias="format", description="`json` returns the URL instead of redirecting")] = "redirect",
) -> Response | OAuthStartResponse:
    """Starts the authorization-code flow; the state it issues is single use and lasts 10 minutes."""
    url = oauth_service.start(provider)
    if response_format == "json":
        return OAuthStartResponse(authorization_url=url)
    return RedirectResponse(url, status_code=307)


@router.get("/oauth/{provider}/callback", response_model=AuthResponse, responses={
    **OAUTH_ERRORS,
    400: error_response("Sign-in declined or failed at the provider, unknown, used or "
                                                 "expired state, or a code the provider refused"),
    403: error_response("The provider account has no verified email"),
    409: error_response("An account has this email but the provider has not verified "
                                                 "it, so it is not linked"),
})
def oauth_callback(
    provider: OAuthProvider,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256, description="Set by the provider on failure")] = None,
    error_description: Annotated[str | None, Query(max_length=1024)] = None,
) -> AuthResponse:
    """Finishes the flow: signs in the linked user, links a verified email's account, or creates one."""
    if error:
        raise BadRequest(f"Sign-in with {provider.value} failed: {error_description or error}",
                         details={"error": error})
    if not code or not state:
        missing = [name for name, value in (("code", code), ("state", state)) if not value]
        raise InvalidInput("The provider's callback must carry code and state", details=[
            {"loc": ["query", name], "msg": "field required", "type": "missing"} for name in missing])
    return oauth_service.callback(provider, code, state)
