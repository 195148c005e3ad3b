"""Sequels (issue 14, item 4), through the real handlers and the real ASL under moto: a brief's `sequel_of`
names a narrative of the same writer and project; the story starts from the world as that story's world update
left it and carries its timeline; regenerating the earlier story later keeps both versions' facts, attributed,
and does not silently rewrite what the sequel established."""

from __future__ import annotations

from typing import Any

from narraforge.data.models import NarrativeVersionItem, WorldUpdateItem

from tests.helpers import error_code, error_fields, wait_for_execution, writer_with_project
from tests.pipeline.conftest import run_job, short_brief
from tests.pipeline.test_world_jobs import WORLD

BRIEF = short_brief(genre="fantasy", subject="A tide-reader learns what the sea took from her family",
                    target_length=900, character_count=2)
SEQUEL = short_brief(genre="fantasy", subject="The tide-reader follows the singing reef to the drowned library",
                     target_length=900, character_count=2)


def by_name(world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in world["characters"]}


def test_a_sequel_starts_from_its_prequels_end_and_its_timeline(writer, provider):
    world_url = f"/projects/{writer.project_id}/world"
    assert writer.put(world_url, json=WORLD).status_code == 201
    first = run_job(writer, BRIEF | {"featured_characters": ["Mira Vell"]})
    after_first = writer.get(world_url).json()
    mira = by_name(after_first)["Mira Vell"]
    assert [s["narrative_id"] for s in mira["story_states"]] == [first["narrative_id"]]
    first_events = [e["name"] for e in after_first["history"] if e["narrative_id"] == first["narrative_id"]]
    assert first_events

    second = run_job(writer, SEQUEL | {"sequel_of": first["narrative_id"]})
    narrative = writer.get(f"/narratives/{second['narrative_id']}").json()
    metadata = narrative["narrative_metadata"]
    prequel = metadata["world"]["prequel"]
    assert prequel["narrative_id"] == first["narrative_id"] and prequel["narrative_version"] == 1
    assert [e["name"] for e in prequel["events"]] == first_events[-8:]
    cast = [c["name"] for c in metadata["characters"]]
    assert cast[0] == "Mira Vell" and "Oren Vell" not in cast  # the prequel's survivor leads; the dead stay dead
    assert "Mira" in narrative["narrative_text"]
    assert metadata["structure"]["acts"][0]["summary"].startswith(f"After “{first_events[-1]}”")

    after_second = writer.get(world_url).json()
    states = [s["narrative_id"] for s in by_name(after_second)["Mira Vell"]["story_states"]]
    assert states == [first["narrative_id"], second["narrative_id"]]
    assert {e["narrative_id"] for e in after_second["history"]} >= {first["narrative_id"], second["narrative_id"]}


def test_regenerating_the_first_story_keeps_both_versions_facts_and_the_sequels(writer, provider):
    world_url = f"/projects/{writer.project_id}/world"
    writer.put(world_url, json=WORLD)
    first = run_job(writer, BRIEF | {"featured_characters": ["Mira Vell"]})
    second = run_job(writer, SEQUEL | {"sequel_of": first["narrative_id"]})
    before = by_name(writer.get(world_url).json())["Mira Vell"]

    regen = writer.post(f"/narratives/{first['narrative_id']}/regenerate",
                        json={"from_stage": "segment_planning", "instructions": "Make the ending hopeful"})
    assert regen.status_code == 202, regen.text
    assert wait_for_execution(regen.json()["execution_arn"])["status"] == "SUCCEEDED"
    world = writer.get(world_url).json()
    mira = by_name(world)["Mira Vell"]
    assert (mira["status"], mira["location"]) == (before["status"], before["location"])  # the sequel's state holds
    assert [(s["narrative_id"], s["narrative_version"]) for s in mira["story_states"]] == [
        (first["narrative_id"], 1), (second["narrative_id"], 1), (first["narrative_id"], 2)]
    attributed = {(e["narrative_id"], e["narrative_version"]) for e in world["history"]}
    assert {(first["narrative_id"], 1), (first["narrative_id"], 2), (second["narrative_id"], 1)} <= attributed
    report = writer.get(f"/narratives/{first['narrative_id']}").json()["narrative_metadata"]["world_update"]
    assert report["status"] == "applied"
    # whatever version 2 says of Mira that differs from the world is reported as superseded by the sequel
    rewritten = mira["story_states"][-1]
    differs = [name for name in ("status", "location") if rewritten[name] and rewritten[name] != mira[name]]
    assert [s["field"] for s in report["superseded"] if s["name"] == "Mira Vell"] == differs
    assert all(s["later_story"] == second["narrative_id"] for s in report["superseded"])
    # a second sequel of the rewritten story starts from its version 2
    third = run_job(writer, SEQUEL | {"sequel_of": first["narrative_id"], "subject": "The reef keeps singing at dawn"})
    third_meta = writer.get(f"/narratives/{third['narrative_id']}").json()["narrative_metadata"]
    assert third_meta["world"]["prequel"]["narrative_version"] == 2


def test_sequel_of_must_name_a_finished_story_of_yours_in_this_project(api, writer, provider):
    first = run_job(writer, BRIEF)

    def post(client, sequel_of: str, project_id: str | None = None):
        return client.post("/jobs/", json={"project_id": project_id or client.project_id,
                                           "production_brief": SEQUEL | {"sequel_of": sequel_of}})

    other_project = writer.post("/projects/", json={"name": "Other"}).json()["id"]
    for refused in (post(writer, "01NOSUCHNARRATIVE"),
                    post(writer_with_project(api, "Someone else's"), first["narrative_id"]),
                    post(writer, first["narrative_id"], other_project)):
        assert refused.status_code == 422, refused.text
        assert [(e["loc"], e["type"]) for e in error_fields(refused.json())] == [
            (["body", "production_brief", "sequel_of"], "unknown_narrative")]
    malformed = post(writer, "not an id!")
    assert malformed.status_code == 422 and error_fields(malformed.json())[0]["loc"][-1] == "sequel_of"

    # The prequel's world update not yet applied (its marker not written): a 409 to retry, not a job that
    # would start from a world without the prequel's facts.
    version = NarrativeVersionItem.get(*NarrativeVersionItem.key(first["narrative_id"], 1))
    marker = WorldUpdateItem.get(*WorldUpdateItem.key(writer.project_id, version.job_id))
    marker.delete()
    pending = post(writer, first["narrative_id"])
    assert pending.status_code == 409 and error_code(pending.json()) == "conflict"
    assert pending.headers["retry-after"] == "5"
    marker.save()
    assert post(writer, first["narrative_id"]).status_code == 201


def test_a_regeneration_checks_the_sequel_it_names(writer, provider):
    first = run_job(writer, BRIEF)
    refused = writer.post(f"/narratives/{first['narrative_id']}/regenerate",
                          json={"from_stage": "brief_interpretation",
                                "brief_overrides": {"sequel_of": "01NOSUCHNARRATIVE"}})
    assert refused.status_code == 422, refused.text
    assert error_fields(refused.json())[0]["loc"] == ["body", "brief_overrides", "sequel_of"]
    needs_replanning = writer.post(f"/narratives/{first['narrative_id']}/regenerate",
                                   json={"from_stage": "segment_planning",
                                         "brief_overrides": {"sequel_of": first["narrative_id"]}})
    assert needs_replanning.status_code == 422
