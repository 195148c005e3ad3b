"""Runs our real Lambda handlers when moto's Step Functions interpreter invokes them (README, "How the local
stack works").

moto cannot run function code without Docker. With `{"lambda": {"use_docker": False}}` its Lambda is
`LambdaSimpleBackend`, whose `invoke` we replace for the functions of template.yaml: the event goes to
the real handler in-process, and an exception comes back as an unhandled function error whose
`errorType` is the exception's class name — exactly what Retry and Catch match on in the cloud."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend

from narraforge_dev.local.lambda_context import LambdaContext
from narraforge_dev.local.template import function_module, resources_of_type

ACCOUNT_ID = "123456789012"
Handler = Callable[[dict[str, Any], Any], Any]

_original_invoke = LambdaSimpleBackend.invoke
_handlers: dict[str, Handler] = {}


def function_arn(logical_id: str, region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{logical_id}"


def _function_name(name_or_arn: str) -> str:
    return name_or_arn.split(":")[6] if name_or_arn.startswith("arn:") else name_or_arn


def _bridged_invoke(
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> str | bytes | None:
    handler = _handlers.get(_function_name(function_name))
    if handler is None:
        return _original_invoke(self, function_name, qualifier, body, headers, response_headers)
    event = json.loads(body or "{}")
    try:
        result = handler(event, LambdaContext(_function_name(function_name)))
    except Exception as exc:  # a Lambda reports any unhandled exception this way
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
    return json.dumps(result).encode()


def install(functions: dict[str, Handler] | None = None) -> None:
    """Bridges every function of the template (or the given name → handler map). Idempotent."""
    if functions is None:
        functions = {}
        for logical_id in resources_of_type("AWS::Serverless::Function"):
            module, attribute = function_module(logical_id)
            functions[logical_id] = _lazy(module, attribute)
    _handlers.update(functions)
    LambdaSimpleBackend.invoke = _bridged_invoke  # type: ignore[method-assign]


def _lazy(module: str, attribute: str) -> Handler:
    def call(event: dict[str, Any], context: Any) -> Any:
        return getattr(importlib.import_module(module), attribute)(event, context)

    return call


def uninstall() -> None:
    _handlers.clear()
    LambdaSimpleBackend.invoke = _original_invoke  # type: ignore[method-assign]
