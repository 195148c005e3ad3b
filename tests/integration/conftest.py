"""Fixtures of the integration tests that talk OAuth: the fake provider on loopback, and the settings that
point Google and GitHub at it (the API's own callback route as the redirect URI)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from narraforge.config import reset_settings

from tests.fake_oauth import REDIRECT_BASE, FakeOAuth


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOAuth]:
    server = FakeOAuth()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def provider(fake: FakeOAuth, monkeypatch: pytest.MonkeyPatch, api) -> Iterator[FakeOAuth]:
    """Google and GitHub both pointed at the fake (clear per test)."""
    fake.reset()
    monkeypatch.setenv("OAUTH_REDIRECT_BASE_URL", REDIRECT_BASE)
    monkeypatch.delenv("OAUTH_CALLBACK_URL", raising=False)
    for name in ("google", "github"):
        for key, value in fake.env(name).items():
            monkeypatch.setenv(key, value)
    reset_settings()
    yield fake
    reset_settings()
