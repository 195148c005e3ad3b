"""Lambda entry point of the pipeline: one stage (or segment) per invocation. Wiring only."""

from typing import Any

from narraforge.observability import logger, metrics, tracer
from narraforge.pipeline.handler import handle


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True, raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event)
