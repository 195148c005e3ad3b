"""OAuth sign-in through the real auth handler, against a fake provider on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from narraforge.config import reset_settings

from tests.fake_oauth import CLIENT_ID, Account, FakeOAuth
from tests.helpers import PASSWORD, register, unique_email

REDIRECT_BASE = "https://api.example.test/v1"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOAuth]:
    server = FakeOAuth()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def provider(fake: FakeOAuth, monkeypatch: pytest.MonkeyPatch, api) -> Iterator[FakeOAuth]:
    """Google and GitHub both pointed at the fake (clear per test)."""
    fake.reset()
    monkeypatch.setenv("OAUTH_REDIRECT_BASE_URL", REDIRECT_BASE)
    for name in ("google", "github"):
        for key, value in fake.env(name).items():
            monkeypatch.setenv(key, value)
    reset_settings()
    yield fake
    reset_settings()


def authorize(api, fake: FakeOAuth, provider: str, account: Account) -> dict[str, str]:
    """Starts the flow through the API, then consents at the fake: the callback's query parameters."""
    fake.account = account
    started = api.get(f"/auth/oauth/{provider}", params={"format": "json"})
    assert started.status_code == 200, started.text
    consent = httpx.get(started.json()["authorization_url"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    location = urlsplit(consent.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{REDIRECT_BASE}/auth/oauth/{provider}/callback")
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def sign_in(api, fake: FakeOAuth, provider: str, account: Account):
    return api.get(f"/auth/oauth/{provider}/callback", params=authorize(api, fake, provider, account))


def google_account(email: str | None = None, verified: bool = True) -> Account:
    return Account(subject=f"g-{unique_email('sub')}", email=email or unique_email("oauth"), email_verified=verified)


def test_start_redirects_to_the_provider_with_state_and_pkce(api, provider):
    response = api.get("/auth/oauth/google")
    assert response.status_code == 307
    url = urlsplit(response.headers["location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.url}/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32
    assert query["redirect_uri"] == f"{REDIRECT_BASE}/auth/oauth/google/callback"
    assert "email" in query["scope"]
    again = parse_qs(urlsplit(api.get("/auth/oauth/google").headers["location"]).query)
    assert again["state"][0] != query["state"] and again["code_challenge"][0] != query["code_challenge"]


def test_google_sign_in_creates_a_user_whose_tokens_work(api, provider):
    account = google_account()
    response = sign_in(api, provider, "google", account)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["refresh_token"]
    assert body["user"]["email"] == account.email
    assert body["user"]["full_name"] == account.name
    assert body["user"]["subscription_tier"] == "FREE"
    me = api.as_user(body["access_token"]).get("/auth/me")
    assert me.status_code == 200 and me.json()["id"] == body["user"]["id"]
    assert api.post("/auth/refresh", json={"refresh_token": body["refresh_token"]}).status_code == 200
    # The exchange sent the client secret and a verifier the fake matched against the challenge.
    assert provider.token_requests[-1]["client_secret"] == "fake-client-secret"
    assert provider.token_requests[-1]["code_verifier"]

    second = sign_in(api, provider, "google", account)
    assert second.status_code == 200 and second.json()["user"]["id"] == body["user"]["id"]
    # No password was set, so a password login is refused like any wrong password.
    login = api.post("/auth/login", json={"email": account.email, "password": PASSWORD})
    assert login.status_code == 401
    assert login.json()["error"]["message"] == "Invalid email or password"


def test_unknown_or_forged_state_is_refused(api, provider):
    params = authorize(api, provider, "google", google_account())
    response = api.get("/auth/oauth/google/callback", params={**params, "state": "forged-state"})
    assert response.status_code == 400
    assert "state" in response.json()["error"]["message"]
    missing = api.get("/auth/oauth/google/callback", params={"code": params["code"]})
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["loc"] == ["query", "state"]


def test_replayed_callback_and_replayed_code_are_refused(api, provider):
    params = authorize(api, provider, "google", google_account())
    assert api.get("/auth/oauth/google/callback", params=params).status_code == 200
    replay = api.get("/auth/oauth/google/callback", params=params)
    assert replay.status_code == 400
    assert "already used" in replay.json()["error"]["message"]
    # The same code with a fresh state: the provider refuses the spent code.
    fresh = authorize(api, provider, "google", google_account())
    reused_code = api.get("/auth/oauth/google/callback", params={"code": params["code"], "state": fresh["state"]})
    assert reused_code.status_code == 400
    assert "refused the authorization code" in reused_code.json()["error"]["message"]


def test_state_is_bound_to_its_provider_and_expires(api, provider):
    params = authorize(api, provider, "google", google_account())
    wrong = api.get("/auth/oauth/github/callback", params=params)
    assert wrong.status_code == 400 and "issued for google" in wrong.json()["error"]["message"]

    from narraforge.data.base import utcnow
    from narraforge.data.models import OAuthStateItem
    from narraforge.services.oauth import _state_hash

    params = authorize(api, provider, "google", google_account())
    item = OAuthStateItem.get(*OAuthStateItem.key(_state_hash(params["state"])))
    item.update(actions=[OAuthStateItem.expires_at.set(utcnow() - timedelta(seconds=1))])
    expired = api.get("/auth/oauth/google/callback", params=params)
    assert expired.status_code == 400 and "expired" in expired.json()["error"]["message"]


def test_provider_error_is_reported_as_400(api, provider):
    response = api.get("/auth/oauth/google/callback",
                       params={"error": "access_denied", "error_description": "The user said no"})
    assert response.status_code == 400
    assert "The user said no" in response.json()["error"]["message"]


def test_verified_email_links_to_the_existing_password_user(api, provider):
    email = unique_email("linked")
    registered = register(api, email)
    response = sign_in(api, provider, "google", google_account(email.upper()))
    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == registered["user"]["id"]
    login = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200 and login.json()["user"]["id"] == registered["user"]["id"]


def test_unverified_email_is_neither_linked_nor_claimed(api, provider):
    email = unique_email("unverified")
    registered = register(api, email)
    account = google_account(email, verified=False)
    response = sign_in(api, provider, "google", account)
    assert response.status_code == 409
    assert "not verified" in response.json()["error"]["message"]
    # Once the provider has verified it, the same provider account links to the same user.
    account.email_verified = True
    assert sign_in(api, provider, "google", account).json()["user"]["id"] == registered["user"]["id"]

    nobody = sign_in(api, provider, "google", google_account(verified=False))
    assert nobody.status_code == 403


def test_github_reads_the_primary_verified_email(api, provider):
    account = Account(subject="583231", email=unique_email("octo"), name=None, login="octocat")
    response = sign_in(api, provider, "github", account)
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user["email"] == account.email and user["full_name"] == "octocat"
    again = sign_in(api, provider, "github", account)
    assert again.json()["user"]["id"] == user["id"]
    # GitHub refuses a bad code with HTTP 200 and an error field: still the client's 400.
    fresh = authorize(api, provider, "github", account)
    bad = api.get("/auth/oauth/github/callback", params={**fresh, "code": "not-a-code"})
    assert bad.status_code == 400


def test_provider_failures_are_502_not_500(api, provider, monkeypatch):
    params = authorize(api, provider, "google", google_account())
    provider.token_status = 500
    response = api.get("/auth/oauth/google/callback", params=params)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"

    provider.token_status = None
    provider.token_delay = 1.0
    monkeypatch.setenv("OAUTH_HTTP_TIMEOUT_SECONDS", "0.2")
    reset_settings()
    params = authorize(api, provider, "google", google_account())
    slow = api.get("/auth/oauth/google/callback", params=params)
    assert slow.status_code == 502 and "did not answer" in slow.json()["error"]["message"]

    provider.token_delay = 0.0
    monkeypatch.setenv("OAUTH_GOOGLE_USERINFO_URL", f"{provider.url}/nowhere")
    reset_settings()
    params = authorize(api, provider, "google", google_account())
    assert api.get("/auth/oauth/google/callback", params=params).status_code == 502


def test_unconfigured_provider_is_503(api, provider, monkeypatch):
    monkeypatch.delenv("OAUTH_GITHUB_CLIENT_SECRET")
    monkeypatch.setenv("OAUTH_GITHUB_CLIENT_ID", "")
    reset_settings()
    for path in ("/auth/oauth/github", "/auth/oauth/github/callback?code=c&state=s"):
        response = api.get(path)
        assert response.status_code == 503
        error = response.json()["error"]
        assert "not configured" in error["message"]
        assert error["details"]["missing_settings"] == [
            "OAUTH_GITHUB_CLIENT_ID", "OAUTH_GITHUB_CLIENT_SECRET or _CLIENT_SECRET_PARAM"]
    assert api.get("/auth/oauth/google", params={"format": "json"}).status_code == 200


def test_unknown_provider_is_422(api, provider):
    assert api.get("/auth/oauth/myspace").status_code == 422
