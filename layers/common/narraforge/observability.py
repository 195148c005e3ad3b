"""One home for Powertools Logger, Tracer and Metrics so every function shares their setup."""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "narraforge")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "NarraForge")

# API calls that emit no business metric are normal; Powertools would warn on every one of them.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
# Only botocore (DynamoDB, S3, Step Functions; PynamoDB goes through it) is patched at init: patching
# everything X-Ray supports would import httpx into every function's cold start.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()


def stage_duration(stage: str, seconds: float) -> None:
    """Per-stage duration with the stage as a dimension (ten values: low cardinality, never a job id)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name="StageDurationSeconds", unit=MetricUnit.Seconds, value=seconds) as metric:
        metric.add_dimension(name="stage", value=stage)


def trace_http_client() -> None:
    """Record outbound httpx calls (the OAuth providers) as X-Ray subsegments. Called by the code that makes
    them, before it builds a client; patching twice is a no-op. The OpenAI SDK is on httpx2, which the X-Ray
    SDK does not patch: the stage runner opens a subsegment per model call itself."""
    tracer.patch(("httpx",))
