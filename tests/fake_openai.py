"""A fake OpenAI-compatible server on loopback: /v1/chat/completions with scripted faults.

By default it answers like a model would, using the offline engine as its brain (so planning replies
follow the requested JSON schema). A script of faults can be queued: HTTP statuses, delays (timeouts),
malformed JSON, wrong-schema JSON, truncated replies (finish_reason "length")."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from narraforge.llm.base import Message
from narraforge.llm.offline import OfflineEngine

from tests.loopback import serve


@dataclass
class Fault:
    status: int | None = None  # answer with this HTTP status
    delay: float = 0.0  # sleep before answering (longer than the client timeout = timeout)
    content: str | None = None  # answer with this content instead of the engine's
    finish_reason: str = "stop"
    truncate_words: int | None = None  # cut the engine's answer to this many words, finish_reason=length


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
            fault = self._next_fault(structured=bool(body.get("response_format")))
            if fault and fault.delay:
                await asyncio.sleep(fault.delay)
            if fault and fault.status:
                return JSONResponse({"error": {"message": f"scripted {fault.status}", "type": "server_error"}},
                                    status_code=fault.status)
            if fault and fault.content is not None:
                content, finish, prompt_tokens = fault.content, fault.finish_reason, 50
            else:
                schema = (body.get("response_format") or {}).get("json_schema")
                messages = [Message(m["role"], m["content"]) for m in body["messages"]]
                reply = OfflineEngine("fake-server").complete(
                    messages, model=body["model"], max_tokens=body.get("max_tokens") or 4096,
                    temperature=body.get("temperature", 0.7), json_schema=schema)
                content, finish, prompt_tokens = reply.text, reply.finish_reason, reply.usage.prompt_tokens
                if fault and fault.truncate_words:
                    content, finish = " ".join(content.split()[: fault.truncate_words]), "length"
            completion_tokens = max(1, len(content.split()) * 4 // 3)
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

    def start(self) -> None:
        base, self.stop = serve(self.app())
        self.url = base + "/v1"


def serving(monkeypatch: Any, **options: Any) -> Iterator[FakeOpenAI]:
    """Runs a fake and points the OpenAI provider at it (1 s client timeout) for one test."""
    from narraforge.config import reset_settings

    server = FakeOpenAI(**options)
    server.start()
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "1")
    reset_settings()
    yield server
    server.stop()
    reset_settings()
