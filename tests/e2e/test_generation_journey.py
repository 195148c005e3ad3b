"""The whole journey over HTTP on the local stack (moto's interpreter runs the real ASL):
register → project → job → poll → narrative → text, then deletes that leave nothing behind."""

from __future__ import annotations

import time

import boto3

from tests.e2e.accounts import bearer, new_writer, wait_until_finished
from tests.helpers import register


def test_brief_to_text_over_http(http):
    headers = bearer(register(http)["access_token"])
    project = http.post("/projects/", json={"name": "Journey"}, headers=headers).json()
    brief = {"production_type": "short_story", "genre": "sci_fi",
             "subject": "A botanist on a generation ship finds seeds that should not exist",
             "style_instructions": "Warm, curious, precise", "target_length": 1500, "character_count": 4}
    created = http.post("/jobs/", json={"project_id": project["id"], "production_brief": brief}, headers=headers)
    assert created.status_code == 201, created.text
    job = created.json()

    final = wait_until_finished(http, headers, job["id"])
    assert final["status"] == "COMPLETED", final
    assert final["progress_percentage"] == 100

    narrative = http.get(f"/narratives/{final['narrative_id']}", headers=headers).json()
    assert abs(narrative["word_count"] - 1500) <= 0.15 * 1500
    assert len(narrative["narrative_metadata"]["characters"]) == 4
    assert narrative["view_count"] == 1
    assert narrative["quality_metrics"]
    text = http.get(f"/narratives/{final['narrative_id']}/text", headers=headers)
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert text.text == narrative["narrative_text"]

    listed = http.get("/narratives/", params={"genre": "SCI_FI"}, headers=headers).json()
    assert [n["id"] for n in listed["items"]] == [narrative["id"]]
    assert "narrative_text" not in listed["items"][0]

    other = bearer(register(http)["access_token"])
    assert http.get(f"/narratives/{narrative['id']}", headers=other).status_code == 404
    assert http.get(f"/jobs/{job['id']}", headers=other).status_code == 404

    assert http.delete(f"/projects/{project['id']}", headers=headers).status_code == 204
    assert http.get(f"/narratives/{narrative['id']}", headers=headers).status_code == 404
    assert http.get(f"/jobs/{job['id']}", headers=headers).status_code == 404


def test_execution_history_is_readable_with_the_aws_api(http, stack_url):
    """What the README tells operators to do locally: get-execution-history against the moto endpoint."""
    writer = new_writer(http, "trace")
    job = http.get(f"/jobs/{writer.job_id}", headers=writer.headers).json()
    import json
    from pathlib import Path

    state = json.loads(Path(http.state_file).read_text())
    sfn = boto3.client("stepfunctions", endpoint_url=state["moto_url"], region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    # The job is COMPLETED at publication; the execution ends after the world update that follows it.
    for _ in range(600):
        if sfn.describe_execution(executionArn=job["execution_arn"])["status"] != "RUNNING":
            break
        time.sleep(0.1)
    events = sfn.get_execution_history(executionArn=job["execution_arn"], maxResults=1000)["events"]
    names = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert names[:2] == ["Prepare", "ResumeFrom"]
    assert "SegmentGeneration" in names and names[-3:] == ["OutputProcessing", "WorldUpdate", "Done"]


def test_versions_and_concurrent_regenerations_over_http(http, stack_url):
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    writer = new_writer(http, "versions")
    headers, narrative_id = writer.headers, writer.narrative_id

    def regenerate(instructions: str) -> dict:
        with httpx.Client(base_url=stack_url, timeout=30) as client:
            response = client.post(f"/narratives/{narrative_id}/regenerate", headers=headers,
                                   json={"instructions": instructions})
            assert response.status_code == 202, response.text
            return response.json()

    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = list(pool.map(regenerate, ["Warmer ending", "More dialogue"]))
    for regen in jobs:
        assert wait_until_finished(http, headers, regen["id"])["status"] == "COMPLETED"

    versions = http.get(f"/narratives/{narrative_id}/versions", headers=headers).json()
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert {v["instructions"] for v in versions[1:]} == {"Warmer ending", "More dialogue"}
    assert http.get(f"/narratives/{narrative_id}", headers=headers).json()["version"] == 3
    first = http.get(f"/narratives/{narrative_id}/text", params={"version": 1}, headers=headers)
    assert first.status_code == 200 and first.text
    assert http.get(f"/narratives/{narrative_id}/export/docx", params={"version": 2},
                    headers=headers).status_code == 200
