"""The offline engine (README, "Using a real model"): a deterministic provider that needs no network and no key.

It reads the fenced JSON CONTEXT block every NarraForge prompt carries, answers structured calls with a
schema-valid object built from those facts (dispatching on `json_schema["name"]`) and prose calls with
text written to the requested length. Seeded by the job id and a hash of the messages, so a retried call
gets the same answer. It labels itself in `metadata` and never pretends to be a model.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from typing import Any

from narraforge.llm.base import Completion, LlmBadOutput, Message, Usage
from narraforge.llm.offline.plans import BUILDERS
from narraforge.llm.offline.prose import write

CONTEXT_RE = re.compile(r"```json\s*\n(.*?)\n```", re.DOTALL)
# How prompts.common.user puts a regeneration's instructions before the facts block.
INSTRUCTIONS_RE = re.compile(r"Additional instructions from the author: (.*?)\n\nCONTEXT", re.DOTALL)


def approx_tokens(text: str) -> int:
    """About 4/3 tokens per word (or a token per 4 characters for dense text such as JSON)."""
    if not text:
        return 0
    return math.ceil(max(len(text.split()) * 4 / 3, len(text) / 4))


def context_of(messages: list[Message]) -> dict[str, Any]:
    """The facts block of the last message that has one (empty when a prompt carries none)."""
    for message in reversed(messages):
        blocks = CONTEXT_RE.findall(message.content)
        if blocks:
            try:
                facts = json.loads(blocks[-1])
            except json.JSONDecodeError as exc:
                raise LlmBadOutput("offline engine: the CONTEXT block is not valid JSON") from exc
            if not isinstance(facts, dict):
                return {}
            asked = INSTRUCTIONS_RE.search(message.content)
            return {**facts, "instructions": asked.group(1).strip()} if asked else facts
    return {}


def _cut(text: str, max_words: int) -> str:
    """The first max_words words, keeping the original spacing and line breaks."""
    matches = list(re.finditer(r"\S+", text))
    return text[: matches[max_words - 1].end()] if 0 < max_words <= len(matches) else text


class OfflineEngine:
    name = "offline"

    def __init__(self, seed: str) -> None:
        self.seed = seed

    def _rng(self, messages: list[Message], model: str, json_schema: dict[str, Any] | None) -> random.Random:
        digest = hashlib.sha256()
        for part in (self.seed, model, json.dumps(json_schema or {}, sort_keys=True)):
            digest.update(part.encode())
        for message in messages:
            digest.update(f"\x00{message.role}\x00{message.content}".encode())
        return random.Random(digest.hexdigest())

    def complete(
        self,
        messages: list[Message],
        *,
        model: str,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        rng = self._rng(messages, model, json_schema)
        facts = context_of(messages)
        if json_schema is not None:
            builder = BUILDERS.get(str(json_schema.get("name")))
            if builder is None:
                raise LlmBadOutput(f"offline engine: no builder for schema {json_schema.get('name')!r}")
            text = json.dumps(builder(facts, rng), ensure_ascii=False)
        else:
            text = write(facts, rng)
        finish = "stop"
        allowed = max(1, int(max_tokens * 3 / 4))
        while approx_tokens(text) > max_tokens and allowed > 0:
            text = _cut(text, allowed)
            allowed -= max(1, allowed // 20)
            finish = "length"
        prompt_tokens = sum(approx_tokens(m.content) + 4 for m in messages)
        return Completion(
            text=text,
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=approx_tokens(text)),
            model=model,
            finish_reason=finish,
            metadata={"engine": "offline"},
        )
