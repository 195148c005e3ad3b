"""Domain errors reach a client through the API's one table, through the functions' real handlers: each answers
its status and code as a problem; a job-ending error that strays into the API is a 500, as any bug."""

from __future__ import annotations

import pytest
from narraforge.api.resolver import HTTP_PROBLEMS
from narraforge.errors import JobCancelled, RateLimited, Unauthorized

from tests.helpers import error_code, error_detail, register


@pytest.fixture
def writer(api):
    return api.as_user(register(api)["access_token"])


def failing(monkeypatch, error: Exception) -> None:
    from narraforge.services import projects

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(projects, "list_page", broken)


@pytest.mark.parametrize("cls", list(HTTP_PROBLEMS), ids=lambda cls: cls.__name__)
def test_each_domain_error_is_answered_with_its_status_and_code(writer, monkeypatch, cls):
    failing(monkeypatch, cls("what went wrong"))
    response = writer.get("/projects/")
    assert response.status_code == HTTP_PROBLEMS[cls].status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert error_code(response.json()) == HTTP_PROBLEMS[cls].code
    assert error_detail(response.json()) == "what went wrong"
    assert ("www-authenticate" in response.headers) == (cls is Unauthorized)


def test_the_raisers_headers_and_details_are_kept(writer, monkeypatch):
    failing(monkeypatch, RateLimited("slow down", details={"retry_after_seconds": 7}, headers={"Retry-After": "7"}))
    response = writer.get("/projects/")
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert response.json()["retry_after_seconds"] == 7


def test_a_job_ending_error_is_not_an_answer_but_a_500(writer, monkeypatch):
    failing(monkeypatch, JobCancelled("job is CANCELLED"))
    response = writer.get("/projects/")
    assert response.status_code == 500 and error_code(response.json()) == "internal_error"
    assert "CANCELLED" not in response.text
