"""The provider interface: messages in, a completion (or a typed provider error) out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    model: str
    finish_reason: str = "stop"
    metadata: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    name: str  # "openai" or "offline"

    def complete(
        self,
        messages: list[Message],
        *,
        model: str,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        """`json_schema` = {"name": ..., "schema": {...}} asks for structured output."""
        ...


class ProviderError(Exception):
    """Base of what a provider raises when a call fails: the provider's contract, as `Completion` is. The stage
    runner names each class for Step Functions (`pipeline/handler.py`), which retries all but `LlmRefused`.

    `usage` carries what the provider already charged before the error (e.g. a malformed reply that
    was re-prompted, or a continuation cut short), so that it is billed even though the call failed."""

    def __init__(self, message: str = "", usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage


class LlmThrottled(ProviderError):
    """The model API said too many requests (429)."""


class LlmServerError(ProviderError):
    """The model server failed (5xx) or could not be reached."""


class LlmTimeout(ProviderError):
    """No answer within the configured timeout."""


class LlmBadOutput(ProviderError):
    """A reply the stage cannot use (not the JSON asked for, even after a re-prompt)."""


class LlmRefused(ProviderError):
    """The model API refused the request itself (4xx other than 429: a bad key, a prompt it will not take):
    the same request cannot succeed, so the job fails rather than retrying."""
