"""Registration, login, refresh-token rotation with reuse detection, logout (who is calling: `identity`)."""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from narraforge.config import get_settings
from narraforge.data import keys
from narraforge.data.base import utcnow
from narraforge.data.models import (
    DeletedUsageItem,
    EmailMarkerItem,
    RefreshTokenItem,
    SessionItem,
    StatsItem,
    UsageItem,
    UserItem,
)
from narraforge.data.transactions import Transaction
from narraforge.domain.errors import Conflict, Unauthorized
from narraforge.domain.tiers import limits_for
from narraforge.enums import Tier
from narraforge.observability import logger
from narraforge.schemas.auth import AuthResponse, UserResponse
from narraforge.security import passwords, tokens
from narraforge.services.identity import CurrentUser


def user_response(user: UserItem, usage: UsageItem | None) -> UserResponse:
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
    user_id = keys.new_id()
    month = keys.month_key()
    user = UserItem(
        *UserItem.key(user_id),
        user_id=user_id,
        email=email.strip().lower(),
        full_name=full_name,
        password_hash=passwords.hash_password(password),
        subscription_tier=Tier.FREE.value,
    )
    marker = EmailMarkerItem(*EmailMarkerItem.key(email), user_id=user_id)
    stats = StatsItem(*StatsItem.key())
    inherited = _deleted_usage(email, month)
    usage = None
    if inherited is not None:
        usage = UsageItem(*UsageItem.key(user_id, month), generations_used=inherited.generations_used,
                          cost_used_usd=inherited.cost_used_usd)
    tx = Transaction()
    try:
        with tx:
            tx.save("email", marker, condition=EmailMarkerItem.pk.does_not_exist())
            tx.save("user", user, condition=UserItem.pk.does_not_exist())
            tx.update("stats", stats, actions=[StatsItem.users.add(1), StatsItem.tag()])
            if inherited is not None and usage is not None:
                tx.save("usage", usage)
                tx.delete("tombstone", inherited)
    except TransactWriteError as exc:
        if "email" in tx.failed(exc):
            raise Conflict("An account with this email already exists", details=[
                {"loc": ["body", "email"], "msg": "email already registered"}
            ]) from exc
        raise
    logger.info("user registered", extra={"user_id": user_id})
    return _issue_tokens(user, usage, family=None)


def login(email: str, password: str) -> AuthResponse:
    user = user_by_email(email)
    password_ok = passwords.verify_password(password, user.password_hash if user else None)
    if user is None or not password_ok:
        raise Unauthorized("Invalid email or password")
    rehash_if_needed(user, password)
    return _issue_tokens(user, _usage(user.user_id), family=None)


def rehash_if_needed(user: UserItem, password: str) -> None:
    """After a successful check: a bcrypt hash (or Argon2id with old parameters) becomes today's Argon2id.
    Only if the hash is still the one just verified, so a concurrent password change is never undone."""
    old_hash = user.password_hash
    if not old_hash or not passwords.needs_rehash(old_hash):
        return
    try:
        user.update(actions=[UserItem.password_hash.set(passwords.hash_password(password)),
                             UserItem.updated_at.set(utcnow())],
                    condition=UserItem.password_hash == old_hash)
    except UpdateError:
        logger.info("password hash changed meanwhile; not rehashed", extra={"user_id": user.user_id})
        return
    logger.info("password rehashed", extra={"user_id": user.user_id})


def start_session(user: UserItem) -> AuthResponse:
    """A new login for a user whose identity was proven elsewhere (OAuth): the same tokens and
    session as a password login."""
    return _issue_tokens(user, _usage(user.user_id), family=None)


def refresh(refresh_token: str) -> AuthResponse:
    """Rotate the token. A token seen after it was rotated means it leaked: revoke the whole family."""
    token_hash = tokens.hash_refresh_token(refresh_token)
    try:
        item = RefreshTokenItem.get(*RefreshTokenItem.key(token_hash), consistent_read=True)
    except DoesNotExist as exc:
        raise Unauthorized("Invalid refresh token") from exc
    if item.expires_at <= utcnow():
        raise Unauthorized("Refresh token expired")
    if item.used:
        _revoke_family(item.user_id, item.family)
        logger.warning("refresh token reuse; family revoked", extra={"user_id": item.user_id})
        raise Unauthorized("Refresh token was already used; all sessions of this login were revoked")
    try:
        user = UserItem.get(*UserItem.key(item.user_id), consistent_read=True)
    except DoesNotExist as exc:
        raise Unauthorized("Invalid refresh token") from exc
    return _issue_tokens(user, _usage(user.user_id), family=item.family, rotating=item)


def logout(current: CurrentUser) -> None:
    _revoke_family(current.id, current.session_family)


def _issue_tokens(
    user: UserItem,
    usage: UsageItem | None,
    *,
    family: str | None,
    rotating: RefreshTokenItem | None = None,
) -> AuthResponse:
    settings = get_settings()
    refresh_token = tokens.new_refresh_token()
    new_item = RefreshTokenItem(
        *RefreshTokenItem.key(tokens.hash_refresh_token(refresh_token)),
        user_id=user.user_id,
        family=family or keys.new_id(),
        expires_at=utcnow() + timedelta(days=settings.refresh_token_ttl_days),
    )
    new_item.ttl = new_item.expires_at + timedelta(days=1)
    # Indexed under the user so account deletion can find every token ever issued to them.
    new_item.gsi1pk, new_item.gsi1sk = keys.user_tokens_gsi1pk(user.user_id), keys.new_id()
    tx = Transaction()
    try:
        with tx:
            if rotating is None:
                session = SessionItem(*SessionItem.key(user.user_id, new_item.family),
                                      family=new_item.family, user_id=user.user_id)
                session.ttl = new_item.ttl
                tx.save("session", session, condition=SessionItem.pk.does_not_exist())
            else:
                tx.update("rotated", rotating, actions=[RefreshTokenItem.used.set(True)],
                          condition=RefreshTokenItem.used == False)  # noqa: E712 - a DynamoDB condition
                session = SessionItem(*SessionItem.key(user.user_id, new_item.family))
                tx.update("session", session, actions=[SessionItem.ttl.set(new_item.ttl)],
                          condition=SessionItem.pk.exists() & (SessionItem.revoked == False))  # noqa: E712
            tx.save("token", new_item, condition=RefreshTokenItem.pk.does_not_exist())
    except TransactWriteError as exc:
        if rotating is not None and tx.failed(exc) & {"rotated", "session"}:
            # Lost a race with another use of the same token, or the family was revoked.
            _revoke_family(user.user_id, new_item.family)
            raise Unauthorized("Refresh token was already used") from exc
        raise
    return AuthResponse(
        access_token=tokens.create_access_token(user.user_id, new_item.family),
        refresh_token=refresh_token,
        expires_in=settings.access_token_ttl_seconds,
        user=user_response(user, usage),
    )


def _revoke_family(user_id: str, family: str) -> None:
    session = SessionItem(*SessionItem.key(user_id, family))
    try:
        session.update(actions=[SessionItem.revoked.set(True)], condition=SessionItem.pk.exists())
    except UpdateError:
        logger.info("session already gone", extra={"user_id": user_id})


def confirm_password(user: UserItem, password: str | None) -> None:
    """Re-proves a signed-in session before an act an access token alone must not allow (deleting the
    account, linking a provider to it): a stolen token does not know the password. Accounts created
    through OAuth have none and confirm with their session alone."""
    if user.password_hash and not passwords.verify_password(password or "", user.password_hash):
        raise Unauthorized("Password is incorrect")


def user_by_email(email: str) -> UserItem | None:
    """Through the email marker (consistent reads): the one lookup of a user by address."""
    try:
        marker = EmailMarkerItem.get(*EmailMarkerItem.key(email), consistent_read=True)
        return UserItem.get(*UserItem.key(marker.user_id), consistent_read=True)
    except DoesNotExist:
        return None


def _deleted_usage(email: str, month: str) -> DeletedUsageItem | None:
    try:
        return DeletedUsageItem.get(*DeletedUsageItem.key(email, month), consistent_read=True)
    except DoesNotExist:
        return None


def _usage(user_id: str) -> UsageItem | None:
    try:
        return UsageItem.get(*UsageItem.key(user_id, keys.month_key()))
    except DoesNotExist:
        return None
