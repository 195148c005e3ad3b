"""A project's world over HTTP on the local stack (`make run`'s code): created, read with its ETag, patched,
listed by version; a stale ETag answers 412 and, of writers racing with the same ETag, exactly one lands."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

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
