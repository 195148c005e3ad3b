"""The HTTP side: a thin httpx client that signs requests, refreshes an expired session once, and turns the API's
RFC 9457 problem details into `CliError`s that carry the exit code."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import httpx

from narraforge_cli import config as config_store


class ExitCode(IntEnum):
    """What a script can branch on; documented in `narraforge --help` and the README."""

    OK = 0
    ERROR = 1
    USAGE = 2
    AUTH = 3
    NOT_FOUND = 4
    LIMITS = 5
    JOB_FAILED = 6
    VALIDATION = 7


EXIT_BY_STATUS = {401: ExitCode.AUTH, 404: ExitCode.NOT_FOUND, 403: ExitCode.LIMITS, 429: ExitCode.LIMITS,
                  422: ExitCode.VALIDATION}


@dataclass
class CliError(Exception):
    """A failure to report in one or two lines (never a traceback) and the exit code that names it."""

    message: str
    exit_code: ExitCode = ExitCode.ERROR
    problem: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def field_errors(self, flags: dict[str, str] | None = None) -> list[str]:
        """`loc: msg` for each field error of a 422 (the `errors` extension of the problem), naming the flag that
        sets the field when there is one."""
        lines = []
        for error in self.problem.get("errors") or []:
            loc = [str(part) for part in error.get("loc") or [] if part not in ("body", "query", "path")]
            flag = (flags or {}).get(loc[-1]) if loc else None
            lines.append(f"{'.'.join(loc) or 'request'}{f' ({flag})' if flag else ''}: {error.get('msg', '')}")
        return lines

    def as_json(self) -> dict[str, Any]:
        return self.problem or {"detail": self.message, "exit_code": int(self.exit_code)}


def problem_error(response: httpx.Response) -> CliError:
    """Reads a problem details body (or anything else the server or a proxy answered) into a `CliError`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    problem = body if isinstance(body, dict) else {}
    detail = problem.get("detail") or problem.get("title") or response.reason_phrase or "request failed"
    if response.status_code == 429 and problem.get("retry_after_seconds") is not None:
        detail = f"{detail} (retry in {problem['retry_after_seconds']} s)"
    if response.status_code == 403 and problem.get("resets_at"):
        detail = f"{detail} (resets {problem['resets_at']})"
    exit_code = EXIT_BY_STATUS.get(response.status_code, ExitCode.ERROR)
    return CliError(f"{detail} [HTTP {response.status_code}]", exit_code, problem)


class Api:
    """One session against one API base URL; the tokens live in the config file between commands."""

    def __init__(self, base_url: str, config: config_store.Config, timeout: float = 60.0) -> None:
        self.base_url = base_url
        self.config = config
        self.http = httpx.Client(base_url=base_url, timeout=timeout, headers={"User-Agent": "narraforge-cli"})

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        """Sends a request; on 401 refreshes the session once and sends it again; raises `CliError` for 4xx/5xx."""
        if auth and not self.config.access_token:
            raise CliError("Not logged in: run `narraforge login` (or `narraforge register`)", ExitCode.AUTH)
        if auth and self.config.api and self.config.api.rstrip("/") != self.base_url:
            raise CliError(f"Logged in to {self.config.api}, not {self.base_url}: run `narraforge login` against "
                           "this API (the stored token is never sent to another server)", ExitCode.AUTH)
        response = self._send(method, path, auth, kwargs)
        if response.status_code == 401 and auth and self._refresh():
            response = self._send(method, path, auth, kwargs)
        if response.status_code == 401 and auth:
            error = problem_error(response)
            error.message += "; run `narraforge login` again"
            raise error
        if response.status_code >= 400:
            raise problem_error(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    def generation(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A request that starts a job: one Idempotency-Key per command, so the retry after a refresh (or a user
        re-running a command that timed out) can never start a second, billed generation."""
        return self.json(method, path, json=body, headers={"Idempotency-Key": f"cli-{uuid.uuid4()}"})

    def _send(self, method: str, path: str, auth: bool, kwargs: dict[str, Any]) -> httpx.Response:
        headers = dict(kwargs.get("headers") or {})
        if auth and self.config.access_token:
            headers["Authorization"] = f"Bearer {self.config.access_token}"
        try:
            return self.http.request(method, path, **{**kwargs, "headers": headers})
        except httpx.TimeoutException as exc:
            raise CliError(f"The API at {self.base_url} did not answer in time ({exc.__class__.__name__})") from exc
        except httpx.TransportError as exc:
            raise CliError(f"Cannot reach the API at {self.base_url}: {exc}. Is it running (`make run`)? "
                           "Set it with --api or NARRAFORGE_API.") from exc

    def _refresh(self) -> bool:
        """Rotates the refresh token (the server revokes the login if an old one is replayed) and saves both."""
        if not self.config.refresh_token:
            return False
        response = self._send("POST", "/auth/refresh", False, {"json": {"refresh_token": self.config.refresh_token}})
        if response.status_code != 200:
            return False
        self.remember(response.json())
        return True

    def remember(self, auth_response: dict[str, Any]) -> None:
        """Stores a login (`AuthResponse`) for the next commands, with the API it belongs to."""
        self.config.api = self.base_url
        self.config.access_token = auth_response["access_token"]
        self.config.refresh_token = auth_response["refresh_token"]
        self.config.email = (auth_response.get("user") or {}).get("email", self.config.email)
        config_store.save(self.config)
