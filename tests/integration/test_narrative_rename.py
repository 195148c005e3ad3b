"""PATCH /narratives/{id} (the Studio's rename) through real API Gateway events into the narratives function."""

from __future__ import annotations

import pytest

from tests.helpers import error_code, error_fields
from tests.integration.test_exports import make_narrative, make_user


def test_owner_renames_and_every_read_shows_the_new_title(api):
    owner = make_user(api)
    narrative_id = make_narrative(owner.id, title="Old title")

    renamed = owner.client.patch(f"/narratives/{narrative_id}", json={"title": "  The Lighthouse Letters  "})

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["title"] == "The Lighthouse Letters"
    assert renamed.json()["id"] == narrative_id
    assert owner.client.get(f"/narratives/{narrative_id}").json()["title"] == "The Lighthouse Letters"
    listed = owner.client.get("/narratives").json()["items"]
    assert [item["title"] for item in listed] == ["The Lighthouse Letters"]


def test_another_users_narrative_is_not_found_and_keeps_its_title(api):
    owner, other = make_user(api), make_user(api)
    narrative_id = make_narrative(owner.id, title="Mine")

    response = other.client.patch(f"/narratives/{narrative_id}", json={"title": "Stolen"})

    assert response.status_code == 404
    assert error_code(response.json()) == "not_found"
    assert owner.client.get(f"/narratives/{narrative_id}").json()["title"] == "Mine"


def test_unknown_narrative_is_not_found(api):
    owner = make_user(api)
    assert owner.client.patch("/narratives/01HZZZZZZZZZZZZZZZZZZZZZZZ", json={"title": "x"}).status_code == 404


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_blank_or_too_long_title_is_a_field_error(api, title):
    owner = make_user(api)
    narrative_id = make_narrative(owner.id, title="Kept")

    response = owner.client.patch(f"/narratives/{narrative_id}", json={"title": title})

    assert response.status_code == 422
    assert ["body", "title"] in [error["loc"] for error in error_fields(response.json())]
    assert owner.client.get(f"/narratives/{narrative_id}").json()["title"] == "Kept"
