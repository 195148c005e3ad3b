"""Projects through real API Gateway events into the projects function's handler, under moto."""

from __future__ import annotations

import pytest

from tests.helpers import register


@pytest.fixture
def alice(api):
    return api.as_user(register(api)["access_token"])


@pytest.fixture
def bob(api):
    return api.as_user(register(api)["access_token"])


def test_create_get_update_delete(alice):
    created = alice.post("/projects/", json={"name": "My Fantasy World", "description": "Stories",
                                             "default_genre": "FANTASY", "default_production_type": "short_story"})
    assert created.status_code == 201
    project = created.json()
    assert project["default_genre"] == "fantasy"
    assert project["narrative_count"] == 0 and project["total_cost_usd"] == 0

    fetched = alice.get(f"/projects/{project['id']}")
    assert fetched.json() == project

    updated = alice.put(f"/projects/{project['id']}", json={"description": "New"}).json()
    assert updated["description"] == "New"
    assert updated["name"] == "My Fantasy World"  # not sent, not changed

    patched = alice.patch(f"/projects/{project['id']}", json={"name": "Renamed", "description": None}).json()
    assert patched["name"] == "Renamed" and patched["description"] is None

    assert alice.delete(f"/projects/{project['id']}").status_code == 204
    assert alice.get(f"/projects/{project['id']}").status_code == 404
    assert alice.delete(f"/projects/{project['id']}").status_code == 404


def test_both_slash_forms_are_served_without_redirect(alice):
    assert alice.post("/projects", json={"name": "No slash"}).status_code == 201
    listed = alice.get("/projects")
    assert listed.status_code == 200
    assert listed.json()["total"] == 1
    assert alice.get("/projects/").json()["items"] == listed.json()["items"]


def test_counters_and_owner_are_not_client_writable(alice):
    created = alice.post("/projects/", json={"name": "P", "user_id": "someone", "narrative_count": 9,
                                             "total_cost_usd": 5, "id": "mine"}).json()
    assert created["narrative_count"] == 0 and created["total_cost_usd"] == 0 and created["id"] != "mine"
    me = alice.get("/auth/me").json()
    assert created["user_id"] == me["id"]
    updated = alice.put(f"/projects/{created['id']}", json={"user_id": "x", "total_word_count": 7}).json()
    assert updated["user_id"] == me["id"] and updated["total_word_count"] == 0


def test_another_users_project_is_404_on_every_verb(alice, bob):
    project = alice.post("/projects/", json={"name": "Secret"}).json()
    pid = project["id"]
    assert bob.get(f"/projects/{pid}").status_code == 404
    assert bob.put(f"/projects/{pid}", json={"name": "Mine now"}).status_code == 404
    assert bob.patch(f"/projects/{pid}", json={"name": "Mine now"}).status_code == 404
    assert bob.delete(f"/projects/{pid}").status_code == 404
    assert bob.get("/projects/").json()["total"] == 0
    assert alice.get(f"/projects/{pid}").json()["name"] == "Secret"


def test_pagination_by_page_and_by_cursor_newest_first(alice):
    names = [f"P{i:02d}" for i in range(7)]
    for name in names:
        assert alice.post("/projects/", json={"name": name}).status_code == 201
    newest_first = list(reversed(names))

    page2 = alice.get("/projects/", params={"page": 2, "page_size": 3}).json()
    assert [p["name"] for p in page2["items"]] == newest_first[3:6]
    assert page2["total"] == 7 and page2["total_pages"] == 3 and page2["page"] == 2

    seen, cursor = [], None
    while True:
        params = {"page_size": 3} | ({"cursor": cursor} if cursor else {})
        body = alice.get("/projects/", params=params).json()
        seen += [p["name"] for p in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == newest_first

    beyond = alice.get("/projects/", params={"page": 5, "page_size": 3}).json()
    assert beyond["items"] == [] and beyond["next_cursor"] is None


def test_cursor_is_signed_and_bound_to_its_listing(alice, bob):
    for i in range(3):
        alice.post("/projects/", json={"name": f"P{i}"})
    cursor = alice.get("/projects/", params={"page_size": 1}).json()["next_cursor"]
    assert cursor
    assert bob.get("/projects/", params={"cursor": cursor}).status_code == 422
    forged = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    assert alice.get("/projects/", params={"cursor": forged}).status_code == 422


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 201}, {"name": "ok", "default_genre": "western"},
     {"name": "ok", "default_production_type": 3}, ["not", "an", "object"]],
)
def test_invalid_project_bodies_are_422(alice, body):
    response = alice.post("/projects/", json=body)
    assert response.status_code == 422
    assert response.json()["errors"]


@pytest.mark.parametrize("params", [{"page": 0}, {"page_size": 101}, {"page_size": "many"}])
def test_invalid_list_parameters_are_422(alice, params):
    assert alice.get("/projects/", params=params).status_code == 422


def test_overlong_ids_are_422_and_unknown_ids_404(alice):
    assert alice.get("/projects/" + "x" * 65).status_code == 422
    assert alice.get("/projects/01JUNKNOWN0000000000000000").status_code == 404


def test_oversized_body_is_413(alice):
    response = alice.post("/projects/", content=b'{"name": "' + b"x" * 1_100_000 + b'"}',
                          headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
