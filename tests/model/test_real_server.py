"""The OpenAI provider against the real llama-cpp-python server with SmolLM2-135M-Instruct: a structured planning
call with stage 1's real prompt and schema, and a prose call, as the pipeline makes them."""

from __future__ import annotations

import json
import urllib.request

from narraforge.llm.base import Message
from narraforge.llm.openai_provider import quirks_of
from narraforge.pipeline.prompts import brief_interpretation as prompt
from narraforge.pipeline.stages.brief_interpretation import Interpretation, layout_of
from narraforge.pipeline.stages.calls import parse_json, schema_for
from narraforge.schemas.briefs import ProductionBrief

from narraforge_dev.local import llm_server

BRIEF = ProductionBrief(production_type="short_story", genre="fantasy",
                        subject="A wizard apprentice discovers forbidden magic", target_length=1500)


def test_a_structured_planning_call_is_parsed(provider, local_model):
    completion = provider.complete(prompt.messages(BRIEF, layout_of(BRIEF.target_length)),
                                   model=local_model.model_id, max_tokens=900, temperature=0.4,
                                   json_schema=schema_for(prompt.SCHEMA_NAME, Interpretation))
    reply = parse_json(completion, name=prompt.SCHEMA_NAME, model=Interpretation)
    assert reply.working_title.strip() and reply.themes
    # llama-cpp-python refuses json_schema (a 500 naming response_format): the provider stepped down to
    # json_object with the schema, which the server enforces as a grammar, and remembers it.
    assert completion.metadata["structured"] == "json_object"
    assert quirks_of(provider.endpoint, local_model.model_id).structured == "json_object"
    assert completion.usage.prompt_tokens > 0 and 0 < completion.usage.completion_tokens <= 2 * 900


def test_a_prose_call_returns_text_with_usage(provider, local_model):
    messages = [Message("system", "You are a novelist. Write vivid, concrete prose in English."),
                Message("user", "Write the opening paragraph of a story about a wizard apprentice who discovers "
                                "forbidden magic in the tower library. About 80 words.")]
    completion = provider.complete(messages, model=local_model.model_id, max_tokens=160, temperature=0.8)
    assert len(completion.text.split()) >= 10
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    assert completion.model and completion.metadata["engine"] == "openai"


def test_the_server_reports_its_model_and_stops():
    with llm_server.start() as server, urllib.request.urlopen(f"{server.openai_base_url}/models", timeout=5) as r:
        assert json.load(r)["data"][0]["id"] == llm_server.MODEL_ID
    assert server.process.returncode is not None
