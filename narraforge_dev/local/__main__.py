"""`python -m narraforge_dev.local`: the whole product on one machine (what `make run` starts)."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

from narraforge_dev.local import stack


def serve(port: int, host: str, llm: str = "") -> int:
    """Claims the port and the data directory before anything starts or is written, so a second `make run`
    fails at once and leaves the running stack (its state file, its data) alone."""
    from narraforge_dev.local import persistence

    try:
        listener = _listen(host, port)
    except OSError as exc:
        print(f"port {port} on {host} is in use ({exc.strerror}; another `make run`?): stop it, or run "
              f"`make run PORT={port + 1}`", file=sys.stderr)
        return 1
    directory = persistence.data_dir()
    lock = persistence.DataDirLock(directory)
    try:
        lock.acquire()
    except persistence.DataDirBusy as exc:
        listener.close()
        print(f"{exc}: stop it first (Ctrl-C where it runs), or give this stack its own data directory with "
              "NARRAFORGE_LOCAL_DATA=<dir>", file=sys.stderr)
        return 1
    model_server = None
    try:
        os.environ.setdefault("JWT_SECRET", persistence.signing_key(directory))
        if llm == "local":
            model_server = _start_local_model()
        moto = stack.start_moto()
        try:
            _serve(listener, host, port, moto.url, directory)
        finally:
            moto.stop()
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        if model_server is not None:
            model_server.stop()
        lock.release()
    return 0


def _start_local_model():
    """`make run LLM=local`: llama-cpp-python's OpenAI-compatible server with SmolLM2-135M-Instruct, which
    the product reaches through its ordinary OpenAI provider (settings you set yourself win)."""
    from narraforge_dev.local import llm_server

    print("starting the local model server (SmolLM2-135M-Instruct via llama-cpp-python)...", flush=True)
    try:
        server = llm_server.start()
    except llm_server.LlmServerUnavailable as exc:
        raise LookupError(f"the local model server could not start: {exc}") from exc
    for name, value in server.environment().items():
        os.environ.setdefault(name, value)
    return server


def _engine() -> str:
    """What writes the narratives, for the banner."""
    base_url, key = os.environ.get("OPENAI_BASE_URL"), os.environ.get("OPENAI_API_KEY")
    if base_url:
        return f"the model {os.environ.get('NARRAFORGE_PROSE_MODEL', '(default)')} at {base_url}"
    return "OpenAI" if key else "the offline demo engine (no model)"


def _listen(host: str, port: int) -> socket.socket:
    """Binds and listens at once: SO_REUSEADDR (as uvicorn sets it) lets a restart reuse a port in TIME_WAIT,
    while the listening socket keeps any other process from binding it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    return listener


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _serve(listener: socket.socket, host: str, port: int, moto_url: str, directory: Path) -> None:
    import uvicorn

    from narraforge_dev.local import websocket

    # The pipeline posts progress to this port's Management API emulator, as it would to API Gateway's.
    os.environ["WEBSOCKET_MANAGEMENT_URL"] = websocket.management_url(host, listener.getsockname()[1])
    stack.configure_environment(moto_url)
    from narraforge.config import get_settings

    from narraforge_dev.local import lambda_bridge, moto_isolation, persistence
    from narraforge_dev.local.apigw import create_emulator
    from narraforge_dev.local.resources import create_resources

    persistence.changes.install()
    moto_isolation.install()
    lambda_bridge.install()
    create_resources()
    settings = get_settings()
    store = persistence.Store(directory, settings.table_name, settings.bucket_name, settings.aws_region)
    items, objects = store.restore()
    interrupted = persistence.fail_interrupted_jobs()
    snapshots = persistence.Snapshotter(store)
    snapshots.start()
    api_url = f"http://{host}:{port}"
    shared = stack.write_state(api_url, moto_url)
    restored = f"restored {items} items and {objects} objects" if items or objects else "empty"
    print(
        f"\nNarraForge local stack is up (moto for AWS; writing: {_engine()}):\n"
        f"  API       {api_url}\n"
        f"  Swagger   {api_url}/docs\n"
        f"  ReDoc     {api_url}/redoc\n"
        f"  Health    {api_url}/health/ready\n"
        f"  AWS (moto) {moto_url}   e.g. aws --endpoint-url {moto_url} dynamodb scan "
        "--table-name narraforge-local\n"
        f"  Pipeline  aws --endpoint-url {moto_url} stepfunctions get-execution-history "
        f"--execution-arn <execution_arn of a job>\n"
        f"  Data      {directory} ({restored}; kept across restarts, `make reset` wipes it)\n"
        + (f"  Jobs      {len(interrupted)} job(s) were running when the stack stopped: now FAILED, "
           "POST /jobs/{id}/resume continues them\n" if interrupted else "")
        + ("" if shared else f"  Note      {stack.STATE_FILE} belongs to another running stack: `make invoke` "
           "and the admin tool use that one\n")
        + "Press Ctrl-C to stop.\n",
        flush=True,
    )
    # uvicorn handles SIGINT/SIGTERM itself, restores this handler after its graceful shutdown and re-raises
    # the signal: SIGTERM then ends up here, so the shutdown snapshot below runs for it as for Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    config = uvicorn.Config(create_emulator(), host=host, port=port, log_level="warning", access_log=True,
                            proxy_headers=False)  # the client is the TCP peer, never an X-Forwarded-For
    try:
        uvicorn.Server(config).run(sockets=[listener])
    except KeyboardInterrupt:
        pass
    finally:
        snapshots.stop()
        stack.clear_state()


def reset() -> int:
    """`make reset`: wipes the local data, refusing while a stack runs on them."""
    from narraforge_dev.local import persistence

    directory = persistence.data_dir()
    try:
        removed = persistence.wipe(directory)
    except persistence.DataDirBusy as exc:
        print(f"{exc}: stop it (Ctrl-C where it runs), then run `make reset` again", file=sys.stderr)
        return 1
    print(f"removed the local data in {directory}" if removed else f"no local data in {directory}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m narraforge_dev.local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="start moto, create resources, serve the API")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--llm", default=os.environ.get("LLM", ""), choices=["", "local"],
                     help="local: serve SmolLM2-135M-Instruct with llama-cpp-python (`make llm-install` first)")
    sub.add_parser("reset", help="delete the local data (refused while a stack runs on them)")
    invoke = sub.add_parser("invoke", help="run one function's handler with an event file")
    invoke.add_argument("function", help="function folder name, e.g. auth")
    invoke.add_argument("event", help="path of an API Gateway event JSON file")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.port, args.host, args.llm)
    if args.command == "reset":
        return reset()
    from narraforge_dev.local.invoke import invoke_function

    return invoke_function(args.function, args.event)


if __name__ == "__main__":
    sys.exit(main())
