"""Reads template.yaml, the single source of truth for table schema, routes and the state machine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Keeps CloudFormation short-form intrinsics (!Ref, !Sub, ...) as {"Fn::X": value}."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@lru_cache(maxsize=4)
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return yaml.load(path.read_text("utf-8"), Loader=_CfnLoader)


def resources_of_type(resource_type: str, path: Path = TEMPLATE_PATH) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in load_template(path)["Resources"].items()
        if resource["Type"] == resource_type
    }


def table_definition(table_name: str) -> dict[str, Any]:
    """`create_table` arguments for the table declared in the template."""
    (props,) = [r["Properties"] for r in resources_of_type("AWS::DynamoDB::Table").values()]
    definition: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        definition["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return definition


def ttl_attribute() -> str | None:
    (props,) = [r["Properties"] for r in resources_of_type("AWS::DynamoDB::Table").values()]
    spec = props.get("TimeToLiveSpecification") or {}
    return spec.get("AttributeName") if spec.get("Enabled") else None


@dataclass(frozen=True)
class Route:
    function: str  # logical id, e.g. AuthFunction
    module: str  # import path of the handler module, e.g. functions.auth.app
    handler: str  # attribute name, e.g. handler
    path: str  # API Gateway resource path, e.g. /projects/{project_id}
    method: str  # GET, POST, ... or ANY
    pattern: re.Pattern[str]

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method.upper()):
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None


def _route_pattern(resource_path: str) -> re.Pattern[str]:
    parts = []
    for segment in resource_path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("/" + "/".join(parts))


def function_module(logical_id: str) -> tuple[str, str]:
    props = resources_of_type("AWS::Serverless::Function")[logical_id]["Properties"]
    module_file, attribute = props["Handler"].rsplit(".", 1)
    package = props["CodeUri"].strip("/").replace("/", ".")
    return f"{package}.{module_file}", attribute


@lru_cache(maxsize=1)
def api_routes() -> tuple[Route, ...]:
    """Every Api event of every function; more specific paths first, like API Gateway."""
    routes: list[Route] = []
    for name, resource in resources_of_type("AWS::Serverless::Function").items():
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] != "Api":
                continue
            module, attribute = function_module(name)
            path = event["Properties"]["Path"]
            routes.append(Route(name, module, attribute, path, event["Properties"]["Method"].upper(),
                                _route_pattern(path)))
    routes.sort(key=lambda r: (r.path.count("{"), -len(r.path)))
    return tuple(routes)
