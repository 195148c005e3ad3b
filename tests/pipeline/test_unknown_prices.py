"""A model whose price is unknown (a self-hosted one, a new one) is still usable, and what it cost is shown
as unknown — null with the number of such calls — never as a free $0 (issue #11). A price configured with
NARRAFORGE_MODEL_PRICES makes it known. Whole jobs through the real OpenAI provider against the fake server."""

from __future__ import annotations

import pytest
from narraforge.config import reset_settings

from tests.fake_openai import serving
from tests.helpers import wait_for_execution
from tests.pipeline.conftest import short_brief

UNPRICED = "house-model-7b"


@pytest.fixture
def model(monkeypatch):
    monkeypatch.setenv("NARRAFORGE_PROSE_MODEL", UNPRICED)  # prose only: planning stays on a priced model
    yield from serving(monkeypatch)


def finished_job(writer) -> dict:
    job = writer.post("/jobs/", json={"project_id": writer.project_id,
                                      "production_brief": short_brief(target_length=400)}).json()
    assert wait_for_execution(job["execution_arn"], timeout=120)["status"] == "SUCCEEDED"
    return writer.get(f"/jobs/{job['id']}").json()


def test_a_job_on_a_model_with_no_known_price_shows_its_cost_as_unknown(writer, model):
    job = finished_job(writer)
    assert job["status"] == "COMPLETED"
    assert job["estimated_cost_usd"] is None and job["actual_cost_usd"] is None
    assert 0 < job["unpriced_llm_calls"] < job["llm_calls"]
    assert writer.get(f"/jobs/{job['id']}/status").json()["actual_cost_usd"] is None
    assert writer.get(f"/narratives/{job['narrative_id']}").json()["generation_cost_usd"] is None
    entry = next(e for e in writer.get("/usage").json()["log"]["items"] if e["job_id"] == job["id"])
    assert entry["cost_usd"] is None
    priced_stage = next(s for s in job["stages"] if s["stage"] == "brief_interpretation")
    assert priced_stage["cost_usd"] > 0  # the planning model's calls are priced and still counted


def test_a_configured_price_makes_the_cost_known(writer, model, monkeypatch):
    monkeypatch.setenv("NARRAFORGE_MODEL_PRICES", f'{{"{UNPRICED}": [0, 0]}}')  # self-hosted: no charge per token
    reset_settings()
    job = finished_job(writer)
    assert job["unpriced_llm_calls"] == 0
    assert job["estimated_cost_usd"] is not None and job["actual_cost_usd"] is not None
    assert job["actual_cost_usd"] == pytest.approx(sum(s["cost_usd"] for s in job["stages"]), abs=1e-5)
