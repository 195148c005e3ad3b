"""The pipeline's ASL file is valid JSON as committed, so editors, Workflow Studio and validators can open it:
statelint (the Python port of AWS Labs' Amazon States Language validator) passes both the committed file and the
definition the local stack deploys, and moto's ASL parser reads the latter. The LLM retry policy is literal in
the file; the local stack's overrides reach every retrier of the LLM errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from narraforge_dev.local.resources import LLM_RETRY_ERROR, all_states, state_machine_definition
from narraforge_dev.local.template import resources_of_type
from tests.conftest import TEST_PARAMETERS

REPO = Path(__file__).resolve().parents[2]
ASL = REPO / "statemachine/narrative_pipeline.asl.json"
STATELINT = Path(sys.executable).parent / "statelint"


def _statelint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(STATELINT), str(path)], capture_output=True, text=True)


def _llm_retriers(definition: dict) -> list[dict]:
    return [retrier for state in all_states(definition) for retrier in state.get("Retry", [])
            if LLM_RETRY_ERROR in retrier["ErrorEquals"]]


def test_the_committed_file_is_valid_json_and_passes_statelint():
    json.loads(ASL.read_text("utf-8"))
    result = _statelint(ASL)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deployed_definition_passes_statelint_and_motos_parser(tmp_path):
    _, definition = state_machine_definition(dict(TEST_PARAMETERS), "us-east-1")
    deployed = tmp_path / "deployed.asl.json"
    deployed.write_text(definition)
    result = _statelint(deployed)
    assert result.returncode == 0, result.stdout + result.stderr
    AmazonStateLanguageParser.parse(definition)


def test_statelint_refuses_a_number_written_as_a_string(tmp_path):
    """Quoting a substituted number is not enough: Step Functions and statelint want a number there."""
    text = ASL.read_text("utf-8")
    interval = _llm_retriers(json.loads(text))[0]["IntervalSeconds"]
    broken = tmp_path / "broken.asl.json"
    broken.write_text(text.replace(f'"IntervalSeconds": {interval},', f'"IntervalSeconds": "{interval}",', 1))
    result = _statelint(broken)
    assert result.returncode != 0
    assert "IntervalSeconds" in result.stdout + result.stderr


def test_every_substitution_sits_in_a_string_and_is_declared_in_the_template():
    text = ASL.read_text("utf-8")
    (machine,) = resources_of_type("AWS::Serverless::StateMachine").values()
    declared = set(machine["Properties"]["DefinitionSubstitutions"])
    assert set(re.findall(r"\$\{(\w+)\}", text)) == declared
    # Outside strings a placeholder would make the file invalid JSON; inside a comment SAM would substitute it.
    strings = re.findall(r'"(?:[^"\\]|\\.)*"', text)
    assert sum(s.count("${") for s in strings) == text.count("${")
    assert "${" not in json.loads(text)["Comment"]


def test_the_local_stack_shortens_every_llm_retry_and_leaves_the_cloud_policy_alone():
    committed = _llm_retriers(json.loads(ASL.read_text("utf-8")))
    policies = {(r["IntervalSeconds"], r["MaxAttempts"]) for r in committed}
    assert len(policies) == 1 and len(committed) >= 10  # one policy, on every stage including the Map iterations
    _, plain = state_machine_definition({}, "us-east-1")
    assert {(r["IntervalSeconds"], r["MaxAttempts"]) for r in _llm_retriers(json.loads(plain))} == policies
    overrides = {"LlmRetryIntervalSeconds": 1, "LlmRetryMaxAttempts": 7}
    _, shortened = state_machine_definition(overrides, "us-east-1")
    retriers = _llm_retriers(json.loads(shortened))
    assert len(retriers) == len(committed)
    assert {(r["IntervalSeconds"], r["MaxAttempts"]) for r in retriers} == {(1, 7)}
