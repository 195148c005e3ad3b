"""The OpenAI provider: the official SDK against api.openai.com or any OpenAI-compatible server
(Ollama, vLLM, llama.cpp via OPENAI_BASE_URL). The SDK's own retries are off: Step Functions retries
the typed errors with backoff and jitter, so a retry is visible in the execution history."""

from __future__ import annotations

import json
from typing import Any

import openai

from narraforge.config import get_settings
from narraforge.llm.base import (
    Completion,
    LlmBadOutput,
    LlmServerError,
    LlmThrottled,
    LlmTimeout,
    Message,
    PipelineError,
    Usage,
    ValidationFailed,
)

MAX_CONTINUATIONS = 3
CONTINUE_PROMPT = ("Continue exactly where you stopped, without repeating anything and without any preamble. "
                   "Finish the segment.")
JSON_RETRY_PROMPT = ("Your reply was not valid JSON for the requested schema. Reply again with only the JSON "
                     "object, nothing else.")


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
        attempts = 2 if json_schema else MAX_CONTINUATIONS + 1
        for attempt in range(attempts):
            try:
                response = self._call(history, model=model, max_tokens=max_tokens, temperature=temperature,
                                      json_schema=json_schema)
            except PipelineError as exc:
                if prompt_tokens or completion_tokens:
                    exc.usage = Usage(prompt_tokens, completion_tokens)
                raise
            choice = response.choices[0]
            text = choice.message.content or ""
            finish_reason = choice.finish_reason or "stop"
            used_model = response.model or model
            if response.usage is not None:
                prompt_tokens += response.usage.prompt_tokens
                completion_tokens += response.usage.completion_tokens
            if json_schema:
                if _is_json_object(text):
                    parts = [text]
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
        return Completion(text="".join(parts) if not json_schema else parts[0],
                          usage=Usage(prompt_tokens, completion_tokens), model=used_model,
                          finish_reason=finish_reason, metadata={"engine": "openai", "model": used_model})

    def _call(self, history: list[dict[str, str]], *, model: str, max_tokens: int, temperature: float,
              json_schema: dict[str, Any] | None) -> Any:
        kwargs: dict[str, Any] = {"model": model, "messages": history, "max_tokens": max_tokens,
                                  "temperature": temperature}
        if json_schema:
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": json_schema.get("name", "reply"), "schema": json_schema["schema"], "strict": False}}
        try:
            return self.client.chat.completions.create(**kwargs)
        except openai.RateLimitError as exc:
            raise LlmThrottled(str(exc)) from exc
        except openai.APITimeoutError as exc:
            raise LlmTimeout(str(exc)) from exc
        except openai.APIConnectionError as exc:
            raise LlmServerError(f"connection failed: {exc}") from exc
        except openai.InternalServerError as exc:
            raise LlmServerError(str(exc)) from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500:
                raise LlmServerError(str(exc)) from exc
            raise ValidationFailed(f"the model API refused the request ({exc.status_code}): {exc}") from exc


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
