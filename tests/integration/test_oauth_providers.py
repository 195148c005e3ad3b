"""What the Studio needs from OAuth: the list of configured providers (its sign-in buttons) and a redirect URI
that is the Studio's own callback page (OAUTH_CALLBACK_URL), used both to authorize and to exchange the code."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import httpx
from narraforge.config import reset_settings
from narraforge.security.oauth import BROWSER_COOKIE

from tests.fake_oauth import Account
from tests.helpers import unique_email

STUDIO_CALLBACK = "https://studio.example.test/signin/callback/{provider}"


def listed(api) -> list[dict[str, str]]:
    response = api.get("/auth/oauth/providers")
    assert response.status_code == 200, response.text
    assert "set-cookie" not in response.headers  # nothing started: no browser binding handed out
    return response.json()["providers"]


def test_providers_lists_only_the_configured_ones(api, provider, monkeypatch):
    assert listed(api) == [{"id": "google", "name": "Google"}, {"id": "github", "name": "GitHub"}]

    monkeypatch.setenv("OAUTH_GITHUB_CLIENT_ID", "")
    reset_settings()
    assert listed(api) == [{"id": "google", "name": "Google"}]

    monkeypatch.delenv("OAUTH_REDIRECT_BASE_URL")
    reset_settings()
    assert listed(api) == []
    # A callback URL alone is enough to redirect back, so Google is offered again.
    monkeypatch.setenv("OAUTH_CALLBACK_URL", STUDIO_CALLBACK)
    reset_settings()
    assert listed(api) == [{"id": "google", "name": "Google"}]


def test_providers_without_any_configuration_is_an_empty_list(api, monkeypatch):
    for name in ("REDIRECT_BASE_URL", "CALLBACK_URL", "GOOGLE_CLIENT_ID", "GITHUB_CLIENT_ID"):
        monkeypatch.delenv(f"OAUTH_{name}", raising=False)
    reset_settings()
    try:
        assert listed(api) == []
    finally:
        reset_settings()


def test_callback_url_is_the_redirect_uri_of_the_authorization_and_the_exchange(api, provider, monkeypatch):
    monkeypatch.setenv("OAUTH_CALLBACK_URL", STUDIO_CALLBACK)
    reset_settings()
    studio_page = "https://studio.example.test/signin/callback/github"
    started = api.get("/auth/oauth/github", params={"format": "json"})
    assert started.status_code == 200, started.text
    query = parse_qs(urlsplit(started.json()["authorization_url"]).query)
    assert query["redirect_uri"] == [studio_page]

    # The provider sends the browser to the Studio's page, which calls the API's callback with code and state.
    provider.account = Account(subject="4242", email=unique_email("studio"), login="studio")
    consent = httpx.get(started.json()["authorization_url"], follow_redirects=False)
    location = urlsplit(consent.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == studio_page
    params = {key: values[0] for key, values in parse_qs(location.query).items()}
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(started.headers["set-cookie"])
    signed_in = api.get("/auth/oauth/github/callback", params=params,
                        headers={"cookie": f"{BROWSER_COOKIE}={cookie[BROWSER_COOKIE].value}"})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["email"] == provider.account.email
    assert provider.token_requests[-1]["redirect_uri"] == studio_page


def test_callback_url_without_a_provider_placeholder_is_not_a_configuration(api, provider, monkeypatch):
    monkeypatch.setenv("OAUTH_CALLBACK_URL", "https://studio.example.test/signin/callback")
    reset_settings()
    assert listed(api) == []
    response = api.get("/auth/oauth/google")
    assert response.status_code == 503
    assert response.json()["missing_settings"] == ["OAUTH_REDIRECT_BASE_URL or OAUTH_CALLBACK_URL (with {provider})"]
