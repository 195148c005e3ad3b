"""Registration, login, refresh-token rotation with reuse detection, logout (who is calling: `identity`)."""

from __future__ import annotations

from datetime import timedelta

from narraforge.config import get_settings
from narraforge.data import sessions
from narraforge.data import usage as usage_repo
from narraforge.data import users as users_repo
from narraforge.data.base import utcnow
from narraforge.data.sessions import RefreshToken
from narraforge.data.usage import Usage
from narraforge.data.users import User
from narraforge.domain.tiers import limits_for
from narraforge.enums import Tier
from narraforge.errors import Conflict, Unauthorized
from narraforge.observability import logger
from narraforge.schemas.auth import AuthResponse, UserResponse
from narraforge.security import passwords, tokens
from narraforge.services.identity import CurrentUser


def user_response(user: User, usage: Usage | None) -> UserResponse:
    return UserResponse(
        id=user.user_id,
        email=user.email,
        full_name=user.full_name,
        subscription_tier=Tier(user.subscription_tier),
        monthly_generation_limit=limits_for(user.subscription_tier).monthly_generations,
        monthly_generations_used=int(usage.generations_used) if usage else 0,
        monthly_cost_limit_usd=user.monthly_cost_limit_usd,
        monthly_cost_used_usd=round(float(usage.cost_used_usd), 6) if usage else 0.0,
        created_at=user.created_at,
    )


def register(email: str, password: str, full_name: str | None) -> AuthResponse:
    """Profile and email marker are written in one transaction: concurrent sign-ups of one email
    cannot both win, and no check-then-write window exists. An account of this email deleted this month
    hands its usage to the new one, so deleting and re-registering does not reset the monthly limits."""
    month = usage_repo.current_month()
    created = users_repo.create(email, full_name=full_name, password_hash=passwords.hash_password(password),
                                tier=Tier.FREE.value, month=month, inherited=usage_repo.find_deleted(email, month))
    if created is None:
        raise Conflict("An account with this email already exists", details=[
            {"loc": ["body", "email"], "msg": "email already registered"}
        ])
    user, usage = created
    logger.info("user registered", extra={"user_id": user.user_id})
    return _issue_tokens(user, usage, family=None)


def login(email: str, password: str) -> AuthResponse:
    user = user_by_email(email)
    password_ok = passwords.verify_password(password, user.password_hash if user else None)
    if user is None or not password_ok:
        raise Unauthorized("Invalid email or password")
    rehash_if_needed(user, password)
    return _issue_tokens(user, _usage(user.user_id), family=None)


def rehash_if_needed(user: User, password: str) -> None:
    """After a successful check: a bcrypt hash (or Argon2id with old parameters) becomes today's Argon2id.
    Only if the hash is still the one just verified, so a concurrent password change is never undone."""
    old_hash = user.password_hash
    if not old_hash or not passwords.needs_rehash(old_hash):
        return
    if not users_repo.replace_password_hash(user, passwords.hash_password(password), old_hash=old_hash):
        logger.info("password hash changed meanwhile; not rehashed", extra={"user_id": user.user_id})
        return
    logger.info("password rehashed", extra={"user_id": user.user_id})


def start_session(user: User) -> AuthResponse:
    """A new login for a user whose identity was proven elsewhere (OAuth): the same tokens and
    session as a password login."""
    return _issue_tokens(user, _usage(user.user_id), family=None)


def refresh(refresh_token: str) -> AuthResponse:
    """Rotate the token. A token seen after it was rotated means it leaked: revoke the whole family."""
    token_hash = tokens.hash_refresh_token(refresh_token)
    item = sessions.find_refresh_token(token_hash)
    if item is None:
        raise Unauthorized("Invalid refresh token")
    if item.expires_at <= utcnow():
        raise Unauthorized("Refresh token expired")
    if item.used:
        _revoke_family(item.user_id, item.family)
        logger.warning("refresh token reuse; family revoked", extra={"user_id": item.user_id})
        raise Unauthorized("Refresh token was already used; all sessions of this login were revoked")
    user = users_repo.find(item.user_id)
    if user is None:
        raise Unauthorized("Invalid refresh token")
    return _issue_tokens(user, _usage(user.user_id), family=item.family, rotating=item)


def logout(current: CurrentUser) -> None:
    _revoke_family(current.id, current.session_family)


def _issue_tokens(
    user: User,
    usage: Usage | None,
    *,
    family: str | None,
    rotating: RefreshToken | None = None,
) -> AuthResponse:
    settings = get_settings()
    refresh_token = tokens.new_refresh_token()
    new_item = sessions.issue(user.user_id, tokens.hash_refresh_token(refresh_token), family=family,
                              expires_at=utcnow() + timedelta(days=settings.refresh_token_ttl_days),
                              rotating=rotating)
    if new_item is None:  # lost a race with another use of the same token, or the family was revoked
        _revoke_family(user.user_id, family or "")
        raise Unauthorized("Refresh token was already used")
    return AuthResponse(
        access_token=tokens.create_access_token(user.user_id, new_item.family),
        refresh_token=refresh_token,
        expires_in=settings.access_token_ttl_seconds,
        user=user_response(user, usage),
    )


def _revoke_family(user_id: str, family: str) -> None:
    if not sessions.revoke(user_id, family):
        logger.info("session already gone", extra={"user_id": user_id})


def confirm_password(user: User, password: str | None) -> None:
    """Re-proves a signed-in session before an act an access token alone must not allow (deleting the
    account, linking a provider to it): a stolen token does not know the password. Accounts created
    through OAuth have none and confirm with their session alone."""
    if user.password_hash and not passwords.verify_password(password or "", user.password_hash):
        raise Unauthorized("Password is incorrect")


def user_by_email(email: str) -> User | None:
    """The one lookup of a user by address (through the email marker, consistent reads)."""
    return users_repo.by_email(email)


def _usage(user_id: str) -> Usage | None:
    return usage_repo.find(user_id, usage_repo.current_month())
