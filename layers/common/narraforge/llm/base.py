"""The provider interface and the typed errors Step Functions retries on (DESIGN §7, §8)."""

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


class PipelineError(Exception):
    """Base of errors a stage raises; the class name is the Step Functions `errorType`.

    `usage` carries what the provider already charged before the error (e.g. a malformed reply that
    was re-prompted, or a continuation cut short), so that it is billed even though the call failed."""

    retryable = False

    def __init__(self, message: str = "", usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage


class LlmThrottled(PipelineError):
    retryable = True


class LlmServerError(PipelineError):
    retryable = True


class LlmTimeout(PipelineError):
    retryable = True


class LlmBadOutput(PipelineError):
    retryable = True


class BudgetExceeded(PipelineError):
    pass


class JobCancelled(PipelineError):
    pass


class ValidationFailed(PipelineError):
    pass
