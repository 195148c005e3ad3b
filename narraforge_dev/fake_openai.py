"""A fake OpenAI-compatible server on loopback: /v1/chat/completions with scripted faults.

By default it answers like a model would, using the offline engine as its brain (so planning replies
follow the requested JSON schema). A script of faults can be queued: HTTP statuses, delays (timeouts),
malformed JSON, wrong-schema JSON, truncated replies (finish_reason "length").

It can also behave like the servers people run: refuse some `response_format` kinds with the refusal that
server really answers (llama-cpp-python: a 500 naming response_format), refuse `max_tokens` like OpenAI's newer
models, or ignore `response_format` and answer JSON in a code fence like a server without structured output.
A schema told in the prompt (the provider's SCHEMA_PROMPT) is followed, as a model reading it would."""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from narraforge.llm.base import Message
from narraforge.llm.offline import OfflineEngine
from narraforge.llm.openai_provider import SCHEMA_PROMPT

from narraforge_dev.loopback import serve


@dataclass
class Fault:
    status: int | None = None  # answer with this HTTP status
    delay: float = 0.0  # sleep before answering (longer than the client timeout = timeout)
    content: str | None = None  # answer with this content instead of the engine's
    finish_reason: str = "stop"
    truncate_words: int | None = None  # cut the engine's answer to this many words, finish_reason=length


SCHEMA_TOLD_RE = re.compile(re.escape(SCHEMA_PROMPT).replace(r"\{name\}", r"(\S+)") + r"(\{.*\})\s*$", re.DOTALL)
# What llama-cpp-python 0.3.36's server answers a `response_format` of type json_schema (probed): its route
# handler turns the request validation error into a 500.
LLAMA_CPP_PYTHON_REFUSAL = (500, {"error": {
    "message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': "
               "\"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': {'expected': \"'text' or "
               "'json_object'\"}}\n\n  File \"llama_cpp/server/app.py\", line 376, in create_chat_completion\n"
               "    POST /v1/chat/completions",
    "type": "internal_server_error", "param": None, "code": None}})
# What OpenAI answers `max_tokens` on its newer (reasoning) models.
OPENAI_MAX_TOKENS_REFUSAL = (400, {"error": {
    "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' "
               "instead.", "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}})
# What OpenAI answers a temperature other than 1 on its reasoning models.
OPENAI_TEMPERATURE_REFUSAL = (400, {"error": {
    "message": "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value "
               "is supported.", "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}})
# What OpenAI answers a strict json_schema using a keyword strict mode does not take.
OPENAI_STRICT_REFUSAL = (400, {"error": {
    "message": "Invalid schema for response_format 'brief_interpretation': In context=('properties', "
               "'working_title'), 'maxLength' is not permitted.", "type": "invalid_request_error",
    "param": "response_format", "code": None}})


def schema_asked(body: dict[str, Any]) -> dict[str, Any] | None:
    """The schema a request asks for: in its response_format, else told in a message; None for prose."""
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return response_format["json_schema"]
    for message in body["messages"]:
        told = SCHEMA_TOLD_RE.search(message["content"])
        if told:
            return {"name": told.group(1), "schema": json.loads(told.group(2))}
    return None


@dataclass
class FakeOpenAI:
    faults: deque[Fault] = field(default_factory=deque)
    prose_faults: deque[Fault] = field(default_factory=deque)  # consumed only by prose (non-JSON) requests
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    fault_rate: float = 0.0  # share of requests failed at random (seeded) when no fault is scripted
    timeout_delay: float = 2.5  # longer than the client's timeout in the tests
    rng: random.Random = field(default_factory=lambda: random.Random(20261125))
    billed_tokens: int = 0  # tokens of every reply actually delivered (what OpenAI would bill)
    injected: list[str] = field(default_factory=list)
    # Server behaviours: the response_format kinds accepted (None: all) and the refusal of the others; whether
    # `max_tokens`, a temperature other than 1 or a strict schema is refused; whether response_format is
    # ignored and JSON is answered in a code fence.
    formats: frozenset[str] | None = None
    format_refusal: tuple[int, dict[str, Any]] = LLAMA_CPP_PYTHON_REFUSAL
    refuses_max_tokens: bool = False
    refuses_temperature: bool = False
    refuses_strict: bool = False
    fenced_json: bool = False
    refusals: int = 0  # requests refused for a capability (never billed)

    def script(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def _next_fault(self, structured: bool) -> Fault | None:
        with self.lock:
            if self.faults:
                return self.faults.popleft()
            if self.prose_faults and not structured:
                return self.prose_faults.popleft()
            if self.fault_rate and self.rng.random() < self.fault_rate:
                kinds = ["429", "500", "timeout"] + (["malformed"] if structured else [])
                kind = self.rng.choice(kinds)
                self.injected.append(kind)
                return {"429": Fault(status=429), "500": Fault(status=500),
                        "timeout": Fault(delay=self.timeout_delay, status=504),
                        "malformed": Fault(content='{"truncated": ')}[kind]
            return None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            with self.lock:
                self.requests.append(body)
            refusal = self._refusal(body)
            if refusal is not None:
                with self.lock:
                    self.refusals += 1
                return JSONResponse(refusal[1], status_code=refusal[0])
            schema = schema_asked(body)
            fault = self._next_fault(structured=schema is not None)
            if fault and fault.delay:
                await asyncio.sleep(fault.delay)
            if fault and fault.status:
                return JSONResponse({"error": {"message": f"scripted {fault.status}", "type": "server_error"}},
                                    status_code=fault.status)
            if fault and fault.content is not None:
                content, finish, prompt_tokens = fault.content, fault.finish_reason, 50
            else:
                messages = [Message(m["role"], SCHEMA_TOLD_RE.sub("", m["content"]).rstrip())
                            for m in body["messages"]]
                cap = body.get("max_tokens") or body.get("max_completion_tokens") or 4096
                reply = OfflineEngine("fake-server").complete(
                    messages, model=body["model"], max_tokens=cap, temperature=body.get("temperature", 0.7),
                    json_schema=schema)
                content, finish, prompt_tokens = reply.text, reply.finish_reason, reply.usage.prompt_tokens
                if fault and fault.truncate_words:
                    content, finish = " ".join(content.split()[: fault.truncate_words]), "length"
                if self.fenced_json and schema is not None:
                    content = f"Here is the JSON you asked for:\n```json\n{content}\n```\nLet me know if it helps!"
            completion_tokens = max(1, len(content.split()) * 4 // 3)
            if await request.is_disconnected():
                # The client gave up (its timeout, on a loaded machine): the reply is never delivered, so it
                # is not counted as billed (the real API would bill it, and no client could know its usage).
                return JSONResponse({"error": {"message": "client went away"}}, status_code=499)
            with self.lock:
                self.billed_tokens += prompt_tokens + completion_tokens
            return JSONResponse({
                "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": finish}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens},
            })

        return app

    def _refusal(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if self.refuses_max_tokens and "max_tokens" in body:
            return OPENAI_MAX_TOKENS_REFUSAL
        if self.refuses_temperature and body.get("temperature", 1) != 1:
            return OPENAI_TEMPERATURE_REFUSAL
        kind = (body.get("response_format") or {}).get("type")
        if self.refuses_strict and kind == "json_schema" and body["response_format"]["json_schema"].get("strict"):
            return OPENAI_STRICT_REFUSAL
        if kind and not self.fenced_json and self.formats is not None and kind not in self.formats:
            return self.format_refusal
        return None

    def start(self) -> None:
        base, self.stop = serve(self.app())
        self.url = base + "/v1"
