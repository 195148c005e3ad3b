"""Lambda entry point for the EventBridge reconciler: settles jobs whose execution was stopped, timed out or
failed outside the pipeline. Wiring only, in a function of its own so its cold start loads no web stack."""

from typing import Any

from narraforge.observability import logger
from narraforge.services.reconcile import reconcile


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return reconcile(event)
