"""The `narraforge` console script, run as a user runs it, against the real local stack (tests/e2e)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import local_stack, start_stack  # noqa: F401  (the stack `make run` starts)
from tests.helpers import PASSWORD

# The script that `pip install` (here `make install`) put beside the interpreter: the installed entry point is
# what is tested, not a module on PYTHONPATH.
NARRAFORGE = Path(sys.executable).parent / "narraforge"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        return self.stdout.strip().splitlines()[-1]


@dataclass
class Cli:
    url: str
    home: Path

    @property
    def config_file(self) -> Path:
        return self.home / "config" / "narraforge" / "config.json"

    def env(self, **extra: str) -> dict[str, str]:
        """A user's environment: no PYTHONPATH (the installed package alone), a config dir of the test's own."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home),
                "XDG_CONFIG_HOME": str(self.home / "config"), "NARRAFORGE_API": self.url, "COLUMNS": "120",
                "LANG": "C.UTF-8", **extra}

    def __call__(self, *args: str, env: dict[str, str] | None = None, shell_prefix: str = "") -> Run:
        command = [str(NARRAFORGE), *args]
        if shell_prefix:  # e.g. "umask 000;": the same command run by a shell that set something first
            command = ["sh", "-c", f'{shell_prefix} exec "$@"', "sh", *command]
        done = subprocess.run(command, env=self.env(**(env or {})), cwd=self.home, capture_output=True, text=True,
                              timeout=120)
        assert "Traceback" not in done.stderr, done.stderr
        return Run(done.returncode, done.stdout, done.stderr)

    def register(self) -> str:
        email = f"cli-{uuid.uuid4().hex[:12]}@example.com"
        result = self("register", "--email", email, "--password", PASSWORD, "--name", "Cli User")
        assert result.returncode == 0, result.stderr
        return email


@pytest.fixture
def cli(local_stack, tmp_path) -> Cli:  # noqa: F811
    assert NARRAFORGE.exists(), f"{NARRAFORGE} missing: run `make install` (pyproject's [project.scripts])"
    return Cli(local_stack[0], tmp_path)

