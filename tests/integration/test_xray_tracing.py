"""The real X-Ray SDK, live as in Lambda, sends the stage runner's subsegments to a daemon address:
each invocation is findable by job id and stage, and an error is recorded on it."""

from __future__ import annotations

from tests.helpers import IN_LAMBDA, in_fresh_interpreter

PROBE = """
import json, os, socket
daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
daemon.bind(("127.0.0.1", 0))
daemon.settimeout(2)
os.environ["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:%d" % daemon.getsockname()[1]
import functions.stage_runner.app
from narraforge.pipeline.handler import handle
os.environ["_X_AMZN_TRACE_ID"] = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
try:
    handle({"action": "unknown", "user_id": "U1", "job_id": "J1", "segment": 3})
except Exception as exc:
    raised = type(exc).__name__
documents = []
try:
    while True:
        documents.append(json.loads(daemon.recv(65536).decode().partition("\\n")[2]))
except socket.timeout:
    pass
print(json.dumps({"raised": raised, "documents": documents}))
"""


def test_stage_runner_invocations_reach_xray_annotated():
    report = in_fresh_interpreter(PROBE, IN_LAMBDA)
    assert report["raised"] == "ValidationFailed"
    [document] = [d for d in report["documents"] if d.get("name") == "## unknown"]
    assert document["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert document["annotations"] == {"job_id": "J1", "stage": "unknown", "segment": "3"}
    assert document["fault"] is True
    assert document["cause"]["exceptions"][0]["type"] == "ValidationFailed"
