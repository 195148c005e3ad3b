"""What a script can rely on when something goes wrong: the exit code names the failure, stderr says it in a
line or two (the problem's detail and field errors), never a traceback; --json gives the problem itself."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from narraforge_cli import main as cli_main
from typer.testing import CliRunner

from narraforge_dev.loopback import serve
from tests.cli.conftest import Cli
from tests.helpers import PASSWORD

pytestmark = pytest.mark.e2e


def test_exit_codes_name_what_failed(cli: Cli):
    not_logged_in = cli("projects", "list")
    assert not_logged_in.returncode == 3 and "Not logged in" in not_logged_in.stderr

    cli.register()
    missing = cli("status", "01M8S536R88TJTTV6NXYYYRPVR")
    assert missing.returncode == 4 and "not found" in missing.stderr.lower() and "[HTTP 404]" in missing.stderr
    assert cli("write", "--subject", "A subject long enough", "--project", "nope").returncode == 4

    invalid = cli("write", "--subject", "too short", "--length", "50")
    assert invalid.returncode == 7, invalid.stderr
    assert "production_brief.subject (--subject): String should have at least 10 characters" in invalid.stderr
    assert "production_brief.target_length (--length):" in invalid.stderr

    as_json = cli("write", "--subject", "too short", "--json")
    problem = json.loads(as_json.stderr)
    assert as_json.returncode == 7 and as_json.stdout == ""
    assert problem["status"] == 422 and [e["loc"][-1] for e in problem["errors"]] == ["subject"]

    assert cli("export", "01M8S536R88TJTTV6NXYYYRPVR", "pdf").returncode == 4
    assert cli("write").returncode == 2  # no subject: a usage error, nothing sent
    assert cli("write", "--length", "many").returncode == 2  # the CLI library's usage error

    unreachable = cli("projects", "list", "--api", "http://127.0.0.1:9")  # after the command works too
    assert unreachable.returncode == 3  # logged in to another API: the token is never sent to this one
    elsewhere = cli("--api", "http://127.0.0.1:9", "login", "--email", "x@example.com", "--password", PASSWORD)
    assert elsewhere.returncode == 1 and "Cannot reach the API at http://127.0.0.1:9" in elsewhere.stderr


def test_plan_limit_is_exit_5(cli: Cli):
    cli.register()
    refused = cli("write", "--subject", "A long saga of the northern isles", "--type", "novella", "--length", "20000")
    assert refused.returncode == 5, refused.stderr
    assert "[HTTP 403]" in refused.stderr and "FREE plan" in refused.stderr  # briefs up to 10,000 words


def test_a_failed_job_is_exit_6_with_its_stage_and_reason(start_stack, tmp_path):
    """A stack whose model server refuses every call (401, not retried): the job fails in its first stage."""
    refusing = FastAPI()

    @refusing.post("/v1/chat/completions")
    def chat() -> JSONResponse:
        return JSONResponse({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                       "code": "invalid_api_key"}}, status_code=401)

    base, stop = serve(refusing)
    try:
        stack = start_stack(env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"{base}/v1"})
        cli = Cli(stack.url, tmp_path)
        cli.register()
        failed = cli("write", "--subject", "A lighthouse keeper finds a map in a bottle", "--type", "short_story",
                     "--genre", "mystery", "--wait")
        assert failed.returncode == 6, failed.stderr
        assert "[ 1/10] brief_interpretation: failed" in failed.stderr
        assert "failed at brief_interpretation" in failed.stderr and "refused the request (401)" in failed.stderr
        assert failed.stdout == ""  # no narrative id for a script to pick up

        as_json = cli("write", "--subject", "A lighthouse keeper finds a map in a bottle", "--type", "short_story",
                      "--genre", "mystery", "--wait", "--json")
        job = json.loads(as_json.stdout)
        assert as_json.returncode == 6 and job["status"] == "FAILED" and job["narrative_id"] is None
    finally:
        stop()


def test_expired_access_token_is_refreshed_once_and_a_dead_session_is_exit_3(cli: Cli):
    cli.register()
    stored = json.loads(cli.config_file.read_text())
    cli.config_file.write_text(json.dumps({**stored, "access_token": "expired"}))
    refreshed = cli("projects", "list", "--json")
    assert refreshed.returncode == 0, refreshed.stderr
    now = json.loads(cli.config_file.read_text())
    assert now["access_token"] not in ("expired", stored["access_token"])
    assert now["refresh_token"] != stored["refresh_token"]  # rotated, and the new one saved
    assert stat.S_IMODE(cli.config_file.stat().st_mode) == 0o600

    cli.config_file.write_text(json.dumps({**now, "access_token": "expired", "refresh_token": "revoked"}))
    dead = cli("usage")
    assert dead.returncode == 3 and "run `narraforge login` again" in dead.stderr


def test_token_file_is_0600_whatever_the_umask_or_an_old_file(cli: Cli):
    cli.config_file.parent.mkdir(parents=True)
    cli.config_file.write_text("{}")
    os.chmod(cli.config_file, 0o644)
    cli.register()
    assert stat.S_IMODE(cli.config_file.stat().st_mode) == 0o600
    email = json.loads(cli.config_file.read_text())["email"]

    cli.config_file.unlink()
    cli.config_file.parent.rmdir()
    login = cli("login", "--email", email, "--password", PASSWORD, shell_prefix="umask 000;")
    assert login.returncode == 0, login.stderr
    assert stat.S_IMODE(cli.config_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.config_file.parent.stat().st_mode) == 0o700
    assert [p.name for p in cli.config_file.parent.iterdir()] == ["config.json"]  # no temporary file left


def test_ctrl_c_while_waiting_leaves_the_job_running(cli: Cli, monkeypatch):
    """In-process, so the interrupt lands while waiting, whatever the job's speed: it says how to follow the job,
    which then completes."""
    cli.register()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "follow", interrupted)
    for name, value in cli.env().items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli_main.app, ["write", "--subject", "A clockmaker hears a clock that counts back",
                                               "--wait"])
    assert result.exit_code == 130
    job_id = result.output.split("narraforge status ")[1].split()[0]
    assert "keeps running" in result.output
    followed = cli("status", job_id, "--wait")
    token = json.loads(cli.config_file.read_text())["access_token"]
    job = httpx.get(f"{cli.url}/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert followed.returncode == 0 and job["status"] == "COMPLETED" and followed.last_line == job["narrative_id"]


def test_the_client_never_imports_the_server_package():
    """The CLI is a client of the public API: installing it must not need the server's code or dependencies."""
    code = ("import sys, narraforge_cli.main, narraforge_cli.progress; "
            "print(sorted(m for m in sys.modules if m == 'narraforge' or m.startswith(('narraforge.', 'boto'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", "")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_help_documents_the_exit_codes(tmp_path):
    shown = Cli("http://127.0.0.1:9", tmp_path)("--help")  # no server needed
    words = " ".join(word for word in shown.stdout.split() if word != "│")  # the help box wraps as it likes
    assert shown.returncode == 0
    for code in ("3 not logged in", "4 not found", "5 plan or rate limit", "6 job failed", "7 invalid input"):
        assert code in words, words
