"""A user who owns one of everything (project, completed job, narrative) on the local stack: what the
fuzz and security tests need so that id-taking routes reach their real code, not only 404."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from tests.helpers import PASSWORD, register

BRIEF = {"production_type": "podcast_script", "genre": "comedy",
         "subject": "Two rival bakers host a podcast about the worst cakes in history",
         "target_length": 300, "character_count": 2}


@dataclass(frozen=True)
class Writer:
    email: str
    password: str
    user_id: str
    access_token: str
    refresh_token: str
    project_id: str
    job_id: str
    narrative_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_until_finished(client: httpx.Client, headers: dict[str, str], job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    status: dict = {}
    while time.monotonic() < deadline:
        status = client.get(f"/jobs/{job_id}/status", headers=headers).json()
        if status["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return status
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} did not finish: {status}")


def new_writer(client: httpx.Client, prefix: str) -> Writer:
    """Registers a user and runs one short job to completion (about a second on the offline engine)."""
    email = f"{prefix}{time.time_ns()}@example.com"
    auth = register(client, email)
    headers = bearer(auth["access_token"])
    project = client.post("/projects/", json={"name": f"{prefix} project"}, headers=headers)
    assert project.status_code == 201, project.text
    job = client.post("/jobs/", json={"project_id": project.json()["id"], "production_brief": BRIEF},
                      headers=headers)
    assert job.status_code == 201, job.text
    final = wait_until_finished(client, headers, job.json()["id"])
    assert final["status"] == "COMPLETED", final
    return Writer(email=email, password=PASSWORD, user_id=auth["user"]["id"], access_token=auth["access_token"],
                  refresh_token=auth["refresh_token"], project_id=project.json()["id"], job_id=job.json()["id"],
                  narrative_id=final["narrative_id"])
