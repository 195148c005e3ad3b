"""The Studio in the cloud (issue #13): one CloudFront distribution serves the app from a private bucket and
forwards /v1/* to the REST API, so the app and the API share an origin. Read from template.yaml as CloudFormation
sees it; the SPA fallback's JavaScript runs in node; `make deploy-web` runs against a stand-in `aws` command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from narraforge_dev.local.template import TEMPLATE_PATH, load_template

REPO = Path(__file__).resolve().parents[2]
MAKEFILE = REPO / "Makefile"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _resources() -> dict[str, dict[str, Any]]:
    return load_template(TEMPLATE_PATH)["Resources"]


def _distribution() -> dict[str, Any]:
    found = [r for r in _resources().values() if r["Type"] == "AWS::CloudFront::Distribution"]
    assert len(found) == 1, "one CloudFront distribution for the Studio"
    return found[0]["Properties"]["DistributionConfig"]


def _distribution_id() -> str:
    (name,) = [n for n, r in _resources().items() if r["Type"] == "AWS::CloudFront::Distribution"]
    return name


def _referenced(value: Any) -> str:
    """The logical id behind !Ref X or !GetAtt X.Attr."""
    if "Ref" in value:
        return value["Ref"]
    target = value["Fn::GetAtt"]
    return target.split(".")[0] if isinstance(target, str) else target[0]


def _origin(origin_id: str) -> dict[str, Any]:
    (origin,) = [o for o in _distribution()["Origins"] if o["Id"] == origin_id]
    return origin


def _app_origin() -> dict[str, Any]:
    return _origin(_distribution()["DefaultCacheBehavior"]["TargetOriginId"])


def _app_bucket_id() -> str:
    return _referenced(_app_origin()["DomainName"])


def _api_behavior() -> dict[str, Any]:
    (behavior,) = [b for b in _distribution().get("CacheBehaviors", []) if b["PathPattern"] == "/v1/*"]
    return behavior


def test_the_app_bucket_is_private_encrypted_versioned_and_logged():
    bucket = _resources()[_app_bucket_id()]
    assert bucket["Type"] == "AWS::S3::Bucket"
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert props["VersioningConfiguration"]["Status"] == "Enabled"
    assert "WebsiteConfiguration" not in props  # not an S3 website endpoint: reachable only through S3's API
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "LogBucket"}
    # the log bucket's policy lets S3 deliver this bucket's logs under the prefix it writes to
    delivery = [s for s in _resources()["LogBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
                if s["Condition"].get("ArnLike", {}).get("aws:SourceArn") == {"Fn::GetAtt": f"{_app_bucket_id()}.Arn"}]
    assert len(delivery) == 1
    assert props["LoggingConfiguration"]["LogFilePrefix"] in delivery[0]["Resource"]["Fn::Sub"]


def test_only_this_distribution_can_read_the_app_bucket_through_origin_access_control():
    bucket_id = _app_bucket_id()
    (policy,) = [r["Properties"]["PolicyDocument"] for r in _resources().values()
                 if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket_id}]
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == {"Fn::Sub": f"${{{bucket_id}.Arn}}/*"}
    source_arn = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert re.fullmatch(r"arn:\$\{AWS::Partition\}:cloudfront::\$\{AWS::AccountId\}:distribution/\$\{(\w+)\}",
                        source_arn).group(1) == _distribution_id()
    denies = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert denies and denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    origin = _app_origin()
    assert origin["DomainName"] == {"Fn::GetAtt": f"{bucket_id}.RegionalDomainName"}
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""  # no legacy OAI
    oac = _resources()[_referenced(origin["OriginAccessControlId"])]
    assert oac["Type"] == "AWS::CloudFront::OriginAccessControl"
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == (
        "s3", "always", "sigv4")


def test_the_api_prefix_goes_to_api_gateway_uncached_with_every_method_and_the_viewer_headers():
    behavior = _api_behavior()
    origin = _origin(behavior["TargetOriginId"])
    # API Gateway's stage is the path prefix: /v1/auth/login reaches stage v1's /auth/login as it is.
    assert load_template(TEMPLATE_PATH)["Resources"]["Api"]["Properties"]["StageName"] == "v1"
    assert origin["DomainName"] == {"Fn::Sub": "${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert not origin.get("OriginPath")
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert set(behavior["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert behavior["CachePolicyId"] == CACHING_DISABLED
    # Authorization (and every other viewer header) reaches API Gateway; Host does not, API Gateway routes on it.
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert "FunctionAssociations" not in behavior  # the SPA fallback never rewrites an API path
    # the app calls the API on its own origin under that prefix
    assert re.search(r'API_BASE = "/v1"', (REPO / "web/src/api.ts").read_text())


def test_the_default_behavior_serves_the_app_with_the_spa_fallback_and_security_headers():
    config = _distribution()
    default = config["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    assert set(default["AllowedMethods"]) == {"GET", "HEAD"}
    (association,) = default["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    function = _resources()[_referenced(association["FunctionARN"])]
    assert function["Type"] == "AWS::CloudFront::Function"
    assert function["Properties"]["AutoPublish"] is True
    # no CustomErrorResponses: they would turn the API's own 403/404 under /v1 into index.html
    assert "CustomErrorResponses" not in config
    assert config["DefaultRootObject"] == "index.html"

    policy = _resources()[_referenced(default["ResponseHeadersPolicyId"])]
    assert policy["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["StrictTransportSecurity"]["IncludeSubdomains"] is True
    assert "ContentTypeOptions" in headers
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert all(header["Override"] for header in headers.values())
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";")}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    # same origin for the API; the WebSocket API (pushed progress) is API Gateway's wss endpoint of the region
    assert directives["connect-src"] == ["'self'", "wss://*.execute-api.${AWS::Region}.${AWS::URLSuffix}"]


def test_viewers_get_https_only_http2_and_3_and_tls_1_2_with_a_custom_domain():
    config = _distribution()
    behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert [b["ViewerProtocolPolicy"] for b in behaviors] == ["redirect-to-https"] * len(behaviors)
    assert config["HttpVersion"] == "http2and3"
    assert config["PriceClass"] == {"Ref": "StudioPriceClass"}
    condition, custom_domain, default = config["ViewerCertificate"]["Fn::If"]
    assert condition == "HasStudioDomain"
    assert custom_domain["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert custom_domain["SslSupportMethod"] == "sni-only"
    assert default == {"CloudFrontDefaultCertificate": True}
    assert config["Logging"]["Bucket"]["Fn::GetAtt"].endswith(".DomainName")


def _run_spa_fallback(uris: list[str]) -> list[dict[str, Any]]:
    """Runs the template's CloudFront Function (cloudfront-js-2.0 is ECMAScript 5.1 plus a few ES6 parts, a subset
    of what node runs) on a viewer-request event per URI; answers the requests it returns."""
    (function,) = [r["Properties"] for r in _resources().values() if r["Type"] == "AWS::CloudFront::Function"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    harness = function["FunctionCode"] + """
const uris = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = uris.map((uri) => handler({version: "1.0", context: {eventType: "viewer-request"},
  viewer: {ip: "192.0.2.1"},
  request: {method: "GET", uri: uri, querystring: {next: {value: "/write"}}, headers: {}, cookies: {}}}));
process.stdout.write(JSON.stringify(out));
"""
    node = shutil.which("node")
    assert node, "node (v20) runs the CloudFront Function's code"
    result = subprocess.run([node, "-e", harness], input=json.dumps(uris), capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_the_spa_fallback_sends_app_routes_to_index_html_and_leaves_files_alone():
    routes = ["/", "/read/abc", "/read/abc/versions", "/watch/0b6f0f9c-3b1e-4f1e-9a57-9f0d2c1b7e11", "/signin"]
    files = ["/assets/x.js", "/assets/index-CTpvpzTP.css", "/favicon.svg", "/index.html"]
    requests = _run_spa_fallback(routes + files)
    assert [r["uri"] for r in requests] == ["/index.html"] * len(routes) + files
    assert all(r["method"] == "GET" and r["querystring"] == {"next": {"value": "/write"}} for r in requests)


def test_outputs_give_the_studio_url_bucket_and_distribution():
    outputs = load_template(TEMPLATE_PATH)["Outputs"]
    assert outputs["StudioBucketName"]["Value"] == {"Ref": _app_bucket_id()}
    assert outputs["StudioDistributionId"]["Value"] == {"Ref": _distribution_id()}
    assert {"Fn::Sub": f"https://${{{_distribution_id()}.DomainName}}"} in outputs["StudioUrl"]["Value"]["Fn::If"]


def test_make_deploy_web_syncs_the_stack_bucket_then_invalidates_index_html(tmp_path: Path):
    """Runs the real recipe (the `web` build taken as done) with a stand-in `aws` that records its arguments."""
    calls = tmp_path / "calls.jsonl"
    fake_aws = tmp_path / "aws"
    fake_aws.write_text(f"""#!/usr/bin/env python3
import json, sys
args = sys.argv[1:]
with open({str(calls)!r}, "a") as f:
    f.write(json.dumps(args) + "\\n")
query = args[args.index("--query") + 1] if "--query" in args else ""
print({{"StudioBucketName": "studio-bucket-1", "StudioDistributionId": "E2EXAMPLE"}}.get(
    query.split("'")[1] if "'" in query else "", ""))
""")
    fake_aws.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    subprocess.run(["make", "-f", str(MAKEFILE), "-o", "web", "deploy-web", "STACK=narraforge-prod"], cwd=REPO,
                   env=env, check=True, capture_output=True, text=True)
    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    describes = [c for c in recorded if c[:2] == ["cloudformation", "describe-stacks"]]
    assert {c[c.index("--stack-name") + 1] for c in describes} == {"narraforge-prod"}
    assert {c[c.index("--query") + 1] for c in describes} == {
        f"Stacks[0].Outputs[?OutputKey=='{key}'].OutputValue" for key in ("StudioBucketName", "StudioDistributionId")}
    actions = [c for c in recorded if c not in describes]
    assert [c[:4] for c in actions] == [
        ["s3", "sync", "web/dist/assets", "s3://studio-bucket-1/assets"],
        ["s3", "sync", "web/dist", "s3://studio-bucket-1"],
        ["cloudfront", "create-invalidation", "--distribution-id", "E2EXAMPLE"]]
    assert all("--delete" in c for c in actions[:2])
    assert actions[2][-2:] == ["--paths", "/index.html"]


@pytest.mark.parametrize("stack_outputs", ["", "None"])
def test_make_deploy_web_stops_when_the_stack_has_no_studio(tmp_path: Path, stack_outputs: str):
    fake_aws = tmp_path / "aws"
    fake_aws.write_text(f"#!/bin/sh\necho '{stack_outputs}'\ncase \"$1\" in s3|cloudfront) exit 99;; esac\n")
    fake_aws.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    result = subprocess.run(["make", "-f", str(MAKEFILE), "-o", "web", "deploy-web"], cwd=REPO, env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "has no Studio outputs" in result.stderr
