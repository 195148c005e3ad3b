"""A project's world over HTTP on the local stack (`make run`'s code): created, read with its ETag, patched,
listed by version; a stale ETag answers 412 and, of writers racing with the same ETag, exactly one lands."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.accounts import bearer, wait_until_finished
from tests.helpers import error_code, register

pytestmark = pytest.mark.e2e


def test_world_happy_path_and_a_stale_write(http, stack_url):
    auth = register(http)
    headers = {"Authorization": f"Bearer {auth['access_token']}"}
    project_id = http.post("/projects/", json={"name": "Series"}, headers=headers).json()["id"]
    url = f"/projects/{project_id}/world"

    assert http.get(url, headers=headers).status_code == 404
    created = http.put(url, headers=headers, json={
        "places": [{"name": "Saltmere"}],
        "rules": [{"name": "Memory price", "domain": "magic", "locked": True}],
        "characters": [{"name": "Mira Vell", "location": "Saltmere"}],
    })
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'

    patched = http.patch(url, content=b'{"summary": "After the flood"}',
                         headers={**headers, "Content-Type": "application/merge-patch+json", "If-Match": '"1"'})
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] == '"2"'
    assert patched.json()["rules"][0]["locked"] is True

    stale = http.put(url, json={"summary": "Lost"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412 and error_code(stale.json()) == "precondition_failed"

    def write(n: int) -> int:
        with httpx.Client(base_url=stack_url, timeout=30) as client:
            return client.put(url, json={"summary": f"Writer {n}"}, headers={**headers, "If-Match": '"2"'}).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(write, range(4)))
    assert statuses == [200, 412, 412, 412]

    current = http.get(url, headers=headers)
    assert current.headers["etag"] == '"3"' and current.json()["summary"].startswith("Writer ")
    versions = http.get(f"{url}/versions", headers=headers).json()
    assert [v["version"] for v in versions["items"]] == [3, 2, 1]
    assert http.get(url, params={"version": 1}, headers=headers).json()["summary"] == ""

    preflight = http.options(url, headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "PUT",
                                           "Access-Control-Request-Headers": "authorization,if-match"})
    assert "If-Match" in preflight.headers["access-control-allow-headers"].split(",")


def test_a_series_over_http_a_story_a_death_and_a_sequel(http):
    """The first story writes the project's first world; the writer kills one of its characters; the sequel,
    posted as soon as the first job is COMPLETED (retried on 409 while its world update runs), follows the
    survivors and never casts the dead. Another writer sees neither the world nor the story."""
    headers = bearer(register(http)["access_token"])
    project_id = http.post("/projects/", json={"name": "Series"}, headers=headers).json()["id"]
    brief = {"production_type": "short_story", "genre": "mystery", "target_length": 600, "character_count": 3,
             "subject": "A lighthouse keeper's apprentice finds the lamp lit by someone else"}
    first = http.post("/jobs/", json={"project_id": project_id, "production_brief": brief}, headers=headers).json()
    story = wait_until_finished(http, headers, first["id"])
    assert story["status"] == "COMPLETED"

    def sequel() -> httpx.Response:
        for _ in range(60):
            posted = http.post("/jobs/", headers=headers, json={"project_id": project_id, "production_brief": {
                **brief, "subject": "The apprentice follows the stranger's boat", "sequel_of": story["narrative_id"]}})
            if posted.status_code != 409:
                return posted
            time.sleep(float(posted.headers["retry-after"]) / 10)
        raise AssertionError("the first story's world update never landed")

    # Before the sequel: the world exists (the first story wrote it) and the writer kills its second character.
    for _ in range(100):
        world = http.get(f"/projects/{project_id}/world", headers=headers)
        if world.status_code == 200:
            break
        time.sleep(0.1)
    first_cast = [c["name"] for c in http.get(f"/narratives/{story['narrative_id']}", headers=headers)
                  .json()["narrative_metadata"]["characters"]]
    victim = first_cast[1]
    killed = http.patch(f"/projects/{project_id}/world", headers={
        **headers, "Content-Type": "application/merge-patch+json", "If-Match": world.headers["etag"]},
        json={"characters": [c | {"status": "dead"} if c["name"] == victim else c
                             for c in world.json()["characters"]]})
    assert killed.status_code == 200, killed.text

    posted = sequel()
    assert posted.status_code == 201, posted.text
    second = wait_until_finished(http, headers, posted.json()["id"])
    assert second["status"] == "COMPLETED"
    metadata = http.get(f"/narratives/{second['narrative_id']}", headers=headers).json()["narrative_metadata"]
    cast = [c["name"] for c in metadata["characters"]]
    assert victim not in cast and cast[0] == first_cast[0]
    assert metadata["world"]["prequel"]["narrative_id"] == story["narrative_id"]
    assert metadata["continuity_violations"]["checked"] is True

    stranger = bearer(register(http)["access_token"])
    assert http.get(f"/projects/{project_id}/world", headers=stranger).status_code == 404
    theirs = http.post("/projects/", json={"name": "Mine"}, headers=stranger).json()["id"]
    borrowed = http.post("/jobs/", headers=stranger, json={"project_id": theirs, "production_brief": {
        **brief, "sequel_of": story["narrative_id"]}})
    assert borrowed.status_code == 422 and error_code(borrowed.json()) == "validation_error"
