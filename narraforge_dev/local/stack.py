"""Starts the local stack in one process: moto server, resources from template.yaml, the API emulator."""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from narraforge_dev.local.template import REPO_ROOT

STATE_FILE = Path(os.environ.get("NARRAFORGE_LOCAL_STATE", REPO_ROOT / ".local" / "stack.json"))

LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TABLE_NAME": "narraforge-local",
    "BUCKET_NAME": "narraforge-local",
    "NARRAFORGE_ENV": "local",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "NarraForge",
    "POWERTOOLS_SERVICE_NAME": "narraforge",
    # Browser frontends in development (Vite, Next, ...) on any port; CORS_ORIGINS replaces this list.
    "CORS_ORIGINS": "http://localhost:*,http://127.0.0.1:*",
}


@dataclass
class MotoEndpoint:
    url: str
    port: int
    stop: Callable[[], None]


def configure_environment(moto_url: str | None) -> None:
    """Point every AWS client of this process at moto (botocore honours AWS_ENDPOINT_URL)."""
    for name, value in LOCAL_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("JWT_SECRET", secrets.token_urlsafe(32))
    os.environ.setdefault("POWERTOOLS_DEV", "false")
    if moto_url:
        os.environ["AWS_ENDPOINT_URL"] = moto_url
        os.environ["MOTO_PORT"] = moto_url.rsplit(":", 1)[1]
    from narraforge.config import reset_settings
    from narraforge.data.aws import reset_clients
    from narraforge.data.base import reset_connection

    reset_settings()
    reset_clients()
    reset_connection()


def start_moto(port: int = 0) -> MotoEndpoint:
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    default_user_config.setdefault("lambda", {})["use_docker"] = False
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return MotoEndpoint(url=f"http://{host}:{bound}", port=bound, stop=server.stop)


def write_state(api_url: str, moto_url: str) -> bool:
    """Lets `make invoke` and the admin tool reach the running stack (same moto, same signing key). Never
    replaces the state of another live stack (one started with its own NARRAFORGE_LOCAL_DATA): False then."""
    other = read_state()
    if other and int(other["pid"]) != os.getpid():
        return False
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.touch(mode=0o600)  # it holds the signing key: never readable by others, not even briefly
    STATE_FILE.chmod(0o600)
    STATE_FILE.write_text(json.dumps({
        "api_url": api_url,
        "moto_url": moto_url,
        "jwt_secret": os.environ["JWT_SECRET"],
        "pid": os.getpid(),
    }))
    return True


def read_state() -> dict[str, str] | None:
    if not STATE_FILE.exists():
        return None
    try:
        state = json.loads(STATE_FILE.read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state


def clear_state() -> None:
    """Removes the state file only if it is this process's."""
    try:
        state = json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return
    if state.get("pid") == os.getpid():
        STATE_FILE.unlink(missing_ok=True)
