"""One hierarchy of domain errors, mapped once at each edge: every error has exactly one mapping (HTTP for the
API, a Step Functions name for the stage runner), and the names the state machine's Retry and Catch match on are
exactly those the runner can produce."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from narraforge import errors as domain_errors
from narraforge.api.resolver import HTTP_PROBLEMS, resolve
from narraforge.errors import DomainError, JobStopped, LimitExceeded, ValidationFailed
from narraforge.llm import base as llm_base
from narraforge.llm.base import LlmRefused, ProviderError
from narraforge.pipeline import handler
from narraforge.pipeline.handler import CANCELLED, FAILED, RETRIED, STEP_FUNCTIONS_ERRORS

STATE_MACHINES = sorted((Path(__file__).resolve().parents[2] / "statemachine").glob("*.json"))
ABSTRACT = {DomainError, JobStopped, ProviderError}  # bases: never raised themselves


def classes_of(module, base: type) -> set[type]:
    return {cls for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, base) and cls.__module__ == module.__name__} - ABSTRACT


def test_every_domain_error_has_exactly_one_mapping():
    """Refusals are answered over HTTP, job-ending errors are named for Step Functions; never both, never neither
    (a new error added without a mapping fails here)."""
    for cls in classes_of(domain_errors, DomainError):
        mappings = [table for table in (HTTP_PROBLEMS, STEP_FUNCTIONS_ERRORS) if cls in table]
        assert len(mappings) == 1, cls
        assert (cls in STEP_FUNCTIONS_ERRORS) == issubclass(cls, JobStopped), cls


def test_every_provider_error_has_a_step_functions_name():
    assert classes_of(llm_base, ProviderError) <= set(STEP_FUNCTIONS_ERRORS)
    assert not set(HTTP_PROBLEMS) & classes_of(llm_base, ProviderError)


def test_the_api_answers_the_same_statuses_and_codes_as_before():
    """The API's contract: the statuses and `code` strings clients read (tests/integration check the bodies)."""
    answered = {cls.__name__: tuple(resolve(cls("x"))) for cls in HTTP_PROBLEMS}
    assert answered == {
        "BadRequest": (400, "bad_request"), "InvalidInput": (422, "validation_error"),
        "Unauthorized": (401, "unauthorized"), "Forbidden": (403, "forbidden"),
        "LimitExceeded": (403, "limit_exceeded"), "NotFound": (404, "not_found"), "Conflict": (409, "conflict"),
        "RateLimited": (429, "rate_limited"), "ServiceUnavailable": (503, "service_unavailable"),
        "BadGateway": (502, "bad_gateway"), "PreconditionFailed": (412, "precondition_failed"),
        "PreconditionRequired": (428, "precondition_required"),
        "UnsupportedMediaType": (415, "unsupported_media_type"),
    }
    assert resolve(LimitExceeded("x")).code == "limit_exceeded"  # its own, not Forbidden's


def asl_error_names(definition: dict) -> tuple[set[str], set[str]]:
    """(names in Retry, names in Catch) of every state, inside Map iterations too; AWS's own names left out."""
    retried: set[str] = set()
    caught: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for rule in node.get("Retry", []):
                retried.update(rule["ErrorEquals"])
            for rule in node.get("Catch", []):
                caught.update(rule["ErrorEquals"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(definition)
    ours = {name for name in retried | caught if not name.startswith(("States.", "Lambda."))}
    return retried & ours, caught & ours


@pytest.mark.parametrize("path", STATE_MACHINES, ids=lambda p: p.name)
def test_the_state_machine_matches_exactly_the_names_the_runner_produces(path):
    retried, caught = asl_error_names(json.loads(path.read_text()))
    by_fate: dict[str, set[str]] = {RETRIED: set(), CANCELLED: set(), FAILED: set()}
    for name, fate in STEP_FUNCTIONS_ERRORS.values():
        by_fate[fate].add(name)
    assert retried == by_fate[RETRIED]
    assert caught == by_fate[CANCELLED]
    assert not by_fate[FAILED] & (retried | caught)  # a failure is recorded by States.ALL, never retried
    assert all(len({fate for n, fate in STEP_FUNCTIONS_ERRORS.values() if n == name}) == 1
               for name, _ in STEP_FUNCTIONS_ERRORS.values())  # one name, one fate


def test_the_runner_raises_an_error_under_its_step_functions_name(monkeypatch):
    """Lambda reports the class name as errorType: a provider's refusal reaches Step Functions as
    ValidationFailed (recorded, not retried), with its message and cause kept."""
    def refused(event):
        raise LlmRefused("the model API refused the request (401)")

    monkeypatch.setattr(handler, "_traced", refused)
    with pytest.raises(handler.StepFunctionsError) as raised:
        handler.handle({})
    assert type(raised.value).__name__ == "ValidationFailed"
    assert str(raised.value) == "the model API refused the request (401)"
    assert isinstance(raised.value.__cause__, LlmRefused)


def test_an_error_already_named_leaves_as_it_is():
    with pytest.raises(ValidationFailed, match="event needs job_id and user_id"):
        handler.handle({"action": "prepare"})
