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
    "BCRYPT_ROUNDS": "4",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
for _name, _value in TEST_ENV.items():
    os.environ[_name] = _value
os.environ.pop("AWS_ENDPOINT_URL", None)

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.helpers import HandlerClient, reset_process_caches  # noqa: E402


@pytest.fixture
def aws():
    """A fresh moto account holding the table and bucket exactly as template.yaml declares them."""
    with mock_aws():
        reset_process_caches()
        from narraforge.local.resources import create_resources

        create_resources()
        yield
    reset_process_caches()


@pytest.fixture
def api(aws) -> HandlerClient:
    """Calls the functions' real handlers with API Gateway REST proxy events (routes from the template)."""
    return HandlerClient()
