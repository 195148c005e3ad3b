"""template.yaml is the single source of truth: lint it and check what the local stack reads from it."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from narraforge_dev.local.template import api_routes, load_template, resources_of_type, table_definition

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


DEV_ONLY_MODULES = {"moto", "narraforge_dev", "tests", "bench", "pytest", "uvicorn", "websockets"}


def _imported_top_levels(path: Path) -> set[str]:
    """Every absolute import of a module, at any depth (lazy imports inside functions count: they run in the cloud)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_layer_ships_only_code_that_runs_in_the_cloud():
    """SAM ships everything in layers/common: the local stack (moto at import time), the operator tools and the
    in-memory pipeline double live in narraforge_dev/, and nothing in the layer may reach for them."""
    layer = REPO / "layers/common"
    assert not (layer / "narraforge/local").exists()
    assert not (layer / "narraforge/admin.py").exists()
    offenders = {str(path.relative_to(layer)): sorted(_imported_top_levels(path) & DEV_ONLY_MODULES)
                 for path in layer.rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}
    assert (REPO / "narraforge_dev/local/__main__.py").is_file()


# Issue #10: infrastructure (items 8, 9, 15). The template is read as CloudFormation sees it.

FUNCTIONS = resources_of_type("AWS::Serverless::Function")
SAMPLE_CONTEXT = {"$context.httpMethod": "GET", "$context.path": "/v1/nowhere", "$context.requestId": "req-1",
                  "$context.error.messageString": '"Forbidden"'}


def _with_sample_context(text: str) -> str:
    """Fills $context variables (longest first) the way API Gateway would, leaving other ones as plain words."""
    for variable in sorted(SAMPLE_CONTEXT, key=len, reverse=True):
        text = text.replace(variable, SAMPLE_CONTEXT[variable])
    return re.sub(r"\$context\.[\w.]+", "x", text)


def _api_events() -> list[tuple[str, str, str, dict]]:
    return [(name, event["Properties"]["Path"], event["Properties"]["Method"], event["Properties"])
            for name, function in FUNCTIONS.items()
            for event in (function["Properties"].get("Events") or {}).values() if event["Type"] == "Api"]


def _statements(function: dict) -> list[dict]:
    """Policy statements of a function, with `!If [cond, statement, AWS::NoValue]` taken as the statement."""
    found = []
    for policy in function["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if "Fn::If" in statement:
                statement = statement["Fn::If"][1]
            found.append(statement)
    return found


def test_only_the_metrics_route_requires_iam_auth_and_it_stays_open_locally():
    iam = [(name, path, method, props["Auth"].get("InvokeRole")) for name, path, method, props in _api_events()
           if props.get("Auth", {}).get("Authorizer") == "AWS_IAM"]
    assert iam == [("HealthFunction", "/health/metrics", "GET", "NONE")]
    assert not any("Auth" in props for *_, props in _api_events() if props["Path"] != "/health/metrics")
    assert "Auth" not in load_template()["Resources"]["Api"]["Properties"]  # no default authorizer either
    # The local emulator routes it like any other route (it reads no Auth): same function, no credentials.
    local = next(route for route in api_routes() if route.match("GET", "/health/metrics") is not None)
    assert (local.function, local.path) == ("HealthFunction", "/health/metrics")


def test_unknown_routes_answer_a_problem_details_404_from_api_gateway():
    responses = load_template()["Resources"]["Api"]["Properties"]["GatewayResponses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == 404
    assert missing["ResponseParameters"]["Headers"]["Content-Type"] == "'application/problem+json'"
    body = json.loads(_with_sample_context(missing["ResponseTemplates"]["application/json"]))
    assert body == {"type": "about:blank", "title": "Not Found", "status": 404,
                    "detail": "No route for GET /v1/nowhere", "code": "not_found", "instance": "req-1"}


def test_every_gateway_response_is_problem_json_with_security_and_cors_headers():
    from narraforge.api.middleware import SECURITY_HEADERS

    expected = {name.decode().lower(): f"'{value.decode()}'" for name, value in SECURITY_HEADERS}
    responses = load_template()["Resources"]["Api"]["Properties"]["GatewayResponses"]
    assert {"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for kind, response in responses.items():
        headers = {name.lower(): value for name, value in response["ResponseParameters"]["Headers"].items()}
        assert headers["content-type"] == "'application/problem+json'", kind
        assert expected.items() <= headers.items(), kind
        assert headers["access-control-allow-origin"] == {"Fn::Sub": "'${CorsOrigins}'"}, kind  # browsers read it
        body = json.loads(_with_sample_context(response["ResponseTemplates"]["application/json"]))
        assert {"type", "title", "detail", "code", "instance"} <= set(body), kind
        assert body.get("status", response.get("StatusCode")) == response.get("StatusCode"), kind
    assert responses["THROTTLED"]["StatusCode"] == 429


def test_api_access_logs_are_json_with_request_id_and_source_ip_in_a_group_with_retention():
    resources = load_template()["Resources"]
    setting = resources["Api"]["Properties"]["AccessLogSetting"]
    line = json.loads(setting["Format"])
    assert line["requestId"] == "$context.requestId"
    assert line["sourceIp"] == "$context.identity.sourceIp"
    group = resources[setting["DestinationArn"]["Fn::GetAtt"].split(".")[0]]
    assert group["Type"] == "AWS::Logs::LogGroup" and group["Properties"]["RetentionInDays"]
    # API Gateway writes access logs only once the account has its CloudWatch role.
    assert "ApiGatewayAccount" in [resources["Api"]["DependsOn"]]
    assert resources["ApiGatewayAccount"]["Properties"]["CloudWatchRoleArn"]


def test_every_function_has_its_log_group_declared_with_retention():
    groups = {resource["Properties"]["LogGroupName"].get("Fn::Sub"): resource["Properties"]
              for resource in resources_of_type("AWS::Logs::LogGroup").values()
              if isinstance(resource["Properties"]["LogGroupName"], dict)}
    for name in FUNCTIONS:
        assert f"/aws/lambda/${{{name}}}" in groups, name
        assert groups[f"/aws/lambda/${{{name}}}"]["RetentionInDays"], name


def test_data_bucket_access_logs_go_to_a_private_encrypted_expiring_bucket():
    resources = load_template()["Resources"]
    logging = resources["Bucket"]["Properties"]["LoggingConfiguration"]
    log_bucket = resources[logging["DestinationBucketName"]["Ref"]]["Properties"]
    assert all(log_bucket["PublicAccessBlockConfiguration"].values())
    assert log_bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert any(rule.get("ExpirationInDays") and rule["Status"] == "Enabled"
               for rule in log_bucket["LifecycleConfiguration"]["Rules"])
    (policy,) = [r["Properties"] for r in resources_of_type("AWS::S3::BucketPolicy").values()
                 if r["Properties"]["Bucket"] == {"Ref": logging["DestinationBucketName"]["Ref"]}]
    delivery = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    # S3 log delivery only, each statement for one source bucket of ours (the data bucket and the Studio's)
    assert {json.dumps(s["Principal"]) for s in delivery} == {json.dumps({"Service": "logging.s3.amazonaws.com"})}
    assert {"Fn::GetAtt": "Bucket.Arn"} in [s["Condition"]["ArnLike"]["aws:SourceArn"] for s in delivery]


def test_stage_runner_has_a_reserved_concurrency_cap_leaving_room_for_the_api():
    template = load_template()
    reserved = FUNCTIONS["StageRunnerFunction"]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved["Fn::If"][1] == {"Ref": "StageRunnerReservedConcurrency"}
    default = template["Parameters"]["StageRunnerReservedConcurrency"]["Default"]
    # One job at the largest Map fan-out fits; at most half of the account default (1,000) goes to the pipeline.
    assert template["Parameters"]["SegmentMapConcurrency"]["MaxValue"] <= default <= 1000 // 2


def test_each_function_reads_only_its_own_ssm_parameters():
    def ssm_parameters(function: dict) -> set[str]:
        names = set()
        for statement in _statements(function):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(action.startswith("ssm:") for action in actions):
                arn = statement["Resource"]["Fn::Sub"]
                assert "*" not in arn, arn
                names.update(re.findall(r"parameter\$\{(\w+)\}$", arn))
        return names

    jwt = {"JwtSecretParameterName"}
    assert {name: ssm_parameters(function) for name, function in FUNCTIONS.items()} == {
        "AuthFunction": jwt | {"OAuthGoogleClientSecretParameterName", "OAuthGitHubClientSecretParameterName"},
        "ProjectsFunction": jwt, "JobsFunction": jwt, "NarrativesFunction": jwt,
        "ReconcilerFunction": set(), "HealthFunction": set(), "RealtimeFunction": jwt,
        "StageRunnerFunction": {"OpenAiApiKeyParameterName"},
    }


def test_every_checkov_skip_says_why():
    skips = [(name, skip) for name, resource in load_template()["Resources"].items()
             for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])]
    assert skips
    for name, skip in skips:
        assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]) and len(skip.get("comment", "")) > 30, (name, skip)
    config = (REPO / ".checkov.yaml").read_text()
    skipped = re.findall(r"^  - (CKV_\w+)", config, flags=re.MULTILINE)
    for check in skipped:  # each global skip is preceded by its reason
        before = config[:config.index(f"  - {check}")].rstrip().splitlines()[-1]
        assert before.strip().startswith("#"), check
