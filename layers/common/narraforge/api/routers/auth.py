"""/auth/*: parse, call the auth service, shape the response."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Cookie, Query, Request, Response
from fastapi.responses import RedirectResponse

from narraforge.api.app_factory import COMMON_ERRORS, error_response
from narraforge.api.deps import CurrentUserDep, limit_auth_attempts, limit_password_checks
from narraforge.config import get_settings
from narraforge.enums import OAuthProvider
from narraforge.errors import BadRequest, DomainError, InvalidInput
from narraforge.schemas.auth import (
    AuthResponse,
    DeleteAccountRequest,
    LoginRequest,
    OAuthLinkRequest,
    OAuthProviderInfo,
    OAuthProvidersResponse,
    OAuthStartResponse,
    RefreshRequest,
    RegisterRequest,
    UserResponse,
)
from narraforge.security.oauth import BROWSER_COOKIE, DISPLAY_NAMES, configured_providers
from narraforge.services import auth as auth_service
from narraforge.services import oauth as oauth_service

router = APIRouter(prefix="/auth", tags=["auth"], responses=COMMON_ERRORS)


@router.post("/register", status_code=201, response_model=AuthResponse,
             responses={409: error_response("Email already registered")})
def register(body: RegisterRequest, request: Request, response: Response) -> AuthResponse:
    limit_auth_attempts(request, body.email, response, "register")
    return auth_service.register(body.email, body.password, body.full_name)


@router.post("/login", response_model=AuthResponse)
def login(body: LoginRequest, request: Request, response: Response) -> AuthResponse:
    limit_auth_attempts(request, body.email, response, "login")
    return auth_service.login(body.email, body.password)


@router.post("/refresh", response_model=AuthResponse)
def refresh(body: RefreshRequest) -> AuthResponse:
    """Rotates the refresh token; presenting an already-rotated token revokes the whole login."""
    return auth_service.refresh(body.refresh_token)


@router.get("/me", response_model=UserResponse)
def me(current: CurrentUserDep) -> UserResponse:
    return auth_service.user_response(current.user, current.usage)


@router.delete("/me", status_code=204, response_class=Response, summary="Delete the account and all its data")
def delete_me(current: CurrentUserDep, request: Request, response: Response,
              body: DeleteAccountRequest | None = None) -> Response:
    """Removes projects, jobs, narratives, versions, exports, sessions and every S3 object of the user.
    The password is checked again (accounts created through OAuth have none), rate-limited like a login.
    This month's usage is kept under a hash of the email until the month ends: re-registering the same
    email does not reset the monthly limits."""
    from narraforge.services.accounts import delete_account

    if current.user.password_hash:
        limit_password_checks(request, current.id, response)
    delete_account(current, body.password if body else None)
    return Response(status_code=204, headers=dict(response.headers))


@router.post("/logout", status_code=204, response_class=Response)
def logout(current: CurrentUserDep) -> Response:
    """Revokes this login's refresh-token family; its access tokens stop working too."""
    auth_service.logout(current)
    return Response(status_code=204)


OAUTH_ERRORS: dict[int | str, dict] = {
    502: error_response("The provider failed, timed out or answered nonsense"),
    503: error_response("This provider is not configured on this deployment"),
}
BROWSER_COOKIE_DOC = (f"Sets the `{BROWSER_COOKIE}` cookie (HttpOnly, Secure, SameSite=Lax, Path=/, lasting as "
                      "long as the state) that binds the flow to this browser: the callback requires it.")


def _set_browser_cookie(response: Response, value: str, max_age: int) -> None:
    """Path=/ because the callback may be served under a stage prefix (/v1) this app never sees."""
    response.set_cookie(BROWSER_COOKIE, value, max_age=max_age, path="/", secure=True, httponly=True,
                        samesite="lax")


def _cleared_browser_cookie() -> str:
    """The Set-Cookie header that drops the binding cookie, for error responses (built by the error handler)."""
    carrier = Response()
    carrier.delete_cookie(BROWSER_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return carrier.headers["set-cookie"]


@router.get("/oauth/providers", response_model=OAuthProvidersResponse)
def oauth_providers() -> OAuthProvidersResponse:
    """The providers an app may offer as sign-in buttons: only those configured here. Starts nothing.
    (Declared before `/oauth/{provider}`, which would otherwise take `providers` for a provider name.)"""
    return OAuthProvidersResponse(providers=[OAuthProviderInfo(id=provider, name=DISPLAY_NAMES[provider])
                                             for provider in configured_providers()])


@router.get("/oauth/{provider}", response_model=OAuthStartResponse, responses={
    **OAUTH_ERRORS,
    200: {"description": "With `?format=json`: the authorization URL, for SPA clients. " + BROWSER_COOKIE_DOC},
    307: {"description": "Redirect to the provider's consent page (with `state` and a PKCE challenge). "
                         + BROWSER_COOKIE_DOC},
})
def oauth_start(
    provider: OAuthProvider,
    response: Response,
    response_format: Annotated[Literal["redirect", "json"], Query(
        alias="format", description="`json` returns the URL instead of redirecting")] = "redirect",
) -> Response | OAuthStartResponse:
    """Starts the authorization-code flow; the state it issues is single use, lasts 10 minutes and can be
    completed only by the browser that started it. Signs in, or creates, an account; it never links a
    provider account into an account that has a password (that is `POST /auth/oauth/{provider}/link`)."""
    flow = oauth_service.start(provider)
    ttl = get_settings().oauth_state_ttl_seconds
    if response_format == "json":
        _set_browser_cookie(response, flow.browser_secret, ttl)
        return OAuthStartResponse(authorization_url=flow.authorization_url)
    redirect = RedirectResponse(flow.authorization_url, status_code=307)
    _set_browser_cookie(redirect, flow.browser_secret, ttl)
    return redirect


@router.post("/oauth/{provider}/link", response_model=OAuthStartResponse, summary="Link a provider account",
             responses={**OAUTH_ERRORS, 200: {"description": "The authorization URL. " + BROWSER_COOKIE_DOC}})
def oauth_link(provider: OAuthProvider, current: CurrentUserDep, request: Request, response: Response,
               body: OAuthLinkRequest | None = None) -> OAuthStartResponse:
    """Starts a flow, like `GET /auth/oauth/{provider}?format=json`, whose callback links the provider
    account to the signed-in user (whatever its email) and signs in: how an account with a password adds
    Google or GitHub sign-in. The password is asked again (rate-limited like a login), so an access token
    alone cannot attach another person's provider account. Send the browser to `authorization_url` with the
    cookie this sets."""
    if current.user.password_hash:
        limit_password_checks(request, current.id, response)
    flow = oauth_service.start_link(provider, current, body.password if body else None)
    _set_browser_cookie(response, flow.browser_secret, get_settings().oauth_state_ttl_seconds)
    return OAuthStartResponse(authorization_url=flow.authorization_url)


@router.get("/oauth/{provider}/callback", response_model=AuthResponse, responses={
    **OAUTH_ERRORS,
    400: error_response("Sign-in declined or failed at the provider; unknown, used or expired state; the "
                        f"`{BROWSER_COOKIE}` cookie missing or from another browser; or a code the provider "
                        "refused"),
    403: error_response("The provider account has no verified email"),
    409: error_response("An account with a password has this email (sign in with the password and link the "
                        "provider from it), an account has this email but the provider has not verified it, "
                        "or (linking) the provider account is linked to another user"),
})
def oauth_callback(
    provider: OAuthProvider,
    response: Response,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256, description="Set by the provider on failure")] = None,
    error_description: Annotated[str | None, Query(max_length=1024)] = None,
    browser_cookie: Annotated[str | None, Cookie(alias=BROWSER_COOKIE, max_length=128,
                                                 description="Set when the flow started")] = None,
) -> AuthResponse:
    """Finishes the flow: a link flow links the provider account to the user who started it; a sign-in
    signs in the linked user, links a verified email's account that has no password, or creates one.
    The binding cookie is cleared whatever the outcome."""
    try:
        if error:
            raise BadRequest(f"Sign-in with {provider.value} failed: {error_description or error}",
                             details={"error": error})
        if not code or not state:
            missing = [name for name, value in (("code", code), ("state", state)) if not value]
            raise InvalidInput("The provider's callback must carry code and state", details=[
                {"loc": ["query", name], "msg": "field required", "type": "missing"} for name in missing])
        signed_in = oauth_service.callback(provider, code, state, browser_cookie)
    except DomainError as exc:
        exc.headers["Set-Cookie"] = _cleared_browser_cookie()
        raise
    response.delete_cookie(BROWSER_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return signed_in
