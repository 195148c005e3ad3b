"""/auth/*: parse, call the auth service, shape the response."""

from __future__ import annotations

from fastapi import APIRouter, Response

from narraforge.api.app_factory import COMMON_ERRORS
from narraforge.api.deps import CurrentUserDep
from narraforge.enums import OAuthProvider
from narraforge.errors import ServiceUnavailable
from narraforge.schemas.auth import (
    AuthResponse,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    UserResponse,
)
from narraforge.schemas.common import ErrorResponse
from narraforge.services import auth as auth_service

router = APIRouter(prefix="/auth", tags=["auth"], responses=COMMON_ERRORS)


@router.post("/register", status_code=201, response_model=AuthResponse,
             responses={409: {"model": ErrorResponse, "description": "Email already registered"}})
def register(body: RegisterRequest) -> AuthResponse:
    return auth_service.register(body.email, body.password, body.full_name)


@router.post("/login", response_model=AuthResponse)
def login(body: LoginRequest) -> AuthResponse:
    return auth_service.login(body.email, body.password)


@router.post("/refresh", response_model=AuthResponse)
def refresh(body: RefreshRequest) -> AuthResponse:
    """Rotates the refresh token; presenting an already-rotated token revokes the whole login."""
    return auth_service.refresh(body.refresh_token)


@router.get("/me", response_model=UserResponse)
def me(current: CurrentUserDep) -> UserResponse:
    return auth_service.user_response(current.user, current.usage)


@router.post("/logout", status_code=204, response_class=Response)
def logout(current: CurrentUserDep) -> Response:
    """Revokes this login's refresh-token family; its access tokens stop working too."""
    auth_service.logout(current)
    return Response(status_code=204)


@router.get("/oauth/{provider}", responses={503: {"model": ErrorResponse}})
def oauth_start(provider: OAuthProvider) -> None:
    raise ServiceUnavailable(f"OAuth login with {provider.value} is not configured on this deployment")


@router.get("/oauth/{provider}/callback", responses={503: {"model": ErrorResponse}})
def oauth_callback(provider: OAuthProvider) -> None:
    raise ServiceUnavailable(f"OAuth login with {provider.value} is not configured on this deployment")
