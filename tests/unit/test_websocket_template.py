"""The WebSocket API of template.yaml (issue #13 §2): its routes reach the realtime function, and only the functions
that push may post to its connections — and delete nothing but connection items."""

from __future__ import annotations

from narraforge_dev.local.template import resources_of_type
from narraforge_dev.local.websocket import select_route, socket_routes, stage_name

FUNCTIONS = resources_of_type("AWS::Serverless::Function")
PUSHERS = {"StageRunnerFunction", "JobsFunction"}


def _statements(name: str) -> list[dict]:
    found = []
    for policy in FUNCTIONS[name]["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            found.append(statement["Fn::If"][1] if "Fn::If" in statement else statement)
    return found


def test_every_route_reaches_the_realtime_function_by_body_action():
    (api,) = resources_of_type("AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert api["Properties"]["RouteSelectionExpression"] == "$request.body.action"
    routes = socket_routes()
    assert set(routes) == {"$connect", "$disconnect", "subscribe", "$default"}
    assert {(r.function, r.module, r.handler) for r in routes.values()} == {
        ("RealtimeFunction", "functions.realtime.app", "handler")}
    assert stage_name() == "ws"
    assert select_route('{"action": "subscribe"}') == "subscribe"
    assert select_route('{"action": "$connect"}') == select_route("nonsense") == "$default"


def test_only_the_pushing_functions_manage_connections_and_know_where():
    for name in FUNCTIONS:
        manage = [s for s in _statements(name) if s["Action"] == "execute-api:ManageConnections"]
        variables = FUNCTIONS[name]["Properties"].get("Environment", {}).get("Variables", {})
        if name not in PUSHERS:
            assert not manage and "WEBSOCKET_MANAGEMENT_URL" not in variables, name
            continue
        (statement,) = manage
        assert statement["Resource"]["Fn::Sub"].endswith(":${WebSocketApi}/${WebSocketStage}/POST/@connections/*")
        assert "${WebSocketApi}" in variables["WEBSOCKET_MANAGEMENT_URL"]["Fn::Sub"]
        (delete,) = [s for s in _statements(name) if s["Action"] == "dynamodb:DeleteItem"]
        assert delete["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CONN#*", "JOBSUBS#*"]}}


def test_the_stage_logs_and_throttles_and_only_api_gateway_invokes_the_function():
    (stage,) = resources_of_type("AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] and settings["ThrottlingBurstLimit"]
    assert "$context.connectionId" in stage["Properties"]["AccessLogSettings"]["Format"]
    (permission,) = [p for p in resources_of_type("AWS::Lambda::Permission").values()
                     if p["Properties"]["FunctionName"] == {"Ref": "RealtimeFunction"}]
    assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
    assert "${WebSocketApi}/*" in permission["Properties"]["SourceArn"]["Fn::Sub"]
