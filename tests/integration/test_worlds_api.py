"""A project's world through real API Gateway events into the projects function's handler, under moto:
versions as ETags, optimistic concurrency (428 without If-Match, 412 when stale, one winner of two writers),
ownership, validation with field locations, versions, locks, and deletion with the project."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from tests.helpers import error_code, error_fields, register

MERGE_PATCH = {"content-type": "application/merge-patch+json"}

WORLD = {
    "summary": "A drowned archipelago where magic is paid for in memories.",
    "places": [{"name": "Saltmere", "kind": "city", "description": "A port built on sunken towers"},
               {"name": "The Glass Reef"}],
    "rules": [{"name": "Memory price", "domain": "magic", "locked": True,
               "description": "Every spell costs the caster a memory"}],
    "history": [{"name": "The Drowning", "when": "Year 0"}],
    "factions": [{"name": "Tide Wardens"}],
    "glossary": [{"name": "tide-clock", "description": "The city's flood warning"}],
    "characters": [
        {"name": "Mira Vell", "location": "Saltmere", "knows": ["The tide-clock is broken"],
         "relationships": [{"to": "Oren Vell", "kind": "brother"}]},
        {"name": "Oren Vell", "status": "dead", "location": "The Glass Reef"},
    ],
}


@pytest.fixture
def alice(api):
    client = api.as_user(register(api)["access_token"])
    client.project_id = client.post("/projects/", json={"name": "Archipelago"}).json()["id"]
    return client


@pytest.fixture
def bob(api):
    return api.as_user(register(api)["access_token"])


def world_url(client) -> str:
    return f"/projects/{client.project_id}/world"


def create_world(client, world: dict | None = None) -> dict:
    created = client.put(world_url(client), json=world or WORLD)
    assert created.status_code == 201, created.text
    return created.json()


def names(document: dict, section: str) -> list[str]:
    return [entry["name"] for entry in document[section]]


def test_no_world_yet_then_created_with_put_and_read_with_its_etag(alice):
    missing = alice.get(world_url(alice))
    assert missing.status_code == 404 and error_code(missing.json()) == "not_found"

    created = alice.put(world_url(alice), json=WORLD)
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == world_url(alice)
    body = created.json()
    ids = [entry["id"] for section in ("places", "rules", "history", "factions", "glossary", "characters")
           for entry in body[section]]
    assert len(ids) == 8 and len(set(ids)) == 8 and all(ids)
    assert body["characters"][1]["status"] == "dead" and body["characters"][0]["status"] == "alive"

    read = alice.get(world_url(alice))
    assert read.status_code == 200 and read.headers["etag"] == '"1"'
    assert read.json() == body


def test_an_update_needs_the_current_etag_428_without_412_when_stale(alice):
    create_world(alice)
    changed = {**WORLD, "summary": "After the flood"}

    missing = alice.put(world_url(alice), json=changed)
    assert missing.status_code == 428 and error_code(missing.json()) == "precondition_required"
    wildcard = alice.put(world_url(alice), json=changed, headers={"If-Match": "*"})
    assert wildcard.status_code == 428  # `*` says nothing about which version the change is based on
    create_only = alice.put(world_url(alice), json=changed, headers={"If-None-Match": "*"})
    assert create_only.status_code == 412

    updated = alice.put(world_url(alice), json=changed, headers={"If-Match": '"1"'})
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] == '"2"' and updated.json()["summary"] == "After the flood"

    stale = alice.put(world_url(alice), json={**WORLD, "summary": "Lost update"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and error_code(stale.json()) == "precondition_failed"
    weak = alice.put(world_url(alice), json={**WORLD, "summary": "Weak"}, headers={"If-Match": 'W/"2"'})
    assert weak.status_code == 412  # If-Match compares strongly
    assert alice.get(world_url(alice)).json()["summary"] == "After the flood"
    assert alice.get(world_url(alice)).headers["etag"] == '"2"'


def test_patch_is_a_json_merge_patch_with_if_match(alice):
    created = create_world(alice)
    mira_id = created["characters"][0]["id"]
    patch = {"summary": None, "characters": [{"id": mira_id, "name": "Mira Vell", "status": "dead",
                                              "location": "The Glass Reef"}]}

    assert alice.patch(world_url(alice), json=patch, headers=MERGE_PATCH).status_code == 428
    wrong_type = alice.patch(world_url(alice), json=patch, headers={"If-Match": '"1"'})  # application/json
    assert wrong_type.status_code == 415 and wrong_type.headers["accept-patch"] == "application/merge-patch+json"

    patched = alice.patch(world_url(alice), json=patch, headers={**MERGE_PATCH, "If-Match": '"1"'})
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] == '"2"'
    body = patched.json()
    assert body["summary"] == ""  # removed by null: back to its default
    assert body["characters"] == [{**patch["characters"][0], "description": "", "locked": False,
                                   "relationships": [], "knows": [], "story_states": []}]  # arrays are replaced whole
    assert body["places"] == created["places"] and body["rules"] == created["rules"]  # untouched sections kept

    stale = alice.patch(world_url(alice), json={"summary": "x"}, headers={**MERGE_PATCH, "If-Match": '"1"'})
    assert stale.status_code == 412


def test_patch_without_a_world_is_404(alice):
    response = alice.patch(world_url(alice), json={"summary": "x"}, headers=MERGE_PATCH)
    assert response.status_code == 404


def test_two_writers_with_the_same_etag_exactly_one_wins(alice, monkeypatch):
    """Both requests pass the early precondition check before either writes (a barrier holds each one at its
    S3 put until the other arrives); the conditional pointer write lets exactly one of them land."""
    from narraforge.data import worlds as store

    create_world(alice)
    barrier = threading.Barrier(2)
    real_client = store.s3_client

    class HeldS3:
        def __init__(self, s3):
            self._s3 = s3

        def put_object(self, **kwargs):
            barrier.wait(timeout=30)
            return self._s3.put_object(**kwargs)

        def __getattr__(self, name):
            return getattr(self._s3, name)

    monkeypatch.setattr(store, "s3_client", lambda: HeldS3(real_client()))

    def write(summary: str):
        return alice.put(world_url(alice), json={**WORLD, "summary": summary}, headers={"If-Match": '"1"'})

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(write, ["Writer A", "Writer B"]))
    monkeypatch.setattr(store, "s3_client", real_client)

    assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200)
    loser = next(r for r in results if r.status_code == 412)
    assert error_code(loser.json()) == "precondition_failed"
    current = alice.get(world_url(alice))
    assert current.headers["etag"] == '"2"' and current.json()["summary"] == winner.json()["summary"]
    versions = alice.get(f"{world_url(alice)}/versions").json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    # The loser's object was never pointed at and is gone: one object per version remains.
    s3 = boto3.client("s3", region_name="us-east-1")
    listed = s3.list_object_versions(Bucket="narraforge-test", Prefix=f"worlds/{alice.project_id}/")
    assert len(listed.get("Versions", [])) == 2 and not listed.get("DeleteMarkers")


def test_another_users_project_is_404_on_every_world_route(alice, bob):
    create_world(alice)
    url = world_url(alice)
    assert bob.get(url).status_code == 404
    assert bob.get(url, params={"version": 1}).status_code == 404
    assert bob.get(f"{url}/versions").status_code == 404
    assert bob.put(url, json=WORLD).status_code == 404
    assert bob.put(url, json=WORLD, headers={"If-Match": '"1"'}).status_code == 404
    assert bob.patch(url, json={"summary": "mine"}, headers={**MERGE_PATCH, "If-Match": '"1"'}).status_code == 404
    assert bob.patch(url, json={"summary": "mine"}).status_code == 404  # ownership before the body's type
    mine = alice.get(url)
    assert mine.headers["etag"] == '"1"' and mine.json()["summary"] == WORLD["summary"]


def test_invalid_worlds_are_422_with_each_field_located(alice):
    bad = {
        "places": [{"name": "Saltmere"}, {"name": "saltmere"}, {"name": ""}],
        "rules": [{"name": "Law", "domain": "alchemy"}],
        "characters": [{"name": "Mira", "status": "asleep", "colour": "blue"}],
    }
    response = alice.put(world_url(alice), json=bad)
    assert response.status_code == 422
    locations = {tuple(field["loc"]) for field in error_fields(response.json())}
    assert {("body", "places", 2, "name"), ("body", "rules", 0, "domain"), ("body", "characters", 0, "status"),
            ("body", "characters", 0, "colour")} <= locations

    rules_across_entries = {
        "places": [{"name": "Saltmere"}, {"name": "saltmere "}],
        "characters": [{"name": "Mira", "location": "Atlantis", "relationships": [{"to": "Nobody", "kind": "x"}]},
                       {"id": "same", "name": "A"}, {"id": "same", "name": "B"}],
    }
    response = alice.put(world_url(alice), json=rules_across_entries)
    assert response.status_code == 422
    fields = {tuple(field["loc"]): field["type"] for field in error_fields(response.json())}
    assert fields == {("body", "places", 1, "name"): "duplicate_name",
                      ("body", "characters", 0, "location"): "unknown_place",
                      ("body", "characters", 0, "relationships", 0, "to"): "unknown_character",
                      ("body", "characters", 2, "id"): "duplicate_id"}
    assert alice.get(world_url(alice)).status_code == 404  # nothing was written

    create_world(alice)
    patched = alice.patch(world_url(alice), json={"characters": [{"name": "Mira", "status": "asleep"}]},
                          headers={**MERGE_PATCH, "If-Match": '"1"'})
    assert patched.status_code == 422
    assert ["body", "characters", 0, "status"] in [field["loc"] for field in error_fields(patched.json())]
    not_json = alice.request("PATCH", world_url(alice), content=b"{not json",
                             headers={**MERGE_PATCH, "If-Match": '"1"'})
    assert not_json.status_code == 422
    assert alice.get(world_url(alice)).headers["etag"] == '"1"'


def test_a_world_over_its_size_cap_is_refused(alice):
    """150 places of 3,900 characters: about 600 KB, under the request body limit (1 MiB) but over the
    world's 512 KiB."""
    places = [{"name": f"Place {i}", "description": "x" * 3900} for i in range(150)]
    response = alice.put(world_url(alice), json={"places": places})
    assert response.status_code == 422
    [field] = error_fields(response.json())
    assert field["loc"] == ["body"] and field["type"] == "too_large"
    assert alice.put(world_url(alice), json={"places": places[:100]}).status_code == 201


def test_versions_newest_first_paginated_and_an_old_version_read(alice):
    create_world(alice)
    for version, summary in ((1, "Second"), (2, "Third")):
        response = alice.put(world_url(alice), json={**WORLD, "summary": summary},
                             headers={"If-Match": f'"{version}"'})
        assert response.status_code == 200

    first_page = alice.get(f"{world_url(alice)}/versions", params={"page_size": 2}).json()
    assert [v["version"] for v in first_page["items"]] == [3, 2]
    assert first_page["total"] == 3 and first_page["next_cursor"]
    assert first_page["items"][0]["entry_counts"] == {"places": 2, "rules": 1, "history": 1, "factions": 1,
                                                      "glossary": 1, "characters": 2}
    assert first_page["items"][0]["entries"] == 8
    assert first_page["items"][0]["updated_by"].startswith("user:")
    rest = alice.get(f"{world_url(alice)}/versions",
                     params={"page_size": 2, "cursor": first_page["next_cursor"]}).json()
    assert [v["version"] for v in rest["items"]] == [1] and rest["next_cursor"] is None
    assert [v["version"] for v in alice.get(f"{world_url(alice)}/versions",
                                            params={"page": 2, "page_size": 2}).json()["items"]] == [1]

    old = alice.get(world_url(alice), params={"version": 1})
    assert old.status_code == 200 and old.headers["etag"] == '"1"'
    assert old.json()["summary"] == WORLD["summary"]
    assert alice.get(world_url(alice)).json()["summary"] == "Third"
    assert alice.get(world_url(alice), params={"version": 4}).status_code == 404


def test_locked_flags_and_entry_ids_survive_rewrites(alice):
    created = create_world(alice)
    assert [entry["locked"] for entry in created["rules"]] == [True]
    assert all(not entry["locked"] for entry in created["places"] + created["characters"])

    # A client that sends no ids (and reorders) keeps each entry's id by its name.
    rewritten = {**WORLD, "places": list(reversed(WORLD["places"]))}
    updated = alice.put(world_url(alice), json=rewritten, headers={"If-Match": '"1"'}).json()
    assert {p["name"]: p["id"] for p in updated["places"]} == {p["name"]: p["id"] for p in created["places"]}
    assert updated["rules"][0]["locked"] is True and updated["rules"][0]["id"] == created["rules"][0]["id"]

    unlocked = alice.patch(world_url(alice), json={"rules": [{**created["rules"][0], "locked": False}]},
                           headers={**MERGE_PATCH, "If-Match": '"2"'}).json()
    assert unlocked["rules"][0]["locked"] is False
    assert alice.get(world_url(alice), params={"version": 2}).json()["rules"][0]["locked"] is True


def test_deleting_the_project_deletes_its_world(alice):
    from narraforge.data import keys
    from narraforge.data.base import BaseItem

    create_world(alice)
    assert alice.put(world_url(alice), json=WORLD, headers={"If-Match": '"1"'}).status_code == 200
    s3 = boto3.client("s3", region_name="us-east-1")
    prefix = f"worlds/{alice.project_id}/"
    assert len(s3.list_object_versions(Bucket="narraforge-test", Prefix=prefix).get("Versions", [])) == 2
    assert len(list(BaseItem.query(keys.world_pk(alice.project_id)))) == 3  # head and two versions

    assert alice.delete(f"/projects/{alice.project_id}").status_code == 204
    listed = s3.list_object_versions(Bucket="narraforge-test", Prefix=prefix)
    assert not listed.get("Versions") and not listed.get("DeleteMarkers")
    assert list(BaseItem.query(keys.world_pk(alice.project_id))) == []
    assert alice.get(world_url(alice)).status_code == 404
