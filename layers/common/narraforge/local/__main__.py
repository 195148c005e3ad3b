"""`python -m narraforge.local`: the whole product on one machine (what `make run` starts)."""

from __future__ import annotations

import argparse
import os
import sys

from narraforge.local import stack


def serve(port: int, host: str) -> None:
    import uvicorn

    moto = stack.start_moto()
    stack.configure_environment(moto.url)
    from narraforge.local import lambda_bridge, moto_isolation
    from narraforge.local.apigw import create_emulator
    from narraforge.local.resources import create_resources

    moto_isolation.install()
    lambda_bridge.install()
    create_resources()
    api_url = f"http://{host}:{port}"
    stack.write_state(api_url, moto.url)
    print(
        "\nNarraForge local stack is up (moto for AWS, offline engine for the LLM):\n"
        f"  API       {api_url}\n"
        f"  Swagger   {api_url}/docs\n"
        f"  ReDoc     {api_url}/redoc\n"
        f"  Health    {api_url}/health/ready\n"
        f"  AWS (moto) {moto.url}   e.g. aws --endpoint-url {moto.url} dynamodb scan "
        "--table-name narraforge-local\n"
        f"  Pipeline  aws --endpoint-url {moto.url} stepfunctions get-execution-history "
        f"--execution-arn <execution_arn of a job>\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    try:
        uvicorn.run(create_emulator(), host=host, port=port, log_level="warning", access_log=True)
    finally:
        stack.clear_state()
        moto.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m narraforge.local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="start moto, create resources, serve the API")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.add_argument("--host", default="127.0.0.1")
    invoke = sub.add_parser("invoke", help="run one function's handler with an event file")
    invoke.add_argument("function", help="function folder name, e.g. auth")
    invoke.add_argument("event", help="path of an API Gateway event JSON file")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port, args.host)
        return 0
    from narraforge.local.invoke import invoke_function

    return invoke_function(args.function, args.event)


if __name__ == "__main__":
    sys.exit(main())
