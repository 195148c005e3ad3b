"""Lambda entry points for /jobs/* (API) and the EventBridge reconciler. Wiring only."""

from typing import Any

from narraforge.api.app_factory import create_app, lambda_handler
from narraforge.api.routers import jobs
from narraforge.observability import logger
from narraforge.services.reconcile import reconcile as settle_execution

app = create_app([jobs.router])
handler = lambda_handler(app)


@logger.inject_lambda_context(clear_state=True)
def reconcile(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return settle_execution(event)
