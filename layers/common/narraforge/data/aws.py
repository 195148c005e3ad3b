"""boto3 clients, created once per process on first use (settings are read lazily, never at import)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from narraforge.config import get_settings

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str) -> Any:
    return boto3.client(service, region_name=get_settings().aws_region, config=_CONFIG)


def reset_clients() -> None:
    client.cache_clear()
