"""OAuth sign-in (README, "OAuth"): start a flow, then turn the provider's callback into our own login.

A sign-in callback resolves to a user in this order: the provider account already linked → its user; an
account with the same email, which the provider has verified and which has no password → link it; nobody
→ a new FREE user without a password. An account with a password is never linked by email: whoever
registered the address first may not own it, and linking would let the real owner in beside a squatter
whose password and sessions keep working. Such an account links a provider only through `link` flows,
started by a session that proved the account. An email the provider has not verified is never linked nor
claimed, or anyone could sign in as anyone by typing their address into a provider profile.

Every flow is bound to the browser that started it (RFC 9700 §4.7): the start hands out a random value
for a cookie and stores only its hash, and the callback must bring the cookie back, so a leaked or
planted callback URL signs nobody in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError

from narraforge.config import get_settings
from narraforge.data import identities
from narraforge.data import users as users_repo
from narraforge.data.base import utcnow
from narraforge.data.identities import OAuthState
from narraforge.data.transactions import failed_conditions
from narraforge.data.users import User
from narraforge.enums import OAuthProvider, Tier
from narraforge.errors import BadRequest, Conflict, Forbidden
from narraforge.observability import logger
from narraforge.schemas.auth import AuthResponse
from narraforge.security import oauth
from narraforge.services import auth as auth_service
from narraforge.services.identity import CurrentUser

# A lost race (two callbacks of one person at once) is resolved by looking again, once.
RESOLVE_ATTEMPTS = 2


@dataclass(frozen=True)
class StartedFlow:
    """Where to send the browser, and the value the browser must keep in its cookie until the callback."""

    authorization_url: str
    browser_secret: str


def start(provider: OAuthProvider, link_user_id: str | None = None) -> StartedFlow:
    """Stores a single-use state with its PKCE verifier and the hash of a fresh browser secret; with
    `link_user_id`, the callback links the provider account to that (signed-in) user."""
    config = oauth.provider_config(provider)
    state = secrets.token_urlsafe(32)
    browser_secret = secrets.token_urlsafe(32)
    verifier = oauth.new_code_verifier()
    identities.save_state(
        _hash(state),
        provider=provider.value,
        code_verifier=verifier,
        redirect_uri=config.redirect_uri,
        expires_at=utcnow() + timedelta(seconds=get_settings().oauth_state_ttl_seconds),
        browser_hash=_hash(browser_secret),
        link_user_id=link_user_id,
    )
    url = oauth.authorization_url(config, state=state, challenge=oauth.code_challenge(verifier))
    return StartedFlow(authorization_url=url, browser_secret=browser_secret)


def start_link(provider: OAuthProvider, current: CurrentUser, password: str | None) -> StartedFlow:
    """A link flow for the signed-in user, once the session is re-proved with the password: with a stolen
    access token alone, an attacker could otherwise attach their own provider account and keep a way in."""
    auth_service.confirm_password(current.user, password)
    return start(provider, link_user_id=current.id)


def callback(provider: OAuthProvider, code: str, state: str, browser_secret: str | None) -> AuthResponse:
    config = oauth.provider_config(provider)
    pending = _consume_state(provider, state, browser_secret)
    access_token = oauth.exchange_code(config, code=code, verifier=pending.code_verifier,
                                       redirect_uri=pending.redirect_uri)
    profile = oauth.fetch_profile(config, access_token)
    if pending.link_user_id:
        user = _link_to_account(pending.link_user_id, provider, profile)
    else:
        user = _resolve_user(provider, profile)
    return auth_service.start_session(user)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _consume_state(provider: OAuthProvider, state: str, browser_secret: str | None) -> OAuthState:
    """Deletes the state with a condition, so of two callbacks carrying it only one gets past here.
    The browser check comes first: a callback from another browser must not burn the state of the one
    that started the flow (whoever holds a leaked URL could otherwise deny that sign-in)."""
    unknown = BadRequest("Unknown or already used OAuth state; start the sign-in again")
    pending = identities.find_state(_hash(state))
    if pending is None:
        raise unknown
    if browser_secret is None or not hmac.compare_digest(_hash(browser_secret), pending.browser_hash or ""):
        raise BadRequest("This sign-in was started in another browser (or its cookie expired): start it again "
                         "in this browser")
    if not identities.consume_state(pending):
        raise unknown
    if pending.expires_at <= utcnow():
        raise BadRequest("OAuth state expired; start the sign-in again")
    if pending.provider != provider.value:
        raise BadRequest(f"OAuth state was issued for {pending.provider}, not {provider.value}")
    return pending


def _resolve_user(provider: OAuthProvider, profile: oauth.Profile) -> User:
    name = oauth.DISPLAY_NAMES[provider]
    for _ in range(RESOLVE_ATTEMPTS):
        linked = _linked_user(provider, profile.subject)
        if linked is not None:
            return linked
        email = profile.email
        if email is None:
            raise Forbidden(f"Your {name} account has no primary email address; add one at {name} and try again")
        existing = auth_service.user_by_email(email)
        if existing is not None and existing.password_hash:
            raise Conflict(f"An account with this email already exists and has a password, so your {name} "
                           f"account was not linked to it. If it is yours, sign in with your password and link "
                           f"{name} from your account (POST /auth/oauth/{provider.value}/link). If you never "
                           f"created that account, do not use it: contact support.")
        if not profile.email_verified:
            if existing is not None:
                raise Conflict(f"An account with this email already exists, and {name} has not verified this "
                               f"email, so it was not linked. Verify the email at {name} and try again.")
            raise Forbidden(f"{name} has not verified your email address; verify it at {name} and try again")
        try:
            if existing is not None:
                _link(existing, provider, profile)
                return existing
            return _create_user(provider, profile, email)
        except TransactWriteError as exc:
            if not failed_conditions(exc):
                raise
            logger.info("oauth sign-in lost a race; resolving again", extra={"provider": provider.value})
    raise Conflict("Another sign-in with this account is in progress; try again")


def _link_to_account(user_id: str, provider: OAuthProvider, profile: oauth.Profile) -> User:
    """A link flow: the session that started it proved the account, so the provider's email need not be
    the account's (nor verified); the provider account only must not belong to someone else."""
    name = oauth.DISPLAY_NAMES[provider]
    for _ in range(RESOLVE_ATTEMPTS):
        user = users_repo.find(user_id)
        if user is None:
            raise BadRequest(f"The account that started linking {name} no longer exists")
        linked = _linked_user(provider, profile.subject)
        if linked is not None:
            if linked.user_id != user.user_id:
                raise Conflict(f"This {name} account is already linked to another NarraForge account; "
                               f"sign in with {name} to use that account")
            return linked
        try:
            _link(user, provider, profile)
            return user
        except TransactWriteError as exc:
            if not failed_conditions(exc):
                raise
            logger.info("oauth link lost a race; looking again", extra={"provider": provider.value})
    raise Conflict("Another sign-in with this account is in progress; try again")


def _linked_user(provider: OAuthProvider, subject: str) -> User | None:
    return identities.linked_user(provider.value, subject)


def _link(user: User, provider: OAuthProvider, profile: oauth.Profile) -> None:
    identities.link(user, provider.value, profile.subject, profile.email)
    logger.info("oauth identity linked", extra={"user_id": user.user_id, "provider": provider.value})


def _create_user(provider: OAuthProvider, profile: oauth.Profile, email: str) -> User:
    """Profile, email marker and identity in one transaction, as registration does: no half-made user."""
    user = identities.create_user(provider.value, profile.subject, email=email, full_name=profile.name,
                                  identity_email=profile.email, tier=Tier.FREE.value)
    logger.info("user registered via oauth", extra={"user_id": user.user_id, "provider": provider.value})
    return user
