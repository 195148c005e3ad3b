"""The OpenAI provider: the official SDK against api.openai.com or any OpenAI-compatible server (vLLM, Ollama,
llama.cpp's llama-server, llama-cpp-python's server, LM Studio via OPENAI_BASE_URL). The SDK's own retries are
off: Step Functions retries the typed errors with backoff and jitter, so a retry is visible in the execution
history.

Servers differ in what they accept, so each endpoint (base URL + model) learns its quirks once and remembers
them for the life of the process: the structured-reply mode steps down `json_schema` → `json_object` with the
schema → the schema in the prompt, the token cap is sent as `max_completion_tokens` where `max_tokens` is
refused, and `temperature` is left out where only the default is accepted. A refusal that names such a
parameter is a capability answer, not a server fault: the request is re-sent at once, adjusted, in the same call
(nothing was generated, so nothing is billed)."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import openai

from narraforge.config import get_settings
from narraforge.llm.base import (
    Completion,
    LlmBadOutput,
    LlmRefused,
    LlmServerError,
    LlmThrottled,
    LlmTimeout,
    Message,
    ProviderError,
    Usage,
)

MAX_CONTINUATIONS = 3
CONTINUE_PROMPT = ("Continue exactly where you stopped, without repeating anything and without any preamble. "
                   "Finish the segment.")
JSON_RETRY_PROMPT = ("Your reply was not valid JSON for the requested schema. Reply again with only the JSON "
                     "object, nothing else.")
# Told to the model when the server cannot enforce the schema itself (json_object without it, or plain text).
SCHEMA_PROMPT = "Reply with only one JSON object, without code fences or comments, for the schema named {name}:\n"
# Statuses with which servers refuse a request they cannot take: OpenAI 400, vLLM/LM Studio 400 or 422,
# llama-cpp-python 500 (its route handler turns a request validation error into a 500).
REFUSAL_STATUSES = frozenset({400, 422, 500})
# Model families that take only `max_completion_tokens` (OpenAI's reasoning models): no refused request first.
COMPLETION_TOKENS_FAMILIES = re.compile(r"^(o\d|gpt-5)")
FENCED_RE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class StructuredMode(StrEnum):
    JSON_SCHEMA = "json_schema"  # response_format json_schema: the server enforces the schema (OpenAI, vLLM, ...)
    JSON_OBJECT = "json_object"  # response_format json_object + schema (llama-cpp-python turns it into a grammar)
    PROMPT = "prompt"  # no response_format: the schema in the prompt, the reply's JSON object repaired out


LADDER = (StructuredMode.JSON_SCHEMA, StructuredMode.JSON_OBJECT, StructuredMode.PROMPT)


@dataclass(frozen=True)
class Quirks:
    """What one endpoint (base URL + model) accepts, as learned from its refusals."""

    structured: StructuredMode = StructuredMode.JSON_SCHEMA
    strict: bool = True  # strict json_schema for schemas that qualify, until the endpoint refuses one
    token_param: str = "max_tokens"
    send_temperature: bool = True


_ENDPOINTS: dict[tuple[str, str], Quirks] = {}
_ENDPOINTS_LOCK = threading.Lock()


def quirks_of(base_url: str, model: str) -> Quirks:
    """The endpoint's remembered quirks; a model family known to refuse `max_tokens` starts without it."""
    with _ENDPOINTS_LOCK:
        known = _ENDPOINTS.get((base_url, model))
    if known is not None:
        return known
    return Quirks(token_param="max_completion_tokens" if COMPLETION_TOKENS_FAMILIES.match(model) else "max_tokens")


def forget_endpoints() -> None:
    """Forget every learned quirk (tests; a server replaced behind the same URL)."""
    with _ENDPOINTS_LOCK:
        _ENDPOINTS.clear()


def _remember(base_url: str, model: str, quirks: Quirks) -> None:
    with _ENDPOINTS_LOCK:
        _ENDPOINTS[(base_url, model)] = quirks


def _api_key() -> str:
    settings = get_settings()
    if settings.openai_api_key is not None:
        return settings.openai_api_key.get_secret_value()
    if settings.openai_api_key_param:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_parameter(settings.openai_api_key_param, decrypt=True, max_age=300))
    return "not-needed"  # OpenAI-compatible local servers (Ollama, llama.cpp) accept any key


class OpenAIProvider:
    name = "openai"

    def __init__(self, client: openai.OpenAI) -> None:
        self.client = client
        self.endpoint = str(client.base_url)

    @classmethod
    def from_settings(cls, http_client: Any = None) -> OpenAIProvider:
        settings = get_settings()
        client = openai.OpenAI(api_key=_api_key(), base_url=settings.openai_base_url or None,
                               timeout=settings.llm_timeout_seconds, max_retries=0, http_client=http_client)
        return cls(client)

    def complete(
        self,
        messages: list[Message],
        *,
        model: str,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        history = [{"role": m.role, "content": m.content} for m in messages]
        prompt_tokens = completion_tokens = 0
        parts: list[str] = []
        finish_reason = "stop"
        used_model = model
        quirks = quirks_of(self.endpoint, model)
        attempts = 2 if json_schema else MAX_CONTINUATIONS + 1
        for attempt in range(attempts):
            try:
                response, quirks = self._send(history, model=model, max_tokens=max_tokens, temperature=temperature,
                                              json_schema=json_schema)
            except ProviderError as exc:
                if prompt_tokens or completion_tokens:
                    exc.usage = Usage(prompt_tokens, completion_tokens)
                raise
            choice = response.choices[0]
            text = choice.message.content or ""
            finish_reason = choice.finish_reason or "stop"
            used_model = response.model or model
            if response.usage is not None:
                prompt_tokens += response.usage.prompt_tokens or 0
                completion_tokens += response.usage.completion_tokens or 0
            if json_schema:
                found = first_json_object(text)
                if found is not None:
                    parts = [found]
                    break
                if attempt == attempts - 1:
                    raise LlmBadOutput(f"{json_schema.get('name', 'reply')}: not valid JSON after a re-prompt",
                                       usage=Usage(prompt_tokens, completion_tokens))
                history += [{"role": "assistant", "content": text}, {"role": "user", "content": JSON_RETRY_PROMPT}]
                continue
            parts.append(text)
            if finish_reason != "length":
                break
            history += [{"role": "assistant", "content": text}, {"role": "user", "content": CONTINUE_PROMPT}]
        metadata: dict[str, Any] = {"engine": "openai", "model": used_model}
        if json_schema:
            metadata["structured"] = quirks.structured.value
        return Completion(text="".join(parts) if not json_schema else parts[0],
                          usage=Usage(prompt_tokens, completion_tokens), model=used_model,
                          finish_reason=finish_reason, metadata=metadata)

    def _send(self, history: list[dict[str, str]], *, model: str, max_tokens: int, temperature: float,
              json_schema: dict[str, Any] | None) -> tuple[Any, Quirks]:
        """One request, re-sent adjusted after each capability refusal (each adjustment is remembered).
        Bounded: every refusal changes one setting that never changes back."""
        quirks = quirks_of(self.endpoint, model)
        while True:
            request = _request(history, quirks, model=model, max_tokens=max_tokens, temperature=temperature,
                               json_schema=json_schema)
            try:
                return self.client.chat.completions.create(**request), quirks
            except openai.APITimeoutError as exc:
                raise LlmTimeout(str(exc)) from exc
            except openai.APIConnectionError as exc:
                raise LlmServerError(f"connection failed: {exc}") from exc
            except openai.APIStatusError as exc:
                strict_sent = bool(request.get("response_format", {}).get("json_schema", {}).get("strict"))
                adjusted = _adjusted(quirks, exc, structured=json_schema is not None, strict_sent=strict_sent)
                if adjusted is None:
                    raise _typed_error(exc) from exc
                quirks = adjusted
                _remember(self.endpoint, model, quirks)


def _request(history: list[dict[str, str]], quirks: Quirks, *, model: str, max_tokens: int, temperature: float,
             json_schema: dict[str, Any] | None) -> dict[str, Any]:
    request: dict[str, Any] = {"model": model, "messages": history, quirks.token_param: max_tokens}
    if quirks.send_temperature:
        request["temperature"] = temperature
    if not json_schema:
        return request
    name, schema = str(json_schema.get("name", "reply")), json_schema["schema"]
    if quirks.structured is StructuredMode.JSON_SCHEMA:
        request["response_format"] = {"type": "json_schema", "json_schema": {
            "name": name, "schema": schema, "strict": quirks.strict and is_strict_schema(schema)}}
        return request
    if quirks.structured is StructuredMode.JSON_OBJECT:
        request["response_format"] = {"type": "json_object", "schema": schema}
    request["messages"] = _with_schema_prompt(history, name, schema)
    return request


def _with_schema_prompt(history: list[dict[str, str]], name: str, schema: dict[str, Any]) -> list[dict[str, str]]:
    """The schema told in the system message (a second system message breaks some chat templates)."""
    told = SCHEMA_PROMPT.format(name=name) + json.dumps(schema, separators=(",", ":"), ensure_ascii=False)
    if history and history[0]["role"] == "system":
        return [{"role": "system", "content": f"{history[0]['content']}\n\n{told}"}, *history[1:]]
    return [{"role": "system", "content": told}, *history]


def _adjusted(quirks: Quirks, exc: openai.APIStatusError, *, structured: bool, strict_sent: bool) -> Quirks | None:
    """The quirks to retry with when `exc` is a capability refusal, else None (a real error). A schema refused
    in strict mode (OpenAI: "Invalid schema ...", a keyword strict mode does not take) is re-sent without strict,
    still enforced; any other refusal naming response_format steps down the ladder."""
    if exc.status_code not in REFUSAL_STATUSES:
        return None
    said = f"{exc.message} {json.dumps(exc.body, default=str)}".lower()
    if quirks.token_param == "max_tokens" and "max_tokens" in said and "max_completion_tokens" in said:
        return replace(quirks, token_param="max_completion_tokens")
    if quirks.send_temperature and "temperature" in said and "unsupported" in said:
        return replace(quirks, send_temperature=False)
    if structured and quirks.structured is not StructuredMode.PROMPT and (
            "response_format" in said or "json_schema" in said):
        if strict_sent and ("strict" in said or "invalid schema" in said):
            return replace(quirks, strict=False)
        return replace(quirks, structured=LADDER[LADDER.index(quirks.structured) + 1])
    return None


def _typed_error(exc: openai.APIStatusError) -> ProviderError:
    if isinstance(exc, openai.RateLimitError):
        return LlmThrottled(str(exc))
    if exc.status_code >= 500:
        return LlmServerError(str(exc))
    return LlmRefused(f"the model API refused the request ({exc.status_code}): {exc}")


def is_strict_schema(schema: Any) -> bool:
    """OpenAI's strict mode takes only schemas whose every object lists all its properties as required and
    forbids others; asking strict for any other schema is refused, so it is asked only for those."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            properties = schema.get("properties", {})
            if schema.get("additionalProperties") is not False or set(schema.get("required", [])) != set(properties):
                return False
        return all(is_strict_schema(value) for value in schema.values())
    if isinstance(schema, list):
        return all(is_strict_schema(value) for value in schema)
    return True


def first_json_object(text: str) -> str | None:
    """The reply's JSON object, as written: a model whose output the server does not enforce may wrap it in a
    code fence, lead with a sentence or trail one. The fenced block is tried first, then the text from its first
    brace; a nested object of a broken one is never taken for the reply, nor a list or a number."""
    fenced = FENCED_RE.search(text)
    for candidate in ([fenced.group(1)] if fenced else []) + [text]:
        start = candidate.find("{")
        if start == -1:
            continue
        try:
            value, end = json.JSONDecoder().raw_decode(candidate, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            return candidate[start:end]
    return None
