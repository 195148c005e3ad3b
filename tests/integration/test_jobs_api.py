"""Jobs API through real API Gateway events under moto: validation, ownership, quotas, idempotency,
cancel/resume rules. (The pipeline itself is exercised in tests/pipeline.)"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import error_code, error_fields, generations_used, register, writer_with_project


def brief(**overrides):
    return {"production_type": "short_story", "genre": "fantasy",
            "subject": "A wizard apprentice discovers forbidden magic", "style_instructions": "Dark tone",
            "target_length": 1500, "character_count": 3} | overrides


@pytest.fixture
def user(api):
    return writer_with_project(api, "Stories")


def test_create_returns_a_queued_job_with_estimate_and_execution(user):
    response = user.post("/jobs/", json={"project_id": user.project_id, "production_brief": brief()})
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] in ("QUEUED", "RUNNING", "COMPLETED", "FAILED")
    assert job["project_id"] == user.project_id
    assert job["production_brief"]["genre"] == "fantasy"
    assert job["estimated_cost_usd"] >= 0
    assert job["execution_arn"].endswith(f":{job['id']}")
    assert generations_used(user.user_id) == 1


def test_enums_in_any_case_are_accepted_and_answered_canonically(user):
    body = {"project_id": user.project_id,
            "production_brief": brief(production_type="SHORT_STORY", genre="SCI_FI")}
    job = user.post("/jobs", json=body).json()
    assert job["production_brief"]["production_type"] == "short_story"
    assert job["production_brief"]["genre"] == "sci_fi"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"genre": "western"}, "genre"),
    ({"production_type": "haiku"}, "production_type"),
    ({"subject": "short"}, "subject"),
    ({"target_length": 50}, "target_length"),
    ({"character_count": 0}, "character_count"),
    ({"character_count": 21}, "character_count"),
    ({"language": "xx"}, "language"),
    ({"style_instructions": "x" * 2001}, "style_instructions"),
])
def test_invalid_briefs_are_422_with_the_field(user, overrides, field):
    response = user.post("/jobs/", json={"project_id": user.project_id, "production_brief": brief(**overrides)})
    assert response.status_code == 422
    locs = [d["loc"] for d in response.json()["errors"]]
    assert any(field in loc for loc in locs), locs
    assert generations_used(user.user_id) == 0


def test_length_must_suit_the_production_type(user):
    response = user.post("/jobs/", json={"project_id": user.project_id,
                                         "production_brief": brief(production_type="novel", target_length=5000)})
    assert response.status_code == 422
    assert "between" in response.json()["errors"][0]["msg"]


def test_free_plan_refuses_long_briefs_with_403(user):
    response = user.post("/jobs/", json={"project_id": user.project_id,
                                         "production_brief": brief(production_type="novella", target_length=12000)})
    assert response.status_code == 403
    assert response.json()["max_target_length"] == 10000
    assert generations_used(user.user_id) == 0


def test_another_users_project_is_404_and_costs_nothing(api, user):
    other = api.as_user(register(api)["access_token"])
    response = other.post("/jobs/", json={"project_id": user.project_id, "production_brief": brief()})
    assert response.status_code == 404


def test_monthly_limit_is_403_with_limit_and_reset_date(user):
    for _ in range(5):
        assert user.post("/jobs/", json={"project_id": user.project_id, "production_brief": brief()}).status_code == 201
    refused = user.post("/jobs/", json={"project_id": user.project_id, "production_brief": brief()})
    assert refused.status_code == 403
    details = refused.json()
    assert details["limit"] == 5 and details["used"] == 5 and details["resets_at"]


def test_idempotency_key_replays_the_same_job_without_a_second_reservation(user):
    body = {"project_id": user.project_id, "production_brief": brief()}
    first = user.post("/jobs/", json=body, headers={"Idempotency-Key": "abc-123"})
    again = user.post("/jobs/", json=body, headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert generations_used(user.user_id) == 1
    other_body = {"project_id": user.project_id, "production_brief": brief(target_length=2000)}
    conflict = user.post("/jobs/", json=other_body, headers={"Idempotency-Key": "abc-123"})
    assert conflict.status_code == 422
    assert generations_used(user.user_id) == 1


def test_parallel_creations_never_exceed_the_quota(user, monkeypatch):
    # Only the reservation is under test: pipelines that finish (or fail and refund) meanwhile would
    # change the count, so no execution is started.
    monkeypatch.setattr("narraforge.services.executions.start", lambda job_id, user_id, retry: f"arn:x:{job_id}")
    body = {"project_id": user.project_id, "production_brief": brief()}

    def create(_: int) -> int:
        return user.post("/jobs/", json=body).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(create, range(50)))
    assert codes.count(201) == 5, codes
    assert codes.count(403) == 45, codes
    assert generations_used(user.user_id) == 5


def test_jobs_of_another_user_are_404_on_every_route(api, user):
    job_id = user.post("/jobs/", json={"project_id": user.project_id, "production_brief": brief()}).json()["id"]
    other = api.as_user(register(api)["access_token"])
    for method, path in [("GET", f"/jobs/{job_id}"), ("GET", f"/jobs/{job_id}/status"),
                         ("POST", f"/jobs/{job_id}/cancel"), ("POST", f"/jobs/{job_id}/resume")]:
        assert other.request(method, path).status_code == 404, path
    assert other.get("/jobs/").json()["total"] == 0


def test_list_filters_and_alias(user):
    ids = [user.post("/jobs/", json={"project_id": user.project_id, "production_brief": brief()}).json()["id"]
           for _ in range(2)]
    listed = user.get("/jobs/", params={"project_id": user.project_id}).json()
    assert [j["id"] for j in listed["items"]] == list(reversed(ids))
    user.post(f"/jobs/{ids[0]}/cancel")
    cancelled = user.get("/jobs/", params={"status": "cancelled"}).json()
    assert [j["id"] for j in cancelled["items"]] == [ids[0]]
    assert user.get("/jobs", params={"status_filter": "CANCELLED"}).json()["items"] == cancelled["items"]
    assert user.get("/jobs/", params={"status": "DONE"}).status_code == 422


def test_status_is_small_and_cancel_refunds_once(user):
    job_id = user.post("/jobs/", json={"project_id": user.project_id, "production_brief": brief()}).json()["id"]
    status = user.get(f"/jobs/{job_id}/status").json()
    assert set(status) >= {"id", "status", "progress_percentage", "current_stage", "can_resume"}
    assert "production_brief" not in status
    cancelled = user.post(f"/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "CANCELLED"
    assert cancelled.json()["can_resume"] is True
    assert generations_used(user.user_id) == 0
    assert user.post(f"/jobs/{job_id}/cancel").status_code == 409
    assert generations_used(user.user_id) == 0


def test_resume_only_from_failed_or_cancelled(user):
    job_id = user.post("/jobs/", json={"project_id": user.project_id, "production_brief": brief()}).json()["id"]
    user.post(f"/jobs/{job_id}/cancel")
    resumed = user.post(f"/jobs/{job_id}/resume")
    assert resumed.status_code == 200, resumed.text
    body = resumed.json()
    assert body["retry_count"] == 1
    assert body["execution_arn"].endswith(f":{job_id}-r1")
    assert generations_used(user.user_id) == 1
    assert user.post(f"/jobs/{job_id}/resume").status_code == 409


def test_malformed_job_bodies_are_422(user):
    for body in (None, [], {"project_id": user.project_id}, {"production_brief": brief()}):
        response = user.post("/jobs/", json=body) if body is not None else user.post("/jobs/", content=b"{")
        assert response.status_code == 422


def test_a_brief_takes_the_projects_default_type_and_genre(user):
    project = user.post("/projects/", json={"name": "Defaults", "default_genre": "horror",
                                            "default_production_type": "podcast_script"}).json()
    bare = {key: value for key, value in brief().items() if key not in ("genre", "production_type")}
    created = user.post("/jobs/", json={"project_id": project["id"], "production_brief": bare})
    assert created.status_code == 201, created.text
    assert created.json()["production_brief"]["genre"] == "horror"
    assert created.json()["production_brief"]["production_type"] == "podcast_script"
    own = user.post("/jobs/", json={"project_id": project["id"], "production_brief": {**bare, "genre": "comedy"}})
    assert own.status_code == 201, own.text
    assert own.json()["production_brief"]["genre"] == "comedy"  # the brief's own choice wins
    assert generations_used(user.user_id) == 2


def test_without_project_defaults_type_and_genre_are_required(user):
    bare = {key: value for key, value in brief().items() if key not in ("genre", "production_type")}
    response = user.post("/jobs/", json={"project_id": user.project_id, "production_brief": bare})
    assert response.status_code == 422, response.text
    fields = error_fields(response.json())
    assert {tuple(f["loc"]) for f in fields} == {("body", "production_brief", "genre"),
                                                ("body", "production_brief", "production_type")}
    assert {f["msg"] for f in fields} == {"Field required"}
    only_type = user.post("/projects/", json={"name": "Typed", "default_production_type": "novel"}).json()
    response = user.post("/jobs/", json={"project_id": only_type["id"], "production_brief": bare})
    assert [f["loc"] for f in error_fields(response.json())] == [["body", "production_brief", "genre"]]
    # The project's default type must suit the brief's length like a type given in the brief.
    response = user.post("/jobs/", json={"project_id": only_type["id"],
                                         "production_brief": {**bare, "genre": "drama"}})
    assert response.status_code == 422
    assert "between" in error_fields(response.json())[0]["msg"]
    assert generations_used(user.user_id) == 0


@pytest.fixture
def generation_limit_of_two(monkeypatch):
    from narraforge.config import reset_settings

    monkeypatch.setenv("RATE_LIMIT_GENERATION_PER_MINUTE", "2")
    left = 60 - time.time() % 60  # a minute boundary inside the test would reset the window: start early
    if left < 15:
        time.sleep(left + 0.1)
    reset_settings()
    yield
    reset_settings()


def test_refused_requests_do_not_use_up_the_generation_limit(user, generation_limit_of_two):
    bare = {key: value for key, value in brief().items() if key != "genre"}
    refused = [
        user.post("/jobs/", json={"project_id": user.project_id, "production_brief": brief(genre="western")}),
        user.post("/jobs/", json={"project_id": user.project_id, "production_brief": brief(subject="typo")}),
        user.post("/jobs/", json={"project_id": user.project_id, "production_brief": bare}),  # no default genre
        user.post("/jobs/", json={"project_id": "01NOSUCHPROJECT", "production_brief": brief()}),
    ]
    assert [r.status_code for r in refused] == [422, 422, 422, 404]
    assert all("ratelimit" not in r.headers for r in refused)
    body = {"project_id": user.project_id, "production_brief": brief()}
    accepted = [user.post("/jobs/", json=body) for _ in range(2)]
    assert [r.status_code for r in accepted] == [201, 201]
    assert accepted[0].headers["ratelimit-policy"] == "2;w=60"
    assert "remaining=1" in accepted[0].headers["ratelimit"]
    limited = user.post("/jobs/", json=body)
    assert limited.status_code == 429
    assert error_code(limited.json()) == "rate_limited" and int(limited.headers["retry-after"]) >= 1
    assert generations_used(user.user_id) == 2


def test_estimate_before_submitting_reserves_nothing(user, monkeypatch):
    """POST /jobs/estimate: the brief with the project's defaults, its expected cost and time, and whether
    the plan allows it — nothing reserved, no job, no generation used."""
    from narraforge.config import reset_settings

    offline = user.post("/jobs/estimate", json={"project_id": user.project_id, "production_brief": brief()})
    assert offline.status_code == 200, offline.text
    body = offline.json()
    assert body["engine"] == "offline" and body["estimated_cost_usd"] == 0 and body["within_plan"] is True
    assert body["estimated_seconds"] > 0 and "offline" in body["assumptions"]
    assert user.get("/jobs/").json()["total"] == 0 and user.get("/auth/me").json()["monthly_generations_used"] == 0

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    reset_settings()
    short, long = (user.post("/jobs/estimate", json={"project_id": user.project_id,
                                                    "production_brief": brief(target_length=n)}).json()
                   for n in (1000, 9000))
    assert short["engine"] == "openai" and 0 < short["estimated_cost_usd"] < long["estimated_cost_usd"]
    assert 0 < short["model_calls"] < long["model_calls"] and short["completion_tokens"] < long["completion_tokens"]
    assert short["estimated_seconds"] > 0 and "tokens/s" in short["assumptions"]
    too_long = user.post("/jobs/estimate", json={"project_id": user.project_id,
                                                 "production_brief": brief(production_type="novel",
                                                                           target_length=40000)}).json()
    assert too_long["within_plan"] is False  # FREE briefs stop at 10,000 words

    monkeypatch.setenv("NARRAFORGE_PROSE_MODEL", "house-model-7b")
    reset_settings()
    unknown = user.post("/jobs/estimate", json={"project_id": user.project_id, "production_brief": brief()}).json()
    assert unknown["estimated_cost_usd"] is None and unknown["unpriced_models"] == ["house-model-7b"]
    missing = user.post("/jobs/estimate", json={"project_id": "01J0000000000000000000000",
                                                "production_brief": brief()})
    assert missing.status_code == 404
    invalid = user.post("/jobs/estimate", json={"project_id": user.project_id,
                                                "production_brief": brief(subject="short")})
    assert invalid.status_code == 422
