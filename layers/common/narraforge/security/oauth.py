"""OAuth 2.0 authorization-code clients for Google and GitHub, with PKCE (S256).

Providers are reached with httpx and a timeout; httpx is imported on the first provider call, so the
auth function's cold start does not pay for it (most of its requests never reach a provider). Whatever a
provider does wrong (down, slow, an answer that is not what its API documents) becomes a 502; a code it
refuses becomes a 400, since the user can simply start again. Neither is ever a 500.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from pydantic import SecretStr

from narraforge.config import get_settings
from narraforge.enums import OAuthProvider
from narraforge.errors import BadGateway, BadRequest, ServiceUnavailable
from narraforge.observability import logger, trace_http_client

if TYPE_CHECKING:
    import httpx

USER_AGENT = "NarraForge-OAuth"
SSM_CACHE_SECONDS = 300
# Errors a token endpoint gives for a bad, expired or replayed code (RFC 6749 §5.2; GitHub's own name).
REFUSED_CODE_ERRORS = frozenset({"invalid_grant", "bad_verification_code"})
DISPLAY_NAMES = {OAuthProvider.GOOGLE: "Google", OAuthProvider.GITHUB: "GitHub"}
# The cookie binding a flow to the browser that started it (RFC 9700 §4.7). Path=/ because the API may be
# served under a stage prefix (/v1) that the app does not see.
BROWSER_COOKIE = "nf_oauth"
SCOPES = {OAuthProvider.GOOGLE: "openid email profile", OAuthProvider.GITHUB: "read:user user:email"}


@dataclass(frozen=True)
class ProviderConfig:
    provider: OAuthProvider
    client_id: str
    client_secret: SecretStr | None
    client_secret_param: str | None
    authorize_url: str
    token_url: str
    userinfo_url: str
    emails_url: str  # GitHub only: where the primary, verified address is found
    redirect_uri: str

    @property
    def name(self) -> str:
        return DISPLAY_NAMES[self.provider]


@dataclass(frozen=True)
class Profile:
    """What a provider says about the person: `subject` is its stable account id (emails change)."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def provider_config(provider: OAuthProvider) -> ProviderConfig:
    """The provider's settings; 503 naming what is missing when it is not set up on this deployment."""
    settings = get_settings()
    prefix = f"oauth_{provider.value}_"
    client_id: str = getattr(settings, prefix + "client_id") or ""
    secret: SecretStr | None = getattr(settings, prefix + "client_secret")
    secret_param = getattr(settings, prefix + "client_secret_param") or None
    if secret is not None and not secret.get_secret_value():
        secret = None
    missing = []
    if not client_id:
        missing.append(f"OAUTH_{provider.value.upper()}_CLIENT_ID")
    if secret is None and not secret_param:
        missing.append(f"OAUTH_{provider.value.upper()}_CLIENT_SECRET or _CLIENT_SECRET_PARAM")
    redirect_uri = _redirect_uri(provider, settings.oauth_callback_url, settings.oauth_redirect_base_url)
    if redirect_uri is None:
        missing.append("OAUTH_REDIRECT_BASE_URL or OAUTH_CALLBACK_URL (with {provider})")
    if missing:
        raise ServiceUnavailable(
            f"OAuth login with {DISPLAY_NAMES[provider]} is not configured on this deployment",
            details={"missing_settings": missing},
        )
    return ProviderConfig(
        provider=provider,
        client_id=client_id,
        client_secret=secret,
        client_secret_param=secret_param,
        authorize_url=getattr(settings, prefix + "authorize_url"),
        token_url=getattr(settings, prefix + "token_url"),
        userinfo_url=getattr(settings, prefix + "userinfo_url"),
        emails_url=settings.oauth_github_emails_url if provider is OAuthProvider.GITHUB else "",
        redirect_uri=redirect_uri,
    )


def _redirect_uri(provider: OAuthProvider, callback_url: str | None, redirect_base: str | None) -> str | None:
    """OAUTH_CALLBACK_URL (a page of the app, which calls the API's callback itself) when set, else the API's
    own callback route; None when neither is usable. A callback URL without `{provider}` would send every
    provider to one page that cannot tell them apart, so it counts as not set."""
    if callback_url:
        return callback_url.replace("{provider}", provider.value) if "{provider}" in callback_url else None
    base = (redirect_base or "").rstrip("/")
    return f"{base}/auth/oauth/{provider.value}/callback" if base else None


def configured_providers() -> list[OAuthProvider]:
    """The providers this deployment can sign in with (what the app offers as buttons)."""
    configured = []
    for provider in OAuthProvider:
        try:
            provider_config(provider)
        except ServiceUnavailable:
            continue
        configured.append(provider)
    return configured


def new_code_verifier() -> str:
    """64 characters of the RFC 7636 unreserved alphabet (43–128 allowed)."""
    return secrets.token_urlsafe(48)


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(config: ProviderConfig, *, state: str, challenge: str) -> str:
    query = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": config.redirect_uri,
        "scope": SCOPES[config.provider],
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in config.authorize_url else "?"
    return f"{config.authorize_url}{separator}{urlencode(query)}"


def exchange_code(config: ProviderConfig, *, code: str, verifier: str, redirect_uri: str) -> str:
    """Trades the code for the provider's access token (used once, for the profile, then dropped)."""
    response = _request(config, "POST", config.token_url, data={
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": config.client_id,
        "client_secret": _client_secret(config),
        "code_verifier": verifier,
    })
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise BadGateway(f"{config.name} token exchange failed (HTTP {response.status_code}, no JSON answer)")
    error = body.get("error")
    if error in REFUSED_CODE_ERRORS:
        raise BadRequest(f"{config.name} refused the authorization code (expired, already used or not "
                         "issued for this sign-in); start the sign-in again")
    token = body.get("access_token")
    if response.status_code != 200 or error or not isinstance(token, str) or not token:
        logger.warning("oauth token exchange failed", extra={"provider": config.provider.value,
                                                             "status": response.status_code, "error": error})
        raise BadGateway(f"{config.name} token exchange failed ({error or f'HTTP {response.status_code}'})")
    return token


def fetch_profile(config: ProviderConfig, access_token: str) -> Profile:
    if config.provider is OAuthProvider.GITHUB:
        return _github_profile(config, access_token)
    return _google_profile(config, access_token)


def _google_profile(config: ProviderConfig, access_token: str) -> Profile:
    body = _json_object(_get(config, config.userinfo_url, access_token), config, "userinfo endpoint")
    subject = body.get("sub")
    if not isinstance(subject, str) or not subject:
        raise BadGateway(f"{config.name} userinfo has no account id")
    verified = body.get("email_verified")
    return Profile(
        subject=subject,
        email=_email(body.get("email")),
        email_verified=verified is True or (isinstance(verified, str) and verified.lower() == "true"),
        name=_text(body.get("name")),
    )


def _github_profile(config: ProviderConfig, access_token: str) -> Profile:
    """`/user` gives the id and name; `/user/emails` says which address is primary and verified."""
    user = _json_object(_get(config, config.userinfo_url, access_token), config, "user endpoint")
    subject = user.get("id")
    if not isinstance(subject, int | str) or isinstance(subject, bool) or not str(subject):
        raise BadGateway(f"{config.name} user has no account id")
    emails = _json(_get(config, config.emails_url, access_token), config, "emails endpoint")
    if not isinstance(emails, list):
        raise BadGateway(f"{config.name} emails endpoint answered with an unexpected shape")
    primary = next((e for e in emails if isinstance(e, dict) and e.get("primary") is True), None)
    return Profile(
        subject=str(subject),
        email=_email(primary.get("email")) if primary else None,
        email_verified=bool(primary and primary.get("verified") is True),
        name=_text(user.get("name")) or _text(user.get("login")),
    )


def _get(config: ProviderConfig, url: str, access_token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {access_token}"}
    if config.provider is OAuthProvider.GITHUB:
        headers["Accept"] = "application/vnd.github+json"
    response = _request(config, "GET", url, headers=headers)
    if response.status_code != 200:
        logger.warning("oauth profile read failed", extra={"provider": config.provider.value,
                                                           "status": response.status_code})
        raise BadGateway(f"{config.name} profile request failed (HTTP {response.status_code})")
    return response


def _request(config: ProviderConfig, method: str, url: str, **kwargs: Any) -> httpx.Response:
    import httpx

    trace_http_client()
    timeout = get_settings().oauth_http_timeout_seconds
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **kwargs.pop("headers", {})}
    try:
        with httpx.Client(timeout=timeout) as client:
            return client.request(method, url, headers=headers, **kwargs)
    except httpx.TimeoutException as exc:
        raise BadGateway(f"{config.name} did not answer within {timeout:g} s") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        logger.warning("oauth provider unreachable", extra={"provider": config.provider.value,
                                                            "error": type(exc).__name__})
        raise BadGateway(f"{config.name} could not be reached") from exc


def _json(response: httpx.Response, config: ProviderConfig, what: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise BadGateway(f"{config.name} {what} did not answer with JSON") from exc


def _json_object(response: httpx.Response, config: ProviderConfig, what: str) -> dict[str, Any]:
    body = _json(response, config, what)
    if not isinstance(body, dict):
        raise BadGateway(f"{config.name} {what} answered with an unexpected shape")
    return body


def _client_secret(config: ProviderConfig) -> str:
    if config.client_secret is not None:
        return config.client_secret.get_secret_value()
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_parameter(config.client_secret_param or "", decrypt=True, max_age=SSM_CACHE_SECONDS)
    except parameters.exceptions.GetParameterError as exc:
        logger.error("oauth client secret unreadable", extra={"provider": config.provider.value})
        raise ServiceUnavailable(f"OAuth login with {config.name} is misconfigured (client secret "
                                 "unreadable)") from exc
    return str(value)


def _email(value: object) -> str | None:
    if isinstance(value, str) and "@" in value and len(value) <= 254:
        return value.strip().lower()
    return None


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:200]
    return None
