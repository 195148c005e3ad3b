"""The OpenAI provider (official SDK) against a fake OpenAI-compatible server on loopback, including fakes that
behave like the servers people run (llama-cpp-python, OpenAI's newer models, servers without structured output)."""

from __future__ import annotations

import json

import pytest
from narraforge.config import reset_settings
from narraforge.llm.base import LlmBadOutput, LlmRefused, LlmServerError, LlmThrottled, LlmTimeout, Message
from narraforge.llm.openai_provider import (
    CONTINUE_PROMPT,
    JSON_RETRY_PROMPT,
    SCHEMA_PROMPT,
    OpenAIProvider,
    first_json_object,
    forget_endpoints,
    is_strict_schema,
)
from narraforge.pipeline.prompts import brief_interpretation as prompt
from narraforge.pipeline.stages.brief_interpretation import Interpretation, layout_of
from narraforge.pipeline.stages.calls import parse_json, schema_for
from narraforge.schemas.briefs import ProductionBrief

from narraforge_dev.fake_openai import FakeOpenAI, Fault

SCHEMA = {"name": "verdict", "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}},
                                         "required": ["ok"]}}
ASK = [Message("system", "You judge."), Message("user", "Is it fine?")]


@pytest.fixture(scope="module")
def fake():
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


def provider_for(url, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "1")
    reset_settings()
    forget_endpoints()
    return OpenAIProvider.from_settings()


@pytest.fixture
def provider(fake, monkeypatch):
    fake.faults.clear()
    fake.requests.clear()
    yield provider_for(fake.url, monkeypatch)
    reset_settings()
    forget_endpoints()


@pytest.fixture
def server(monkeypatch):
    """`server(**behaviour)`: a fake that behaves like some real server, and a provider pointed at it."""
    started = []

    def start(**behaviour):
        fake = FakeOpenAI(**behaviour)
        fake.start()
        started.append(fake)
        return fake, provider_for(fake.url, monkeypatch)

    yield start
    for fake in started:
        fake.stop()
    reset_settings()
    forget_endpoints()


def call(provider, model="gpt-4o-mini", **kwargs):
    return provider.complete(ASK, model=model, max_tokens=200, temperature=0.2, **kwargs)


BRIEF = ProductionBrief(production_type="short_story", genre="drama", subject="A lighthouse keeper finds a letter",
                        target_length=1500)


def planning_call(provider, model="local-model"):
    """Stage 1's real prompt and schema, so the fake's offline brain answers as a model would; parsed by the stage's
    own parser."""
    completion = provider.complete(prompt.messages(BRIEF, layout_of(BRIEF.target_length)), model=model,
                                   max_tokens=900, temperature=0.4,
                                   json_schema=schema_for(prompt.SCHEMA_NAME, Interpretation))
    return completion, parse_json(completion, name=prompt.SCHEMA_NAME, model=Interpretation)


def formats_sent(fake):
    return [(r.get("response_format") or {}).get("type", "none") for r in fake.requests]


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
    (Fault(status=401), LlmRefused),
    (Fault(status=400), LlmRefused),
])
def test_sdk_errors_map_to_typed_errors_without_sdk_retries(provider, fake, fault, error):
    fake.script(fault)
    with pytest.raises(error):
        call(provider)
    assert len(fake.requests) == 1  # the SDK did not retry: Step Functions does


def test_llama_cpp_python_refusing_json_schema_steps_down_to_json_object_once(server):
    fake, provider = server(formats=frozenset({"text", "json_object"}))  # llama-cpp-python's server
    completion, reply = planning_call(provider)
    assert reply.premise and completion.metadata["structured"] == "json_object"
    assert formats_sent(fake) == ["json_schema", "json_object"]  # the refusal (a 500) was a capability answer
    sent = fake.requests[-1]
    assert sent["response_format"]["schema"] == Interpretation.model_json_schema()
    assert SCHEMA_PROMPT.format(name="brief_interpretation") in sent["messages"][0]["content"]
    assert completion.usage.total_tokens == fake.billed_tokens  # the refused request cost nothing

    planning_call(provider)  # remembered for this endpoint: straight to json_object
    assert formats_sent(fake) == ["json_schema", "json_object", "json_object"]


def test_a_server_without_structured_output_gets_the_schema_in_the_prompt(server):
    fake, provider = server(formats=frozenset({"text"}))
    completion, reply = planning_call(provider)
    assert reply.working_title and completion.metadata["structured"] == "prompt"
    assert formats_sent(fake) == ["json_schema", "json_object", "none"]
    assert SCHEMA_PROMPT.format(name="brief_interpretation") in fake.requests[-1]["messages"][0]["content"]
    planning_call(provider)
    assert formats_sent(fake)[3:] == ["none"]


def test_a_reply_in_a_code_fence_with_trailing_text_is_repaired_without_a_reprompt(server):
    fake, provider = server(fenced_json=True)  # ignores response_format, answers in a fence
    completion, reply = planning_call(provider)
    assert reply.themes
    assert json.loads(completion.text) == reply.model_dump()
    assert len(fake.requests) == 1


def test_memory_is_per_endpoint_and_model(server):
    fake, provider = server(formats=frozenset({"text", "json_object"}))
    planning_call(provider, model="model-a")
    planning_call(provider, model="model-b")  # another model on the same server learns for itself
    assert formats_sent(fake) == ["json_schema", "json_object", "json_schema", "json_object"]


def test_a_server_fault_while_structured_is_not_taken_for_a_capability(server):
    fake, provider = server()
    fake.script(Fault(status=500))
    with pytest.raises(LlmServerError):
        planning_call(provider)
    planning_call(provider)
    assert formats_sent(fake) == ["json_schema", "json_schema"]


def test_a_refusal_not_naming_a_parameter_stays_an_error(server):
    fake, provider = server(formats=frozenset({"text"}),
                            format_refusal=(400, {"error": {"message": "model not loaded", "type": "bad_request"}}))
    with pytest.raises(LlmRefused):
        planning_call(provider)
    assert len(fake.requests) == 1


def test_max_tokens_refused_like_newer_openai_models_is_sent_as_max_completion_tokens(server):
    fake, provider = server(refuses_max_tokens=True)
    fake.script(Fault(content="The tide rose."), Fault(content="The lamp went dark."))
    reply = call(provider, model="gpt-4.1-mini")  # not a family known to need it: learned from the refusal
    assert reply.text
    first, second = fake.requests
    assert first["max_tokens"] == 200 and "max_completion_tokens" not in first
    assert second["max_completion_tokens"] == 200 and "max_tokens" not in second
    call(provider, model="gpt-4.1-mini")
    assert len(fake.requests) == 3 and fake.requests[-1]["max_completion_tokens"] == 200


def test_reasoning_families_get_max_completion_tokens_and_lose_a_refused_temperature(server):
    fake, provider = server(refuses_max_tokens=True, refuses_temperature=True)
    fake.script(Fault(content="The tide rose."))
    assert call(provider, model="gpt-5-mini").text
    first, second = fake.requests  # max_completion_tokens from the start; temperature dropped once refused
    assert "max_tokens" not in first and first["temperature"] == 0.2
    assert second["max_completion_tokens"] == 200 and "temperature" not in second
    assert fake.refusals == 1


def test_strict_is_asked_only_for_schemas_strict_mode_accepts(provider, fake):
    strict = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
              "additionalProperties": False}
    assert is_strict_schema(strict) and not is_strict_schema(SCHEMA["schema"])
    assert is_strict_schema(Interpretation.model_json_schema())  # extra="forbid", every field required
    fake.script(Fault(content='{"ok": true}'), Fault(content='{"ok": true}'))
    call(provider, json_schema={"name": "verdict", "schema": strict})
    call(provider, json_schema=SCHEMA)
    assert [r["response_format"]["json_schema"]["strict"] for r in fake.requests] == [True, False]


@pytest.mark.parametrize(("text", "found"), [
    ('{"ok": true}', '{"ok": true}'),
    ('```json\n{"ok": true}\n```\nHope this helps!', '{"ok": true}'),
    ('Sure, here it is: {"ok": {"deep": 1}} -- and a remark {"x": 2}', '{"ok": {"deep": 1}}'),
    ('{"ok": [{"a": 1}, {"b"', None),  # truncated: its nested objects are not the reply
    ("[1, 2]", None),
    ("{ok: yes", None),
])
def test_the_first_json_object_is_repaired_out_of_a_reply(text, found):
    assert first_json_object(text) == found


def test_a_strict_schema_refused_is_resent_not_strict_and_stays_json_schema(server):
    fake, provider = server(refuses_strict=True)  # OpenAI refusing a keyword strict mode does not take
    completion, reply = planning_call(provider)
    assert reply.premise and completion.metadata["structured"] == "json_schema"
    assert [r["response_format"]["json_schema"]["strict"] for r in fake.requests] == [True, False]
    planning_call(provider)
    assert fake.requests[-1]["response_format"]["json_schema"]["strict"] is False and len(fake.requests) == 3
