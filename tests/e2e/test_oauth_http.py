"""OAuth over HTTP on the local stack (`make run`'s code), under the /v1 stage prefix as in the cloud, with a
fake provider: the browser-binding cookie survives the Lambda proxy response as a real Set-Cookie header, a
callback without it is refused, and a password account links a provider only from a signed-in session."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import httpx
import pytest
from narraforge.security.oauth import BROWSER_COOKIE

from tests.e2e.accounts import bearer
from tests.e2e.conftest import free_port
from tests.fake_oauth import Account, FakeOAuth
from tests.helpers import PASSWORD, error_detail, unique_email

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOAuth]:
    server = FakeOAuth()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(start_stack, fake: FakeOAuth) -> httpx.Client:
    """A stack whose Google sign-in points at the fake and whose redirect URI carries the stage, as in the cloud."""
    port = free_port()
    started = start_stack(port=port, env={"OAUTH_REDIRECT_BASE_URL": f"http://127.0.0.1:{port}/v1",
                                          **fake.env("google")})
    with httpx.Client(base_url=f"{started.url}/v1", timeout=30) as client:
        yield client


def binding_cookie(response: httpx.Response) -> SimpleCookie:
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, response.headers
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(headers[0])
    morsel = cookie[BROWSER_COOKIE]
    assert morsel["httponly"] is True and morsel["secure"] is True
    assert morsel["samesite"].lower() == "lax" and morsel["path"] == "/"
    return cookie


def consent(fake: FakeOAuth, authorization_url: str, account: Account) -> str:
    """The fake provider's redirect back to the API: the callback URL with code and state."""
    fake.account = account
    answer = httpx.get(authorization_url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def callback(client: httpx.Client, location: str, cookie: str | None) -> httpx.Response:
    """Follows the provider's redirect as a browser would; httpx keeps no Secure cookie over plain http, so
    the Cookie header is sent by hand."""
    url = urlsplit(location)
    assert url.path.startswith("/v1/auth/oauth/google/callback")
    headers = {"cookie": f"{BROWSER_COOKIE}={cookie}"} if cookie else {}
    return client.get(f"{url.path.removeprefix('/v1')}?{url.query}", headers=headers)


def test_oauth_flow_is_bound_to_its_browser_and_never_takes_over_a_password_account(stack, fake):
    client = stack
    # Someone registers the address with a password: its owner or a squatter, the server cannot tell which.
    email = unique_email("owner")
    registered = client.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    owner_google = Account(subject="g-owner-http", email=email)

    started = client.get("/auth/oauth/google", follow_redirects=False)
    assert started.status_code == 307
    cookie = binding_cookie(started)[BROWSER_COOKIE]
    assert cookie["max-age"] == "600"
    location = consent(fake, started.headers["location"], owner_google)

    leaked = callback(client, location, cookie=None)
    assert leaked.status_code == 400, leaked.text
    assert "started in another browser" in error_detail(leaked.json())
    assert binding_cookie(leaked)[BROWSER_COOKIE]["max-age"] == "0"

    # The browser that started it gets past the binding (the state was not spent) and meets the linking rule.
    takeover = callback(client, location, cookie=cookie.value)
    assert takeover.status_code == 409, takeover.text
    assert "POST /auth/oauth/google/link" in error_detail(takeover.json())
    assert "access_token" not in takeover.json()

    # Whoever knows the password proves the account with it, and only then links Google.
    login = client.post("/auth/login", json={"email": email, "password": PASSWORD}).json()
    assert client.post("/auth/oauth/google/link", headers=bearer(login["access_token"])).status_code == 401
    link = client.post("/auth/oauth/google/link", headers=bearer(login["access_token"]), json={"password": PASSWORD})
    assert link.status_code == 200, link.text
    linked = callback(client, consent(fake, link.json()["authorization_url"], owner_google),
                      cookie=binding_cookie(link)[BROWSER_COOKIE].value)
    assert linked.status_code == 200, linked.text
    assert linked.json()["user"]["id"] == registered.json()["user"]["id"]
    assert binding_cookie(linked)[BROWSER_COOKIE]["max-age"] == "0"

    again = client.get("/auth/oauth/google", params={"format": "json"})
    signed_in = callback(client, consent(fake, again.json()["authorization_url"], owner_google),
                         cookie=binding_cookie(again)[BROWSER_COOKIE].value)
    assert signed_in.status_code == 200 and signed_in.json()["user"]["id"] == registered.json()["user"]["id"]
    assert client.post("/auth/oauth/google/link").status_code == 401
