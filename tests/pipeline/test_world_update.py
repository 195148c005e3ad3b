"""Stories write back to their project's world: the real ASL's `WorldUpdate` state under moto, with the real
stage runner, through the API a writer uses (the offline engine answers the extraction call)."""

from __future__ import annotations

import threading
from typing import Any

from narraforge.data import worlds as world_store
from narraforge.llm.base import LlmServerError
from narraforge.pipeline import world_update

from tests.helpers import execution_states, wait_for_execution
from tests.pipeline.conftest import ScriptedProvider, short_brief

WORLD = {
    "summary": "A Baltic coast of lighthouses.",
    "places": [{"name": "Saltmere", "description": "A fishing port"}],
    "characters": [{"name": "Mira Vell", "location": "Saltmere", "knows": ["The tide-clock is broken"]}],
    "history": [{"name": "The Flood", "when": "1921"}],
}


def create_world(writer, document: dict[str, Any] | None = None) -> dict[str, Any]:
    response = writer.put(f"/projects/{writer.project_id}/world", json=document or WORLD)
    assert response.status_code == 201, response.text
    return response.json()


def read_world(writer, version: int | None = None) -> tuple[dict[str, Any], int]:
    response = writer.get(f"/projects/{writer.project_id}/world",
                          params={"version": version} if version else None)
    assert response.status_code == 200, response.text
    return response.json(), int(response.headers["etag"].strip('"'))


def world_versions(writer) -> list[dict[str, Any]]:
    response = writer.get(f"/projects/{writer.project_id}/world/versions", params={"page_size": 50})
    assert response.status_code == 200, response.text
    body = response.json()
    return body["items"] if isinstance(body, dict) else body


def run_job(writer, **overrides: Any) -> dict[str, Any]:
    job = start_job(writer, **overrides)
    described = wait_for_execution(job["execution_arn"])
    assert described["status"] == "SUCCEEDED", described
    return writer.get(f"/jobs/{job['id']}").json() | {"execution_arn": job["execution_arn"]}


def start_job(writer, **overrides: Any) -> dict[str, Any]:
    response = writer.post("/jobs/", json={"project_id": writer.project_id,
                                           "production_brief": short_brief(target_length=600, **overrides)})
    assert response.status_code == 201, response.text
    return response.json()


def story_of(writer, narrative_id: str, version: int | None = None) -> dict[str, Any]:
    response = writer.get(f"/narratives/{narrative_id}", params={"version": version} if version else None)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_job_in_a_project_with_a_world_adds_its_story_as_a_new_version(writer, provider):
    create_world(writer)
    job = run_job(writer)
    assert job["status"] == "COMPLETED"
    names = execution_states(job["execution_arn"])
    assert names[-3:] == ["OutputProcessing", "WorldUpdate", "Done"]
    assert provider.schemas["world_update"] == 0  # the offline engine's reading is the plan's: no call

    story = story_of(writer, job["narrative_id"])
    cast = [c["name"] for c in story["narrative_metadata"]["characters"]]
    places = [p["name"] for p in story["narrative_metadata"]["world"]["places"]]
    world, version = read_world(writer)
    assert version == 2
    characters = {c["name"]: c for c in world["characters"]}
    assert set(cast) <= set(characters) and "Mira Vell" in characters  # kept, and the story's cast added
    assert characters["Mira Vell"]["knows"][0] == "The tide-clock is broken"  # learning adds, never forgets
    assert set(places) <= {p["name"] for p in world["places"]}
    assert all(c["id"] for c in world["characters"])
    events = [e for e in world["history"] if e.get("narrative_id") == job["narrative_id"]]
    assert events and all(e["narrative_version"] == 1 for e in events)
    assert world["history"][0]["name"] == "The Flood"  # the timeline keeps what was there, in order
    at_end = [c for c in world["characters"] if c["name"] in cast and c["location"]]
    assert at_end and all(c["location"] in places for c in at_end)

    newest = world_versions(writer)[0]
    assert newest["version"] == 2 and newest["updated_by"] == f"job:{job['id']}"
    report = story["narrative_metadata"]["world_update"]
    assert report["status"] == "applied" and report["world_version"] == 2 and not report["created_world"]
    assert sorted(report["added"]["characters"]) == sorted(set(cast) - {"Mira Vell"})
    assert story["narrative_metadata"]["world_conflicts"] == []


def test_a_project_without_a_world_gets_its_first_world_from_its_first_story(writer, provider):
    assert writer.get(f"/projects/{writer.project_id}/world").status_code == 404
    job = run_job(writer)
    world, version = read_world(writer)
    story = story_of(writer, job["narrative_id"])
    assert version == 1
    assert world["summary"] == story["narrative_metadata"]["world"]["setting_summary"]
    assert len(world["rules"]) == len(story["narrative_metadata"]["world"]["rules"])
    assert [c["name"] for c in world["characters"]] == [c["name"] for c in story["narrative_metadata"]["characters"]]
    assert story["narrative_metadata"]["world_update"]["created_world"] is True


class KillsTheHero(ScriptedProvider):
    """The offline engine, except that its reading of the finished story says the first character died."""

    def complete(self, messages, *, model, max_tokens, temperature, json_schema=None):
        completion = super().complete(messages, model=model, max_tokens=max_tokens, temperature=temperature,
                                      json_schema=json_schema)
        if (json_schema or {}).get("name") != "world_update":
            return completion
        import json
        from dataclasses import replace

        reading = json.loads(completion.text)
        reading["characters"][0]["status"] = "dead"
        return replace(completion, text=json.dumps(reading))


def test_a_locked_character_is_not_changed_and_the_conflict_is_reported_on_the_narrative(writer, monkeypatch):
    monkeypatch.setattr("narraforge.pipeline.handler.provider_for", lambda job_id: ScriptedProvider("world"))
    first = run_job(writer)
    world, version = read_world(writer)
    hero = world["characters"][0]
    assert hero["status"] == "alive"
    hero["locked"] = True
    locked = writer.put(f"/projects/{writer.project_id}/world", json=world, headers={"If-Match": f'"{version}"'})
    assert locked.status_code == 200, locked.text

    model = KillsTheHero("world", name="model")  # not the offline engine: the extraction is a model call
    monkeypatch.setattr("narraforge.pipeline.handler.provider_for", lambda job_id: model)
    regenerated = writer.post(f"/narratives/{first['narrative_id']}/regenerate", json={})
    assert regenerated.status_code == 202, regenerated.text
    assert wait_for_execution(regenerated.json()["execution_arn"])["status"] == "SUCCEEDED"

    assert model.schemas["world_update"] == 1
    after, after_version = read_world(writer)
    assert after_version == version + 2  # the lock, then the regenerated story
    assert after["characters"][0] == hero  # locked: not dead, not moved, knows nothing new
    story = story_of(writer, first["narrative_id"])
    assert story["version"] == 2
    conflicts = story["narrative_metadata"]["world_conflicts"]
    status = [c for c in conflicts if c["field"] == "status"]
    assert status == [{"section": "characters", "id": hero["id"], "name": hero["name"], "field": "status",
                       "world": "alive", "story": "dead"}]
    assert story["narrative_metadata"]["world_update"]["status"] == "applied"
    # the rest of the story still lands, attributed to version 2 of the narrative
    assert [e["narrative_version"] for e in after["history"] if e.get("narrative_version") == 2]
    assert story_of(writer, first["narrative_id"], version=1)["narrative_metadata"]["world_conflicts"] == []


def test_two_jobs_finishing_at_once_in_one_project_both_land(writer, provider, monkeypatch):
    from narraforge.enums import Tier

    from narraforge_dev.admin import set_tier

    set_tier(writer.get("/auth/me").json()["email"], Tier.PRO)
    create_world(writer)
    # Both world updates read the head and merge before either writes: one must lose the race and merge again.
    both_merged = threading.Barrier(2, timeout=60)
    merges = {"count": 0}
    lock = threading.Lock()
    original = world_update.merge

    def merge(*args, **kwargs):
        merged = original(*args, **kwargs)
        with lock:
            merges["count"] += 1
            first_two = merges["count"] <= 2
        if first_two:
            both_merged.wait()
        return merged

    monkeypatch.setattr(world_update, "merge", merge)
    jobs = [start_job(writer), start_job(writer, genre="thriller")]
    for job in jobs:
        assert wait_for_execution(job["execution_arn"])["status"] == "SUCCEEDED"
    assert merges["count"] == 3  # two merges onto version 1, then the loser's again onto version 2

    world, version = read_world(writer)
    assert version == 1 + 2
    for job in jobs:
        done = writer.get(f"/jobs/{job['id']}").json()
        story = story_of(writer, done["narrative_id"])
        assert story["narrative_metadata"]["world_update"]["status"] == "applied"
        assert {c["name"] for c in story["narrative_metadata"]["characters"]} <= {c["name"]
                                                                                 for c in world["characters"]}
        assert any(e.get("narrative_id") == done["narrative_id"] for e in world["history"])
    assert sorted(v["updated_by"] for v in world_versions(writer)[:2]) == sorted(f"job:{j['id']}" for j in jobs)


def test_a_retried_world_update_does_not_apply_the_story_twice(writer, provider, monkeypatch):
    create_world(writer)
    original = world_update.report
    failures = {"count": 0}

    def report(narrative_id, version, outcome):
        if not failures["count"]:
            failures["count"] += 1
            raise LlmServerError("the Lambda died after the world was written")
        original(narrative_id, version, outcome)

    monkeypatch.setattr(world_update, "report", report)
    job = run_job(writer)
    assert failures["count"] == 1
    world, version = read_world(writer)
    assert version == 2  # one merge, not two
    events = [e for e in world["history"] if e.get("narrative_id") == job["narrative_id"]]
    assert len(events) == len({e["name"] for e in events}) and all(" (" not in e["name"] for e in events)
    assert len(world_versions(writer)) == 2
    story = story_of(writer, job["narrative_id"])
    assert story["narrative_metadata"]["world_update"]["status"] == "applied"
    assert story["narrative_metadata"]["world_update"]["world_version"] == 2
    marker = world_store.update_of(writer.project_id, job["id"])
    assert marker is not None and marker.world_version == 2  # the checkpoint the retry found

    assert writer.delete(f"/projects/{writer.project_id}").status_code == 204
    assert world_store.update_of(writer.project_id, job["id"]) is None  # it goes with the world


def test_a_world_update_that_keeps_failing_is_reported_without_failing_the_job(writer, provider, monkeypatch):
    create_world(writer)

    def broken(*args, **kwargs):
        raise RuntimeError("the merge is broken")

    monkeypatch.setattr(world_update, "merge", broken)
    job = run_job(writer)
    assert job["status"] == "COMPLETED"
    assert execution_states(job["execution_arn"])[-3:] == ["WorldUpdate", "RecordWorldUpdateFailure", "Done"]
    report = story_of(writer, job["narrative_id"])["narrative_metadata"]["world_update"]
    assert report == {"status": "failed", "reason": "RuntimeError: the merge is broken"}
    assert read_world(writer)[1] == 1
