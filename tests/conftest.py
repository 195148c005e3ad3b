"""Shared fixtures: a moto account with the template's resources, and clients that speak HTTP
either through a real API Gateway event into the handler (in-process) or over the wire (e2e)."""

from __future__ import annotations

import os

TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TABLE_NAME": "narraforge-test",
    "BUCKET_NAME": "narraforge-test",
    "JWT_SECRET": "test-signing-key-0123456789abcdef0123456789",
    # Argon2id at a low cost: 2 cores are shared by hundreds of tests (production uses OWASP's parameters).
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_KIB": "64",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    # Suites create many jobs and logins per minute; the rate-limit tests set their own small limits.
    "RATE_LIMIT_AUTH_PER_MINUTE": "10000",
    "RATE_LIMIT_GENERATION_PER_MINUTE": "10000",
    "RATE_LIMIT_DEFAULT_PER_MINUTE": "10000",
    "RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE": "10000",
    "RATE_LIMIT_REGISTER_PER_IP_PER_HOUR": "10000",
}
for _name, _value in TEST_ENV.items():
    os.environ[_name] = _value
os.environ.pop("AWS_ENDPOINT_URL", None)

import pytest  # noqa: E402 - the environment above must be set before anything reads it
from moto import mock_aws  # noqa: E402

from tests.helpers import HandlerClient, reset_process_caches, stop_running_executions  # noqa: E402

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
# Retries really sleep under moto: keep them few and short (the template's defaults are for the cloud).
TEST_PARAMETERS = {"LlmRetryIntervalSeconds": 1, "LlmRetryMaxAttempts": 2, "SegmentMapConcurrency": 4}


@pytest.fixture
def stack_parameters() -> dict:
    """Template parameters of the test stack; a module can override this fixture."""
    return dict(TEST_PARAMETERS)


@pytest.fixture
def aws(stack_parameters):
    """A fresh moto account holding the table, bucket and state machine exactly as template.yaml
    declares them, with the real stage runner bridged into moto's Lambda."""
    from narraforge_dev.local import lambda_bridge, moto_isolation

    moto_isolation.install()
    with mock_aws(config=MOTO_CONFIG):
        reset_process_caches()
        from narraforge_dev.local.resources import create_resources

        lambda_bridge.install()
        create_resources(stack_parameters)
        yield
        stop_running_executions()
    lambda_bridge.uninstall()
    os.environ.pop("STATE_MACHINE_ARN", None)
    reset_process_caches()


@pytest.fixture
def api(aws) -> HandlerClient:
    """Calls the functions' real handlers with API Gateway REST proxy events (routes from the template)."""
    return HandlerClient()
