"""Creates the template's table, bucket and state machine in whatever AWS endpoint is configured
(moto in-process for tests, the moto server for `make run`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
from narraforge.config import get_settings, reset_settings

from narraforge_dev.local.lambda_bridge import function_arn
from narraforge_dev.local.template import REPO_ROOT, load_template, resources_of_type, table_definition, ttl_attribute

PIPELINE_ROLE = "arn:aws:iam::123456789012:role/narraforge-pipeline"
# Knobs of the local stack that are not template parameters: the ASL keeps the cloud's LLM retry policy as
# literals (Retry fields have no `...Path` form, and a substituted number would make the file invalid JSON), so
# tests and benchmarks shorten it by rewriting every retrier of the LLM errors.
LLM_RETRY_OVERRIDES = {"LlmRetryIntervalSeconds": "IntervalSeconds", "LlmRetryMaxAttempts": "MaxAttempts"}
LLM_RETRY_ERROR = "LlmThrottled"


def create_resources(parameter_overrides: dict[str, Any] | None = None) -> None:
    settings = get_settings()
    dynamodb = boto3.client("dynamodb", region_name=settings.aws_region)
    dynamodb.create_table(**table_definition(settings.table_name))
    ttl = ttl_attribute()
    if ttl:
        dynamodb.update_time_to_live(
            TableName=settings.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl},
        )
    s3 = boto3.client("s3", region_name=settings.aws_region)
    s3.create_bucket(Bucket=settings.bucket_name)
    s3.put_bucket_versioning(Bucket=settings.bucket_name, VersioningConfiguration={"Status": "Enabled"})
    os.environ["STATE_MACHINE_ARN"] = create_state_machine(parameter_overrides or {})
    reset_settings()


def _resolve(value: Any, parameters: dict[str, Any], region: str) -> str:
    """The intrinsics DefinitionSubstitutions use: !Ref Parameter and !GetAtt Function.Arn."""
    if isinstance(value, dict) and "Ref" in value:
        return str(parameters[value["Ref"]])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        logical_id = target.split(".")[0] if isinstance(target, str) else target[0]
        return function_arn(logical_id, region)
    return str(value)


def state_machine_definition(parameter_overrides: dict[str, Any], region: str) -> tuple[str, str]:
    """(name, definition) of the template's state machine with its substitutions applied."""
    template = load_template()
    parameters = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
    parameters.update(parameter_overrides)
    (name, machine), = resources_of_type("AWS::Serverless::StateMachine").items()
    props = machine["Properties"]
    definition = Path(REPO_ROOT / props["DefinitionUri"]).read_text("utf-8")
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", _resolve(value, parameters, region))
    retry = {field: int(parameter_overrides[name]) for name, field in LLM_RETRY_OVERRIDES.items()
             if name in parameter_overrides}
    if not retry:
        return name, definition
    parsed = json.loads(definition)
    for state in all_states(parsed):
        for retrier in state.get("Retry", []):
            if LLM_RETRY_ERROR in retrier["ErrorEquals"]:
                retrier.update(retry)
    return name, json.dumps(parsed, indent=2)


def all_states(machine: dict[str, Any]) -> list[dict[str, Any]]:
    """Every state of a definition, those inside Map and Parallel states included."""
    found = []
    for state in machine["States"].values():
        found.append(state)
        for inner in [state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])]:
            if inner:
                found.extend(all_states(inner))
    return found


def create_state_machine(parameter_overrides: dict[str, Any]) -> str:
    region = get_settings().aws_region
    name, definition = state_machine_definition(parameter_overrides, region)
    sfn = boto3.client("stepfunctions", region_name=region)
    created = sfn.create_state_machine(name=name, definition=definition, roleArn=PIPELINE_ROLE, type="STANDARD")
    return created["stateMachineArn"]
