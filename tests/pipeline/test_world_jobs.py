"""Stories use their project's world, through the real handlers and the real ASL under moto (issue 14, item 2):
a job reads the world version current when it started and records it; a regeneration that reuses stage 2 reads
that same version, never a newer one; featured characters must be characters of the world (422 otherwise)."""

from __future__ import annotations

from typing import Any

from narraforge.data.models import JobItem

from tests.helpers import error_code, error_fields, wait_for_execution
from tests.pipeline.conftest import run_job, short_brief

WORLD: dict[str, Any] = {
    "summary": "A drowned archipelago where magic is paid for in memories.",
    "places": [{"name": "Saltmere", "kind": "city", "description": "A port built on sunken towers"},
               {"name": "The Glass Reef", "description": "A singing reef of green glass"}],
    "rules": [{"name": "Memory price", "domain": "magic", "locked": True,
               "description": "Every spell costs the caster a memory"}],
    "characters": [
        {"name": "Mira Vell", "location": "Saltmere", "knows": ["The tide-clock is broken"],
         "relationships": [{"to": "Oren Vell", "kind": "brother"}]},
        {"name": "Oren Vell", "status": "dead", "location": "The Glass Reef"},
    ],
}
BRIEF = short_brief(genre="fantasy", subject="A tide-reader learns what the sea took from her family",
                    target_length=900, character_count=2)


def test_a_job_in_a_project_with_a_world_tells_a_story_of_that_world(writer, provider):
    world_url = f"/projects/{writer.project_id}/world"
    assert writer.put(world_url, json=WORLD).status_code == 201
    job = run_job(writer, BRIEF | {"featured_characters": ["Mira Vell"]})
    narrative = writer.get(f"/narratives/{job['narrative_id']}").json()
    metadata = narrative["narrative_metadata"]
    assert metadata["world_version"] == 1
    assert metadata["characters"][0]["name"] == "Mira Vell"
    assert "Oren Vell" not in [c["name"] for c in metadata["characters"]]
    assert "Mira" in narrative["narrative_text"]
    assert metadata["world"]["rules"][0] == "Every spell costs the caster a memory"
    assert {p["name"] for p in metadata["world"]["places"]} == {"Saltmere", "The Glass Reef"}
    assert JobItem.get(*JobItem.key(writer.user_id, job["id"])).world_version == 1

    # A later version says Mira is dead (each finished story may also have written a version back): a
    # regeneration that reuses stage 2 still reads version 1; a new job reads the head when it starts.
    died = {**WORLD, "characters": [{**WORLD["characters"][0], "status": "dead"}, WORLD["characters"][1]]}
    etag = writer.get(world_url).headers["etag"]
    assert writer.put(world_url, json=died, headers={"If-Match": etag}).status_code == 200
    regen = writer.post(f"/narratives/{job['narrative_id']}/regenerate",
                        json={"from_stage": "character_architecture"})
    assert regen.status_code == 202, regen.text
    assert wait_for_execution(regen.json()["execution_arn"])["status"] == "SUCCEEDED"
    again = writer.get(f"/narratives/{job['narrative_id']}").json()["narrative_metadata"]
    assert again["world_version"] == 1 and again["characters"][0]["name"] == "Mira Vell"
    head = writer.get(world_url)
    later = run_job(writer, BRIEF)
    fresh = writer.get(f"/narratives/{later['narrative_id']}").json()["narrative_metadata"]
    assert fresh["world_version"] == int(head.headers["etag"].strip('"')) > 1
    dead = {c["name"] for c in head.json()["characters"] if c["status"] == "dead"}
    assert "Mira Vell" in dead and not dead & {c["name"] for c in fresh["characters"]}


def test_featured_characters_must_be_characters_of_the_world(writer, provider):
    def post(featured: list[str]):
        return writer.post("/jobs/", json={"project_id": writer.project_id,
                                           "production_brief": BRIEF | {"featured_characters": featured}})

    without_world = post(["Mira Vell"])
    assert without_world.status_code == 422 and error_code(without_world.json()) == "validation_error"
    assert [e["loc"] for e in error_fields(without_world.json())] == [
        ["body", "production_brief", "featured_characters", 0]]
    writer.put(f"/projects/{writer.project_id}/world", json=WORLD)
    unknown = post(["mira vell", "Nobody Known"])
    assert unknown.status_code == 422
    assert [e["loc"] for e in error_fields(unknown.json())] == [["body", "production_brief", "featured_characters", 1]]
    too_many = post(["Mira Vell", "Oren Vell", "Mira Vell"])
    assert too_many.status_code == 422  # more featured characters than character_count
    assert provider.calls == 0  # nothing was started
