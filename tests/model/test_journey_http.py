"""The writer's journey over HTTP on the local stack that `make run LLM=local` starts — the real ASL under moto,
the real handlers, and SmolLM2-135M-Instruct served by llama-cpp-python, reached through the product's OpenAI
provider. One stack for the module; the tests run in file order and share one writer:

short story → Polish story → regenerate with instructions → 5,000-word story cancelled mid-draft and resumed.

Each prints a one-line report (wall seconds, words, calls, tokens, fallbacks); run with `-s` to see them."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.accounts import bearer
from tests.e2e.conftest import StackProcess, launch, wait_until_up
from tests.helpers import register

# A model of 135M parameters lands within ±25 % of the target (issue 11); these jobs run for minutes.
TOLERANCE = 0.25
JOB_TIMEOUT = 3600.0
FINISHED = ("COMPLETED", "FAILED", "CANCELLED")
SHORT = {"production_type": "short_story", "genre": "fantasy", "target_length": 600, "character_count": 3,
         "subject": "A wizard apprentice discovers forbidden magic"}
POLISH = {"production_type": "short_story", "genre": "mystery", "target_length": 600, "character_count": 2,
          "language": "pl", "subject": "Bibliotekarka odkrywa, że ktoś nocą dopisuje zakończenia do książek"}
LONG = {"production_type": "short_story", "genre": "sci_fi", "target_length": 5000, "character_count": 3,
        "subject": "A botanist on a generation ship finds seeds that should not exist"}
# Words a Polish text cannot do without, and letters only Polish spelling has.
POLISH_WORDS = {"się", "nie", "na", "że", "w", "i", "to", "jest"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """`make run LLM=local`'s process: it starts the model server itself and stops it on Ctrl-C."""
    started = launch(tmp_path_factory.mktemp("model-stack"), env={"LLM": "local", "LLM_TIMEOUT_SECONDS": "900"})
    wait_until_up(started, timeout=300)
    yield started
    assert started.stop() == 0, started.output()[-3000:]


class Writer(httpx.Client):
    """A signed-in client that does what a real one must over a half-hour journey: when its access token
    expires (401), it rotates its refresh token once and sends the request again."""

    refresh_token = ""

    def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:
        response = super().request(method, url, **kwargs)
        if response.status_code == 401 and self.refresh_token and url != "/auth/refresh":
            self.sign_in(super().request("POST", "/auth/refresh", json={"refresh_token": self.refresh_token}))
            response = super().request(method, url, **kwargs)
        return response

    def sign_in(self, response: httpx.Response | dict[str, Any]) -> None:
        tokens = response.json() if isinstance(response, httpx.Response) else response
        self.refresh_token = tokens["refresh_token"]
        self.headers.update(bearer(tokens["access_token"]))


@pytest.fixture(scope="module")
def client(stack: StackProcess) -> Iterator[Writer]:
    with Writer(base_url=stack.url, timeout=60) as http:
        http.sign_in(register(http))
        yield http


@pytest.fixture(scope="module")
def writer(client: Writer) -> dict[str, Any]:
    project = client.post("/projects/", json={"name": "Real model"})
    assert project.status_code == 201, project.text
    return {"project_id": project.json()["id"], "narratives": {}}


def wait(client: httpx.Client, job_id: str, until: Any = None) -> dict[str, Any]:
    """Polls the job's status until it finishes (or `until(status)` holds); fails on the timeout."""
    deadline = time.monotonic() + JOB_TIMEOUT
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = client.get(f"/jobs/{job_id}/status").json()
        if status["status"] in FINISHED or (until is not None and until(status)):
            return status
        time.sleep(2)
    raise AssertionError(f"job {job_id} did not finish within {JOB_TIMEOUT} s: {status}")


def start(client: httpx.Client, writer: dict[str, Any], brief: dict[str, Any]) -> dict[str, Any]:
    created = client.post("/jobs/", json={"project_id": writer["project_id"], "production_brief": brief})
    assert created.status_code == 201, created.text
    return created.json()


def report(name: str, seconds: float, job: dict[str, Any], narrative: dict[str, Any]) -> None:
    metadata = narrative["narrative_metadata"]
    stages = {s["stage"]: [s["llm_calls"], s["prompt_tokens"], s["completion_tokens"]] for s in job["stages"]}
    print(f"\nJOURNEY {name} " + json.dumps({
        "wall_seconds": round(seconds), "words": narrative["word_count"], "llm_calls": job["llm_calls"],
        "tokens_used": job["tokens_used"], "stages [calls, prompt, completion]": stages,
        "fallbacks": [f"{f['stage']}:{f['field']}" for f in metadata["fallbacks"]],
        "cast": [c["name"] for c in metadata["characters"]]}, ensure_ascii=False))


def finished_story(client: httpx.Client, writer: dict[str, Any], job_id: str, name: str,
                   started: float) -> dict[str, Any]:
    final = wait(client, job_id)
    job = client.get(f"/jobs/{job_id}").json()
    assert final["status"] == "COMPLETED", (final, job.get("error_message"))
    narrative = client.get(f"/narratives/{final['narrative_id']}").json()
    report(name, time.monotonic() - started, job, narrative)
    return narrative


def assert_written_by_the_model(narrative: dict[str, Any], target: int) -> None:
    """Not demo text: the model's engine, no demo notice, within the small-model tolerance, the fallbacks counted."""
    metadata = narrative["narrative_metadata"]
    assert metadata["engine"] != "offline" and "notice" not in metadata, metadata["engine"]
    assert abs(narrative["word_count"] - target) <= TOLERANCE * target, narrative["word_count"]
    assert metadata["fallback_count"] == len(metadata["fallbacks"])


def test_a_short_story_on_the_brief(client, writer):
    started = time.monotonic()
    job = start(client, writer, SHORT)
    narrative = finished_story(client, writer, job["id"], "short_story", started)
    writer["narratives"]["short"] = narrative
    assert_written_by_the_model(narrative, SHORT["target_length"])
    text = narrative["narrative_text"].casefold()
    assert sum(word in text for word in ("wizard", "apprentice", "magic", "forbidden")) >= 2, text[:500]
    cast = [c["name"] for c in narrative["narrative_metadata"]["characters"]]
    assert cast[0].split()[0].casefold() in text, (cast, text[:500])  # the protagonist, by name


def test_a_polish_story_is_written_in_polish(client, writer):
    started = time.monotonic()
    job = start(client, writer, POLISH)
    narrative = finished_story(client, writer, job["id"], "polish", started)
    writer["narratives"]["polish"] = narrative
    assert_written_by_the_model(narrative, POLISH["target_length"])
    words = re.findall(r"\w+", narrative["narrative_text"].casefold())
    polish = sum(word in POLISH_WORDS for word in words)
    assert polish >= 0.05 * len(words), (polish, len(words), narrative["narrative_text"][:500])
    assert re.search(r"[ąćęłńóśźż]", narrative["narrative_text"].casefold())


def test_regenerate_with_instructions_makes_a_new_version(client, writer):
    first = writer["narratives"].get("short") or writer["narratives"].get("polish")
    assert first is not None, "a story of the tests above completed"
    target = SHORT if first["narrative_metadata"]["language"] == "en" else POLISH
    started = time.monotonic()
    response = client.post(f"/narratives/{first['id']}/regenerate", json={"instructions": "Make the ending hopeful"})
    assert response.status_code == 202, response.text
    narrative = finished_story(client, writer, response.json()["id"], "regenerate", started)
    assert narrative["version"] == 2
    assert_written_by_the_model(narrative, target["target_length"])
    assert narrative["narrative_text"] != first["narrative_text"]
    versions = client.get(f"/narratives/{first['id']}/versions").json()
    assert [(v["version"], v["instructions"]) for v in versions] == [(1, None), (2, "Make the ending hopeful")]


def test_a_5000_word_story_cancelled_mid_draft_resumes_without_redoing_its_plan(client, writer):
    started = time.monotonic()
    job = start(client, writer, LONG)
    drafting = wait(client, job["id"], until=lambda s: s["segments_drafted"] >= 1)
    assert drafting["status"] == "RUNNING", drafting
    cancelled = client.post(f"/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert wait(client, job["id"])["status"] == "CANCELLED"
    before = {s["stage"]: s["llm_calls"] for s in client.get(f"/jobs/{job['id']}").json()["stages"]}
    assert before["world_architecture"] >= 1 and before["segment_planning"] >= 1, before

    resumed = client.post(f"/jobs/{job['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    narrative = finished_story(client, writer, job["id"], "long_cancel_resume", started)
    assert_written_by_the_model(narrative, LONG["target_length"])
    after = {s["stage"]: s["llm_calls"] for s in client.get(f"/jobs/{job['id']}").json()["stages"]}
    for stage in ("brief_interpretation", "world_architecture", "character_architecture", "structure_design",
                  "segment_planning"):
        assert after[stage] == before[stage], (stage, before, after)  # planned once: the resume reused it
    assert len(narrative["narrative_metadata"]["segments"]) >= 4
