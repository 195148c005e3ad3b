"""The Map limit reaches the ASL as a string (the file stays valid JSON) and becomes a number inside the state
machine (States.StringToJson): the stage runner and both Map states get the deployment's SegmentMapConcurrency."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.conftest import TEST_PARAMETERS
from tests.helpers import wait_for_execution
from tests.pipeline.conftest import short_brief

LIMIT = 3


@pytest.fixture
def stack_parameters() -> dict:
    return {**TEST_PARAMETERS, "SegmentMapConcurrency": LIMIT}


def _entered_inputs(execution_arn: str) -> dict[str, dict]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return {e["stateEnteredEventDetails"]["name"]: json.loads(e["stateEnteredEventDetails"]["input"])
            for e in events if "stateEnteredEventDetails" in e}


def test_the_map_limit_arrives_as_a_number_at_the_runner_and_both_maps(writer, provider):
    response = writer.post("/jobs/", json={"project_id": writer.project_id,
                                           "production_brief": short_brief(target_length=7000)})
    assert response.status_code == 201, response.text
    job = response.json()
    assert wait_for_execution(job["execution_arn"])["status"] == "SUCCEEDED"
    entered = _entered_inputs(job["execution_arn"])
    # The runner turned the limit into the drafting Map's concurrency (a long work drafts in parallel).
    assert entered["SegmentGeneration"]["run"]["map_concurrency"] == LIMIT
    # The stylizing Map reads the limit itself from the state input, as a JSON number.
    assert entered["LanguageStylization"]["run"]["max_concurrency"] == LIMIT
    assert isinstance(entered["LanguageStylization"]["run"]["max_concurrency"], int)
