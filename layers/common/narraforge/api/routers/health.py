"""/health/*: liveness, readiness and Prometheus counters."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from narraforge import __version__
from narraforge.api.app_factory import error_response
from narraforge.config import get_settings
from narraforge.services import health as health_service

router = APIRouter(prefix="/health", tags=["health"])


class HealthResponse(BaseModel):
    status: str
    version: str
    environment: str
    timestamp: datetime


class ReadinessResponse(BaseModel):
    status: str
    checks: dict[str, str]


def _health() -> HealthResponse:
    return HealthResponse(status="ok", version=__version__, environment=get_settings().environment,
                          timestamp=datetime.now(UTC))


@router.get("/", response_model=HealthResponse, summary="The code is up")
def health() -> HealthResponse:
    return _health()


router.add_api_route("", health, methods=["GET"], include_in_schema=False)


@router.get("/live", response_model=HealthResponse, summary="Liveness")
def live() -> HealthResponse:
    return _health()


@router.get("/ready", response_model=ReadinessResponse,
            responses={503: {"model": ReadinessResponse, "description": "A dependency is unreachable"}})
def ready() -> JSONResponse:
    checks = health_service.readiness()
    ok = all(result == "ok" for result in checks.values())
    body = ReadinessResponse(status="ready" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus text exposition",
            responses={200: {"content": {"text/plain": {}}}, 503: error_response("The table could not be read")})
def prometheus_metrics() -> PlainTextResponse:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    c = health_service.platform_counters()

    class _Collector:
        def collect(self):  # type: ignore[no-untyped-def]
            for name, help_text in (("users", "Registered users"), ("projects", "Projects"),
                                    ("narratives", "Narratives stored"),
                                    ("words", "Words in the current versions of stored narratives")):
                yield GaugeMetricFamily(f"narraforge_{name}", help_text, value=c[name])
            jobs = CounterMetricFamily("narraforge_jobs", "Jobs by outcome", labels=["status"])
            for status in ("created", "completed", "failed", "cancelled"):
                jobs.add_metric([status], c[f"jobs_{status}"])
            yield jobs
            yield CounterMetricFamily("narraforge_llm_tokens", "LLM tokens billed to jobs", value=c["tokens"])
            yield CounterMetricFamily("narraforge_llm_cost_usd", "LLM cost billed to jobs (USD)", value=c["cost_usd"])

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())  # type: ignore[arg-type]
    return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
