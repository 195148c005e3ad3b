"""A job says how many segments it planned and how many are drafted (what the Studio's job view and the CLI's
progress bar show as "segment n of N"), also when a regeneration reuses the drafts."""

from __future__ import annotations

from narraforge.data import keys
from narraforge.data.models import CheckpointItem

from tests.helpers import wait_for_execution
from tests.pipeline.conftest import short_brief


def drafted_checkpoints(job_id: str) -> int:
    return CheckpointItem.count(keys.job_pk(job_id), CheckpointItem.sk.startswith("SEG#06#"))


def test_segment_counts_follow_the_plan_and_the_drafts(writer, provider):
    created = writer.post("/jobs/", json={"project_id": writer.project_id,
                                          "production_brief": short_brief(target_length=1500)}).json()
    assert created["segments_total"] is None and created["segments_drafted"] == 0
    assert wait_for_execution(created["execution_arn"])["status"] == "SUCCEEDED"
    job = writer.get(f"/jobs/{created['id']}").json()
    assert job["segments_total"] == drafted_checkpoints(job["id"]) > 1
    assert job["segments_drafted"] == job["segments_total"]
    status = writer.get(f"/jobs/{job['id']}/status").json()
    assert (status["segments_drafted"], status["segments_total"]) == (job["segments_drafted"], job["segments_total"])

    again = writer.post(f"/narratives/{job['narrative_id']}/regenerate",
                        json={"from_stage": "language_stylization"}).json()
    assert again["segments_total"] == job["segments_total"]  # planned and drafted stages were reused
    assert again["segments_drafted"] == job["segments_total"]
    assert wait_for_execution(again["execution_arn"])["status"] == "SUCCEEDED"
