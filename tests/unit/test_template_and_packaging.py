"""template.yaml is the single source of truth: lint it and check what the local stack reads from it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from narraforge.local.template import api_routes, load_template, table_definition

REPO = Path(__file__).resolve().parents[2]


def test_cfn_lint_passes():
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(REPO / "template.yaml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_table_has_the_keys_indexes_and_ttl_of_the_design():
    table = table_definition("t")
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table["GlobalSecondaryIndexes"]}
    assert indexes == {"GSI1": ["gsi1pk", "gsi1sk"], "GSI2": ["gsi2pk", "gsi2sk"]}
    props = load_template()["Resources"]["Table"]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


def test_bucket_is_private_encrypted_and_versioned():
    props = load_template()["Resources"]["Bucket"]["Properties"]
    assert props["VersioningConfiguration"]["Status"] == "Enabled"
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]


def test_api_stage_and_throttling():
    api = load_template()["Resources"]["Api"]["Properties"]
    assert api["StageName"] == "v1"
    assert api["MethodSettings"][0]["ThrottlingRateLimit"]


def test_every_route_points_at_an_existing_handler():
    routes = api_routes()
    assert {r.function for r in routes} >= {"AuthFunction", "ProjectsFunction", "HealthFunction"}
    for route in routes:
        module_path = REPO / (route.module.replace(".", "/") + ".py")
        tree = ast.parse(module_path.read_text())
        names = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets
                 if isinstance(t, ast.Name)}
        assert route.handler in names, route


def test_layer_requirements_match_the_pinned_runtime_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = {re.split(r"[\[=]", d)[0].lower(): d for d in project["dependencies"]}
    layer = [line.strip() for line in (REPO / "layers/common/requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert all("==" in line for line in layer)
    for line in layer:
        assert pinned[re.split(r"[\[=]", line)[0].lower()] == line
    assert set(pinned) == {re.split(r"[\[=]", line)[0].lower() for line in layer}
