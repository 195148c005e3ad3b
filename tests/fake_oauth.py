"""A fake OAuth provider on loopback, speaking both Google's and GitHub's dialects.

`/authorize` plays the user consenting as `account` and redirects with a single-use code bound to the
client, the redirect URI and the PKCE challenge; `/token` checks all three (and the client secret)
before handing out an access token; `/userinfo` (Google), `/user` and `/user/emails` (GitHub) describe
the account. Token-endpoint faults can be scripted (an HTTP status, or a delay longer than a timeout)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from narraforge_dev.loopback import serve

CLIENT_ID = "fake-client-id"
REDIRECT_BASE = "https://api.example.test/v1"  # the API's public base the tests register
CLIENT_SECRET = "fake-client-secret"


@dataclass
class Account:
    subject: str
    email: str | None
    email_verified: bool = True
    name: str | None = "Olga Tokarczuk"
    login: str = "olga"


@dataclass
class Grant:
    account: Account
    redirect_uri: str
    challenge: str
    used: bool = False


@dataclass
class FakeOAuth:
    account: Account | None = None
    token_status: int | None = None  # answer /token with this status instead
    token_delay: float = 0.0
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, Account] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def reset(self) -> None:
        with self.lock:
            self.account, self.token_status, self.token_delay = None, None, 0.0
            self.grants.clear()
            self.tokens.clear()
            self.token_requests.clear()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/authorize")
        def authorize(request: Request) -> Any:
            query = request.query_params
            if (query.get("client_id") != CLIENT_ID or query.get("response_type") != "code"
                    or query.get("code_challenge_method") != "S256" or not query.get("code_challenge")
                    or self.account is None):
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            code = secrets.token_urlsafe(16)
            with self.lock:
                self.grants[code] = Grant(self.account, query["redirect_uri"], query["code_challenge"])
            return RedirectResponse(f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}",
                                    status_code=302)

        @app.post("/{dialect}/token")
        async def token(dialect: str, request: Request) -> JSONResponse:
            form = dict(parse_qsl((await request.body()).decode()))
            with self.lock:
                self.token_requests.append(form)
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            if self.token_status:
                return JSONResponse({"error": "server_error"}, status_code=self.token_status)
            refused = ({"error": "bad_verification_code"}, 200) if dialect == "github" else (
                {"error": "invalid_grant"}, 400)
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            with self.lock:
                grant = self.grants.get(form.get("code", ""))
                if (grant is None or grant.used or form.get("grant_type") != "authorization_code"
                        or form.get("redirect_uri") != grant.redirect_uri
                        or _challenge(form.get("code_verifier", "")) != grant.challenge):
                    return JSONResponse(refused[0], status_code=refused[1])
                grant.used = True
                access_token = secrets.token_urlsafe(16)
                self.tokens[access_token] = grant.account
            return JSONResponse({"access_token": access_token, "token_type": "bearer", "scope": "email"})

        @app.get("/google/userinfo")
        def userinfo(request: Request) -> JSONResponse:
            account = self._bearer(request)
            if account is None:
                return JSONResponse({"error": "invalid_token"}, status_code=401)
            return JSONResponse({"sub": account.subject, "email": account.email,
                                 "email_verified": account.email_verified, "name": account.name})

        @app.get("/github/user")
        def github_user(request: Request) -> JSONResponse:
            account = self._bearer(request)
            if account is None:
                return JSONResponse({"message": "Bad credentials"}, status_code=401)
            return JSONResponse({"id": int(account.subject), "login": account.login, "name": account.name,
                                 "email": None})

        @app.get("/github/user/emails")
        def github_emails(request: Request) -> JSONResponse:
            account = self._bearer(request)
            if account is None:
                return JSONResponse({"message": "Bad credentials"}, status_code=401)
            emails = [{"email": f"{account.login}@users.noreply.github.com", "primary": False, "verified": True}]
            if account.email:
                emails.append({"email": account.email, "primary": True, "verified": account.email_verified})
            return JSONResponse(emails)

        return app

    def _bearer(self, request: Request) -> Account | None:
        header = request.headers.get("authorization", "")
        with self.lock:
            return self.tokens.get(header.removeprefix("Bearer "))

    def env(self, provider: str) -> dict[str, str]:
        """The settings that point one provider of the service at this fake."""
        prefix = f"OAUTH_{provider.upper()}_"
        values = {
            prefix + "CLIENT_ID": CLIENT_ID,
            prefix + "CLIENT_SECRET": CLIENT_SECRET,
            prefix + "AUTHORIZE_URL": f"{self.url}/authorize",
            prefix + "TOKEN_URL": f"{self.url}/{provider}/token",
        }
        if provider == "google":
            values[prefix + "USERINFO_URL"] = f"{self.url}/google/userinfo"
        else:
            values[prefix + "USERINFO_URL"] = f"{self.url}/github/user"
            values[prefix + "EMAILS_URL"] = f"{self.url}/github/user/emails"
        return values

    def start(self) -> None:
        base, self.stop = serve(self.app())
        self.url = base + ""


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
