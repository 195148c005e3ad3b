"""The newcomer's journey and the attacks on it, over HTTP against the local stack."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.helpers import PASSWORD, register, unique_email


def bearer(auth: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth['access_token']}"}


def test_docs_and_health_are_served(http):
    assert http.get("/docs").status_code == 200
    assert http.get("/redoc").status_code == 200
    assert "/projects/" in http.get("/openapi.json").json()["paths"]
    ready = http.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert http.get("/v1/health/live").status_code == 200  # the stage path works too


def test_register_login_and_manage_projects(http):
    email = unique_email("journey")
    auth = register(http, email)
    login = http.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    headers = bearer(login.json())
    created = http.post("/projects/", json={"name": "First project"}, headers=headers)
    assert created.status_code == 201
    pid = created.json()["id"]
    assert http.put(f"/projects/{pid}", json={"description": "d"}, headers=headers).json()["description"] == "d"
    assert http.get("/projects", headers=headers).json()["total"] == 1
    assert http.delete(f"/projects/{pid}", headers=headers).status_code == 204
    assert http.get("/auth/me", headers=bearer(auth)).json()["email"] == email


def test_two_users_cannot_see_each_other(http):
    alice, bob = register(http), register(http)
    pid = http.post("/projects/", json={"name": "Alice's"}, headers=bearer(alice)).json()["id"]
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        kwargs = {"json": {"name": "x"}} if method in ("PUT", "PATCH") else {}
        response = http.request(method, f"/projects/{pid}", headers=bearer(bob), **kwargs)
        assert response.status_code == 404, method
        assert "Alice" not in response.text
    assert http.get(f"/projects/{pid}", headers=bearer(alice)).status_code == 200


def test_tampered_token_and_refresh_reuse(http):
    auth = register(http)
    head, payload, signature = auth["access_token"].split(".")
    tampered = f"{head}.{payload[:-3]}AAA.{signature}"
    response = http.get("/auth/me", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert http.get("/auth/me").status_code == 401

    rotated = http.post("/auth/refresh", json={"refresh_token": auth["refresh_token"]})
    assert rotated.status_code == 200
    assert http.post("/auth/refresh", json={"refresh_token": auth["refresh_token"]}).status_code == 401
    assert http.get("/auth/me", headers=bearer(rotated.json())).status_code == 401


def test_parallel_registrations_of_one_email_have_one_winner(http, stack_url):
    email = unique_email("race")

    def attempt(_: int) -> int:
        with httpx.Client(base_url=stack_url, timeout=30) as client:
            return client.post("/auth/register", json={"email": email, "password": PASSWORD}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(attempt, range(50)))
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 49, codes


def test_pagination_across_pages(http):
    headers = bearer(register(http))
    for i in range(5):
        http.post("/projects/", json={"name": f"N{i}"}, headers=headers)
    first = http.get("/projects/", params={"page_size": 2}, headers=headers).json()
    second = http.get("/projects/", params={"page_size": 2, "cursor": first["next_cursor"]}, headers=headers).json()
    by_page = http.get("/projects/", params={"page_size": 2, "page": 2}, headers=headers).json()
    assert [p["name"] for p in first["items"]] == ["N4", "N3"]
    assert second["items"] == by_page["items"]
    assert first["total_pages"] == 3


def test_malformed_bodies_are_4xx_never_500(http):
    headers = bearer(register(http))
    samples = [b"{", b"null", b"[]", b'{"name": 1e999}', b"\xff\xfe", b'{"name": "\\ud800"}']
    for body in samples:
        for path in ("/projects/", "/auth/register", "/auth/login", "/auth/refresh"):
            response = http.post(path, content=body, headers={**headers, "Content-Type": "application/json"})
            assert 400 <= response.status_code < 500, (path, body, response.status_code, response.text)
            assert response.json()["code"]
