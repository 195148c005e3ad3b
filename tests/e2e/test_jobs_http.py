"""Jobs over HTTP on the local stack (issue #10, items 3, 10 and 11): a brief takes its project's
defaults, a job's stages add up to its totals, and a cancelled job is billed in the usage log."""

from __future__ import annotations

from tests.e2e.accounts import bearer, wait_until_finished
from tests.helpers import error_fields, register

BRIEF = {"subject": "A cartographer maps a city that rearranges itself every night",
         "style_instructions": "Wry and exact", "target_length": 2400, "character_count": 3}


def writer(http) -> dict[str, str]:
    return bearer(register(http)["access_token"])


def test_a_brief_without_type_and_genre_takes_the_projects_defaults(http):
    headers = writer(http)
    project = http.post("/projects/", json={"name": "Defaults", "default_genre": "mystery",
                                            "default_production_type": "short_story"}, headers=headers).json()
    created = http.post("/jobs/", json={"project_id": project["id"], "production_brief": BRIEF}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["production_brief"]["genre"] == "mystery"
    assert created.json()["production_brief"]["production_type"] == "short_story"

    plain = http.post("/projects/", json={"name": "No defaults"}, headers=headers).json()
    refused = http.post("/jobs/", json={"project_id": plain["id"], "production_brief": BRIEF}, headers=headers)
    assert refused.status_code == 422
    assert ["body", "production_brief", "genre"] in [f["loc"] for f in error_fields(refused.json())]
    assert http.get("/usage", headers=headers).json()["generations_used"] == 1


def test_stages_add_up_to_the_job_in_the_job_and_the_usage_log(http):
    headers = writer(http)
    project = http.post("/projects/", json={"name": "Totals"}, headers=headers).json()
    brief = {**BRIEF, "production_type": "short_story", "genre": "fantasy"}
    job = http.post("/jobs/", json={"project_id": project["id"], "production_brief": brief}, headers=headers).json()
    assert wait_until_finished(http, headers, job["id"])["status"] == "COMPLETED"
    done = http.get(f"/jobs/{job['id']}", headers=headers).json()
    stages = {s["stage"]: s for s in done["stages"]}
    for drafting in ("segment_generation", "language_stylization"):
        assert stages[drafting]["llm_calls"] > 0 and stages[drafting]["completion_tokens"] > 0, stages[drafting]
    assert sum(s["prompt_tokens"] + s["completion_tokens"] for s in stages.values()) == done["tokens_used"] > 0
    assert sum(s["llm_calls"] for s in stages.values()) == done["llm_calls"]

    (entry,) = http.get("/usage", headers=headers).json()["log"]["items"]
    assert entry["job_id"] == job["id"] and entry["status"] == "COMPLETED"
    assert sum(s["tokens"] for s in entry["stages"].values()) == entry["tokens_used"] == done["tokens_used"]
    assert sum(s["llm_calls"] for s in entry["stages"].values()) == entry["llm_calls"] == done["llm_calls"]


def test_a_cancelled_job_is_billed_in_the_usage_log(http):
    headers = writer(http)
    project = http.post("/projects/", json={"name": "Cancelled"}, headers=headers).json()
    brief = {**BRIEF, "production_type": "short_story", "genre": "drama"}
    job = http.post("/jobs/", json={"project_id": project["id"], "production_brief": brief}, headers=headers).json()
    assert http.post(f"/jobs/{job['id']}/cancel", headers=headers).status_code == 200
    assert wait_until_finished(http, headers, job["id"])["status"] == "CANCELLED"
    usage = http.get("/usage", headers=headers).json()
    (entry,) = usage["log"]["items"]
    final = http.get(f"/jobs/{job['id']}", headers=headers).json()
    assert entry["job_id"] == job["id"] and entry["status"] == "CANCELLED" and entry["narrative_id"] is None
    assert entry["cost_usd"] == final["actual_cost_usd"] == usage["cost_used_usd"]
    assert entry["llm_calls"] <= final["llm_calls"]  # a call in flight at the cancel is billed after it
