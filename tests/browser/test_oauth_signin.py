"""Sign-in with Google in Chromium, against a fake provider on loopback: the sign-in page offers only the
configured provider, its button goes through the provider's consent (the fake redirects straight back) to the
Studio's callback page (OAUTH_CALLBACK_URL), which finishes the flow with the browser's own binding cookie and
lands on the library signed in."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import CHROMIUM, WEB_DIST, assert_accessible, new_context
from tests.e2e.conftest import free_port, launch, wait_until_up
from tests.fake_oauth import Account, FakeOAuth
from tests.helpers import unique_email


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOAuth]:
    server = FakeOAuth()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def oauth_studio(fake: FakeOAuth, tmp_path_factory) -> Iterator[str]:
    """A stack with Google pointed at the fake and the Studio's callback page as the redirect URI (no
    OAUTH_REDIRECT_BASE_URL: the callback URL alone configures the redirect)."""
    for needed in (WEB_DIST / "index.html", CHROMIUM):
        if not needed.is_file():
            pytest.fail(f"{needed} is missing: run `make web` and `make chromium` (make test does both)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stack = wait_until_up(launch(tmp_path_factory.mktemp("oauth-studio"), port=port, name="oauth-studio", env={
        "OAUTH_CALLBACK_URL": f"{url}/signin/callback/{{provider}}", **fake.env("google")}))
    yield url
    stack.stop()


@pytest.fixture
def oauth_page(browser: Browser, oauth_studio: str) -> Iterator[Page]:
    context = new_context(browser, oauth_studio, viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def test_the_callback_page_is_served_by_the_app(oauth_studio: str):
    page = httpx.get(f"{oauth_studio}/signin/callback/google?code=c&state=s", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html") and '<div id="root">' in page.text


def test_continue_with_google_signs_in_and_lands_on_the_library(oauth_page: Page, fake: FakeOAuth,
                                                                oauth_studio: str):
    fake.reset()
    fake.account = Account(subject="g-browser", email=unique_email("oauth-browser"), name="Olga Tokarczuk")
    page = oauth_page
    page.goto("/signin")
    google = page.get_by_role("button", name="Continue with Google")
    expect(google).to_be_visible()
    expect(page.get_by_role("button", name="Continue with GitHub")).to_have_count(0)  # not configured
    assert_accessible(page, "sign in with providers")

    google.click()
    expect(page).to_have_url(re.compile(r"/library$"))
    expect(page.get_by_role("heading", name="Library", level=1)).to_be_visible()
    # The exchange used the Studio's page as the redirect URI, as the authorization request did.
    assert fake.token_requests[-1]["redirect_uri"] == f"{oauth_studio}/signin/callback/google"
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_text(fake.account.email, exact=True)).to_be_visible()


def test_a_callback_from_another_browser_shows_the_apis_reason(oauth_page: Page, fake: FakeOAuth,
                                                               oauth_studio: str):
    """A callback URL opened without the cookie of the browser that started the flow signs nobody in."""
    fake.reset()
    fake.account = Account(subject="g-other", email=unique_email("oauth-other"))
    started = httpx.get(f"{oauth_studio}/v1/auth/oauth/google", params={"format": "json"})  # another "browser"
    consent = httpx.get(started.json()["authorization_url"], follow_redirects=False)
    oauth_page.goto(consent.headers["location"])
    expect(oauth_page.get_by_role("alert")).to_contain_text("started in another browser")
    expect(oauth_page.get_by_role("link", name="Back to sign in")).to_be_visible()
