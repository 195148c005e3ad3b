"""The OpenAI provider (official SDK) against a fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import pytest
from narraforge.config import reset_settings
from narraforge.llm.base import LlmBadOutput, LlmServerError, LlmThrottled, LlmTimeout, Message, ValidationFailed
from narraforge.llm.openai_provider import CONTINUE_PROMPT, JSON_RETRY_PROMPT, OpenAIProvider

from tests.fake_openai import FakeOpenAI, Fault

SCHEMA = {"name": "verdict", "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}},
                                         "required": ["ok"]}}
ASK = [Message("system", "You judge."), Message("user", "Is it fine?")]


@pytest.fixture(scope="module")
def fake():
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def provider(fake, monkeypatch):
    fake.faults.clear()
    fake.requests.clear()
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "1")
    reset_settings()
    yield OpenAIProvider.from_settings()
    reset_settings()


def call(provider, **kwargs):
    return provider.complete(ASK, model="gpt-4o-mini", max_tokens=200, temperature=0.2, **kwargs)


def test_structured_output_is_requested_and_returned(provider, fake):
    fake.script(Fault(content='{"ok": true}'))
    reply = call(provider, json_schema=SCHEMA)
    assert reply.text == '{"ok": true}'
    sent = fake.requests[-1]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "verdict"
    assert reply.usage.prompt_tokens > 0 and reply.metadata["engine"] == "openai"


def test_malformed_json_gets_one_reprompt(provider, fake):
    fake.script(Fault(content="Sure! Here it is: {ok: yes"), Fault(content='{"ok": false}'))
    reply = call(provider, json_schema=SCHEMA)
    assert reply.text == '{"ok": false}'
    assert len(fake.requests) == 2
    assert fake.requests[-1]["messages"][-1]["content"] == JSON_RETRY_PROMPT
    first, second = fake.requests
    assert len(second["messages"]) == len(first["messages"]) + 2


def test_malformed_json_twice_is_bad_output(provider, fake):
    fake.script(Fault(content="nope"), Fault(content="[1, 2]"))
    with pytest.raises(LlmBadOutput):
        call(provider, json_schema=SCHEMA)


def test_truncated_prose_is_continued_not_cut(provider, fake):
    fake.script(Fault(content="The tide rose and", finish_reason="length"),
                Fault(content=" the lamp went dark.", finish_reason="stop"))
    reply = call(provider)
    assert reply.text == "The tide rose and the lamp went dark."
    assert reply.finish_reason == "stop"
    assert fake.requests[-1]["messages"][-1]["content"] == CONTINUE_PROMPT
    assert fake.requests[-1]["messages"][-2] == {"role": "assistant", "content": "The tide rose and"}


@pytest.mark.parametrize(("fault", "error"), [
    (Fault(status=429), LlmThrottled),
    (Fault(status=500), LlmServerError),
    (Fault(status=503), LlmServerError),
    (Fault(delay=2.5), LlmTimeout),
    (Fault(status=401), ValidationFailed),
    (Fault(status=400), ValidationFailed),
])
def test_sdk_errors_map_to_typed_errors_without_sdk_retries(provider, fake, fault, error):
    fake.script(fault)
    with pytest.raises(error):
        call(provider)
    assert len(fake.requests) == 1  # the SDK did not retry: Step Functions does
