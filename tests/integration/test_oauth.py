"""OAuth sign-in and linking through the real auth handler, against a fake provider on loopback.

The handler client keeps no cookies: each test carries the browser-binding cookie by hand, as a browser
would (or deliberately does not)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from narraforge.config import reset_settings
from narraforge.security.oauth import BROWSER_COOKIE

from tests.fake_oauth import CLIENT_ID, REDIRECT_BASE, Account, FakeOAuth
from tests.helpers import PASSWORD, error_code, error_detail, error_fields, register, unique_email

SAME_BROWSER = "same"


@dataclass
class Flow:
    """A flow that reached the callback: its query parameters and the cookie of the browser that started it."""

    params: dict[str, str]
    cookie: str


def set_cookie(response) -> SimpleCookie:
    header = response.headers.get("set-cookie")
    assert header, f"no Set-Cookie in {response.headers}"
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(header)
    return cookie


def cookie_header(value: str) -> dict[str, str]:
    return {"cookie": f"{BROWSER_COOKIE}={value}"}


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def authorize(api, fake: FakeOAuth, provider: str, account: Account, token: str | None = None) -> Flow:
    """Starts the flow through the API (a link flow with `token`), then consents at the fake."""
    fake.account = account
    if token is None:
        started = api.get(f"/auth/oauth/{provider}", params={"format": "json"})
    else:
        started = api.as_user(token).post(f"/auth/oauth/{provider}/link", json={"password": PASSWORD})
    assert started.status_code == 200, started.text
    consent = httpx.get(started.json()["authorization_url"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    location = urlsplit(consent.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{REDIRECT_BASE}/auth/oauth/{provider}/callback")
    return Flow({k: v[0] for k, v in parse_qs(location.query).items()}, set_cookie(started)[BROWSER_COOKIE].value)


def finish(api, provider: str, flow: Flow, cookie: str | None = SAME_BROWSER, **params: Any):
    """The callback, from the browser that started the flow unless `cookie` says otherwise (None: no cookie)."""
    value = flow.cookie if cookie == SAME_BROWSER else cookie
    return api.get(f"/auth/oauth/{provider}/callback", params={**flow.params, **params},
                   headers=cookie_header(value) if value is not None else None)


def sign_in(api, fake: FakeOAuth, provider: str, account: Account, token: str | None = None):
    return finish(api, provider, authorize(api, fake, provider, account, token))


def assert_binding_cookie(cookie: SimpleCookie, max_age: int) -> None:
    morsel = cookie[BROWSER_COOKIE]
    assert morsel["httponly"] is True and morsel["secure"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert morsel["max-age"] == str(max_age)


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
    assert_binding_cookie(set_cookie(response), max_age=600)
    second = api.get("/auth/oauth/google")
    again = parse_qs(urlsplit(second.headers["location"]).query)
    assert again["state"][0] != query["state"] and again["code_challenge"][0] != query["code_challenge"]
    assert set_cookie(second)[BROWSER_COOKIE].value != set_cookie(response)[BROWSER_COOKIE].value


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
    assert error_detail(login.json()) == "Invalid email or password"


def test_unknown_or_forged_state_is_refused(api, provider):
    flow = authorize(api, provider, "google", google_account())
    response = finish(api, "google", flow, state="forged-state")
    assert response.status_code == 400
    assert "state" in error_detail(response.json())
    missing = api.get("/auth/oauth/google/callback", params={"code": flow.params["code"]},
                      headers=cookie_header(flow.cookie))
    assert missing.status_code == 422
    assert error_fields(missing.json())[0]["loc"] == ["query", "state"]


def test_replayed_callback_and_replayed_code_are_refused(api, provider):
    flow = authorize(api, provider, "google", google_account())
    assert finish(api, "google", flow).status_code == 200
    replay = finish(api, "google", flow)
    assert replay.status_code == 400
    assert "already used" in error_detail(replay.json())
    # The same code with a fresh state (from its own browser): the provider refuses the spent code.
    fresh = authorize(api, provider, "google", google_account())
    reused_code = finish(api, "google", fresh, code=flow.params["code"])
    assert reused_code.status_code == 400
    assert "refused the authorization code" in error_detail(reused_code.json())


def test_state_is_bound_to_its_provider_and_expires(api, provider):
    flow = authorize(api, provider, "google", google_account())
    wrong = finish(api, "github", flow)
    assert wrong.status_code == 400 and "issued for google" in error_detail(wrong.json())

    from narraforge.data.base import utcnow
    from narraforge.data.models import OAuthStateItem

    flow = authorize(api, provider, "google", google_account())
    item = OAuthStateItem.get(*OAuthStateItem.key(sha256(flow.params["state"])))
    item.update(actions=[OAuthStateItem.expires_at.set(utcnow() - timedelta(seconds=1))])
    expired = finish(api, "google", flow)
    assert expired.status_code == 400 and "expired" in error_detail(expired.json())


def test_provider_error_is_reported_as_400(api, provider):
    response = api.get("/auth/oauth/google/callback",
                       params={"error": "access_denied", "error_description": "The user said no"})
    assert response.status_code == 400
    assert "The user said no" in error_detail(response.json())
    assert_binding_cookie(set_cookie(response), max_age=0)


# --- The browser binding (RFC 9700 §4.7) ---------------------------------------------------------------------


def test_callback_without_the_cookie_is_refused_and_leaves_the_flow_to_its_browser(api, provider):
    """A leaked callback URL signs nobody in, and does not spend the state of the browser that started it."""
    account = google_account()
    flow = authorize(api, provider, "google", account)
    stolen = finish(api, "google", flow, cookie=None)
    assert stolen.status_code == 400, stolen.text
    assert "started in another browser" in error_detail(stolen.json())
    assert "access_token" not in stolen.json()
    assert_binding_cookie(set_cookie(stolen), max_age=0)  # cleared on failure too
    owner = finish(api, "google", flow)
    assert owner.status_code == 200, owner.text
    assert owner.json()["user"]["email"] == account.email


def test_callback_with_another_browsers_cookie_is_refused(api, provider):
    victim = authorize(api, provider, "google", google_account())
    attacker = authorize(api, provider, "google", google_account())
    # Login CSRF: the attacker's callback URL opened in the victim's browser (which holds its own cookie).
    planted = finish(api, "google", attacker, cookie=victim.cookie)
    assert planted.status_code == 400
    assert "started in another browser" in error_detail(planted.json())
    assert finish(api, "google", attacker, cookie="forged").status_code == 400
    assert finish(api, "google", victim).status_code == 200


def test_binding_cookie_is_set_on_every_start_stored_hashed_and_cleared_on_success(api, provider, monkeypatch):
    from narraforge.data.models import OAuthStateItem

    monkeypatch.setenv("OAUTH_STATE_TTL_SECONDS", "300")
    reset_settings()
    token = register(api)["access_token"]
    for started in (api.get("/auth/oauth/google"), api.get("/auth/oauth/google", params={"format": "json"}),
                    api.as_user(token).post("/auth/oauth/google/link", json={"password": PASSWORD})):
        assert started.status_code in (200, 307), started.text
        assert_binding_cookie(set_cookie(started), max_age=300)

    flow = authorize(api, provider, "google", google_account())
    stored = OAuthStateItem.get(*OAuthStateItem.key(sha256(flow.params["state"])))
    assert stored.browser_hash == sha256(flow.cookie)
    assert flow.cookie not in repr(stored.serialize())
    done = finish(api, "google", flow)
    assert done.status_code == 200
    cleared = set_cookie(done)
    assert_binding_cookie(cleared, max_age=0)
    assert cleared[BROWSER_COOKIE].value in ("", '""')


# --- Linking: an account with a password is never linked by email -------------------------------------------


def test_verified_email_of_a_password_account_is_not_linked(api, provider):
    """The takeover: a squatter registers the victim's address; the victim's verified Google sign-in must
    neither land in nor link to the squatter's account."""
    email = unique_email("victim")
    squatter = register(api, email)
    owner = google_account(email.upper())
    response = sign_in(api, provider, "google", owner)
    assert response.status_code == 409, response.text
    body = response.json()
    assert error_code(body) == "conflict" and "access_token" not in body
    message = error_detail(body)
    assert "sign in with your password" in message and "POST /auth/oauth/google/link" in message
    assert "contact support" in message
    # Nothing was linked: the same Google account is refused again, and the password still opens only the
    # squatter's own account.
    assert sign_in(api, provider, "google", owner).status_code == 409
    login = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200 and login.json()["user"]["id"] == squatter["user"]["id"]


def test_owner_links_google_from_a_password_session(api, provider):
    email = unique_email("owner")
    registered = register(api, email)
    login = api.post("/auth/login", json={"email": email, "password": PASSWORD}).json()
    google = google_account(email)
    linked = sign_in(api, provider, "google", google, token=login["access_token"])
    assert linked.status_code == 200, linked.text
    assert linked.json()["user"]["id"] == registered["user"]["id"]
    assert api.as_user(linked.json()["access_token"]).get("/auth/me").json()["id"] == registered["user"]["id"]
    # From now on a plain Google sign-in lands in that account, and linking again changes nothing.
    plain = sign_in(api, provider, "google", google)
    assert plain.status_code == 200 and plain.json()["user"]["id"] == registered["user"]["id"]
    again = sign_in(api, provider, "google", google, token=login["access_token"])
    assert again.status_code == 200 and again.json()["user"]["id"] == registered["user"]["id"]
    # The password keeps working for its owner.
    relogin = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert relogin.status_code == 200 and relogin.json()["user"]["id"] == registered["user"]["id"]


def test_explicit_link_does_not_need_the_accounts_email(api, provider):
    registered = register(api, unique_email("writer"))
    github = Account(subject="424242", email=unique_email("elsewhere"), login="writer")
    linked = sign_in(api, provider, "github", github, token=registered["access_token"])
    assert linked.status_code == 200, linked.text
    assert linked.json()["user"]["id"] == registered["user"]["id"]
    assert linked.json()["user"]["email"] == registered["user"]["email"]
    assert sign_in(api, provider, "github", github).json()["user"]["id"] == registered["user"]["id"]


def test_linking_an_identity_of_another_user_is_409(api, provider):
    google = google_account()
    first = sign_in(api, provider, "google", google)
    assert first.status_code == 200
    other = register(api)
    stolen = sign_in(api, provider, "google", google, token=other["access_token"])
    assert stolen.status_code == 409
    assert "already linked to another" in error_detail(stolen.json())
    assert sign_in(api, provider, "google", google).json()["user"]["id"] == first.json()["user"]["id"]


def test_link_requires_a_signed_in_user(api, provider):
    anonymous = api.post("/auth/oauth/google/link")
    assert anonymous.status_code == 401
    assert "set-cookie" not in anonymous.headers
    assert api.as_user("not-a-token").post("/auth/oauth/google/link").status_code == 401


def test_link_from_a_password_account_asks_for_the_password(api, provider, monkeypatch):
    """An access token alone (stolen, say) cannot attach a provider account: the password is asked again,
    and guessing it is rate-limited like a login."""
    from narraforge.config import reset_settings
    from narraforge.data.models import OAuthStateItem

    writer = api.as_user(register(api)["access_token"])
    for body in (None, {}, {"password": "wrong-password-guess"}):
        refused = writer.post("/auth/oauth/google/link", json=body)
        assert refused.status_code == 401, refused.text
        assert error_detail(refused.json()) == "Password is incorrect"
        assert "set-cookie" not in refused.headers
    assert not list(OAuthStateItem.scan())  # no flow was started
    monkeypatch.setenv("RATE_LIMIT_AUTH_PER_MINUTE", "4")
    reset_settings()
    codes = [writer.post("/auth/oauth/google/link", json={"password": "another-wrong-guess"}).status_code
             for _ in range(6)]  # enough to fill a window even if a new minute starts in between
    assert 429 in codes, codes


def test_account_without_password_links_by_verified_email(api, provider):
    """Nobody can squat an account without a password (only a provider that verified the email creates
    one), so a second provider with the same verified email joins it."""
    email = unique_email("twoproviders")
    github = sign_in(api, provider, "github", Account(subject="777001", email=email, login="two"))
    assert github.status_code == 200
    google = sign_in(api, provider, "google", google_account(email))
    assert google.status_code == 200, google.text
    assert google.json()["user"]["id"] == github.json()["user"]["id"]


def test_unverified_email_is_neither_linked_nor_claimed(api, provider):
    email = unique_email("unverified")
    first = sign_in(api, provider, "github", Account(subject="777002", email=email, login="unv"))
    account = google_account(email, verified=False)
    response = sign_in(api, provider, "google", account)
    assert response.status_code == 409
    assert "not verified" in error_detail(response.json())
    # Once the provider has verified it, the same provider account links to the same user.
    account.email_verified = True
    assert sign_in(api, provider, "google", account).json()["user"]["id"] == first.json()["user"]["id"]

    nobody = sign_in(api, provider, "google", google_account(verified=False))
    assert nobody.status_code == 403
    # A password account with that email: verified or not, the way in is to link from the account.
    registered_email = unique_email("pw")
    register(api, registered_email)
    squat = sign_in(api, provider, "google", google_account(registered_email, verified=False))
    assert squat.status_code == 409 and "sign in with your password" in error_detail(squat.json())


def test_github_reads_the_primary_verified_email(api, provider):
    account = Account(subject="583231", email=unique_email("octo"), name=None, login="octocat")
    response = sign_in(api, provider, "github", account)
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user["email"] == account.email and user["full_name"] == "octocat"
    again = sign_in(api, provider, "github", account)
    assert again.json()["user"]["id"] == user["id"]
    # GitHub refuses a bad code with HTTP 200 and an error field: still the client's 400.
    bad = finish(api, "github", authorize(api, provider, "github", account), code="not-a-code")
    assert bad.status_code == 400


def test_provider_failures_are_502_not_500(api, provider, monkeypatch):
    flow = authorize(api, provider, "google", google_account())
    provider.token_status = 500
    response = finish(api, "google", flow)
    assert response.status_code == 502
    assert error_code(response.json()) == "bad_gateway"

    provider.token_status = None
    provider.token_delay = 1.0
    monkeypatch.setenv("OAUTH_HTTP_TIMEOUT_SECONDS", "0.2")
    reset_settings()
    slow = finish(api, "google", authorize(api, provider, "google", google_account()))
    assert slow.status_code == 502 and "did not answer" in error_detail(slow.json())

    provider.token_delay = 0.0
    monkeypatch.setenv("OAUTH_GOOGLE_USERINFO_URL", f"{provider.url}/nowhere")
    reset_settings()
    assert finish(api, "google", authorize(api, provider, "google", google_account())).status_code == 502


def test_unconfigured_provider_is_503(api, provider, monkeypatch):
    monkeypatch.delenv("OAUTH_GITHUB_CLIENT_SECRET")
    monkeypatch.setenv("OAUTH_GITHUB_CLIENT_ID", "")
    reset_settings()
    for path in ("/auth/oauth/github", "/auth/oauth/github/callback?code=c&state=s"):
        response = api.get(path)
        assert response.status_code == 503
        body = response.json()
        assert "not configured" in error_detail(body)
        assert body["missing_settings"] == [
            "OAUTH_GITHUB_CLIENT_ID", "OAUTH_GITHUB_CLIENT_SECRET or _CLIENT_SECRET_PARAM"]
    assert api.get("/auth/oauth/google", params={"format": "json"}).status_code == 200
    token = register(api)["access_token"]
    assert api.as_user(token).post("/auth/oauth/github/link", json={"password": PASSWORD}).status_code == 503


def test_unknown_provider_is_422(api, provider):
    assert api.get("/auth/oauth/myspace").status_code == 422
