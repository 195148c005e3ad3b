"""How stages talk to the model: structured calls validated with pydantic, and reading earlier outputs."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from narraforge.enums import Stage
from narraforge.llm.base import Completion, LlmBadOutput, Message, ValidationFailed
from narraforge.pipeline.context import ModelRole, StageContext

FENCE_RE = re.compile(r"^```(?:json)?\s*|\s*```$")


def schema_for(name: str, model: type[BaseModel]) -> dict[str, Any]:
    return {"name": name, "schema": model.model_json_schema()}


def ask_json[ReplyT: BaseModel](
    ctx: StageContext,
    role: ModelRole,
    messages: list[Message],
    *,
    name: str,
    model: type[ReplyT],
    max_tokens: int,
    temperature: float = 0.4,
) -> ReplyT:
    """One structured call. A reply that does not parse or validate gets one re-prompt naming the problem;
    a second failure is LlmBadOutput (retryable), and neither reply is replayed to the retry."""
    return ask_json_completion(ctx, role, messages, name=name, model=model, max_tokens=max_tokens,
                               temperature=temperature)[0]


def ask_json_completion[ReplyT: BaseModel](
    ctx: StageContext,
    role: ModelRole,
    messages: list[Message],
    *,
    name: str,
    model: type[ReplyT],
    max_tokens: int,
    temperature: float = 0.4,
) -> tuple[ReplyT, Completion]:
    """`ask_json`, also returning the accepted completion (its metadata names the engine)."""
    schema = schema_for(name, model)
    completion = ctx.complete(role, messages, max_tokens=max_tokens, temperature=temperature, json_schema=schema)
    try:
        return parse_json(completion, name=name, model=model), completion
    except LlmBadOutput as first:
        ctx.forget(completion)
        correction = [*messages, Message("assistant", completion.text),
                      Message("user", f"That reply does not match the required JSON schema ({first}). Reply again "
                                      "with only a JSON object that matches the schema exactly.")]
        second = ctx.complete(role, correction, max_tokens=max_tokens, temperature=temperature, json_schema=schema)
        try:
            return parse_json(second, name=name, model=model), second
        except LlmBadOutput:
            ctx.forget(second)
            raise


def parse_json[ReplyT: BaseModel](completion: Completion, *, name: str, model: type[ReplyT]) -> ReplyT:
    raw = FENCE_RE.sub("", completion.text.strip())
    try:
        return model.model_validate(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as exc:
        detail = "truncated" if completion.finish_reason == "length" else str(exc)[:300]
        raise LlmBadOutput(f"{name}: invalid structured reply ({detail})") from exc


def ask_text(ctx: StageContext, messages: list[Message], *, max_tokens: int) -> tuple[str, bool]:
    """One prose call: (text, truncated)."""
    completion = ctx.complete(ModelRole.PROSE, messages, max_tokens=max_tokens, temperature=0.8)
    return completion.text.strip(), completion.finish_reason == "length"


def token_budget(words: int, *, slack: float = 1.6) -> int:
    """max_tokens for a reply of about `words` words, with room for a model that runs a little long."""
    return int(words * 1.4 * slack) + 200


def plans(ctx: StageContext) -> list[dict[str, Any]]:
    return ctx.output_of(Stage.SEGMENT_PLANNING)["segments"]


def characters(ctx: StageContext) -> list[dict[str, Any]]:
    return ctx.output_of(Stage.CHARACTER_ARCHITECTURE)["characters"]


def world(ctx: StageContext) -> dict[str, Any]:
    return ctx.output_of(Stage.WORLD_ARCHITECTURE)


def interpretation(ctx: StageContext) -> dict[str, Any]:
    return ctx.output_of(Stage.BRIEF_INTERPRETATION)


def revisions(ctx: StageContext) -> dict[str, str]:
    return ctx.output_of(Stage.COHERENCE_VALIDATION).get("revisions", {})


def drafted_text(ctx: StageContext, index: int) -> str:
    """A segment's text after stage 7: the revision when there is one, else the draft."""
    revised = revisions(ctx).get(str(index))
    if revised is not None:
        return revised
    draft = ctx.segment_output(Stage.SEGMENT_GENERATION, index)
    if draft is None:
        raise ValidationFailed(f"segment {index} has no draft")
    return draft["text"]


def final_texts(ctx: StageContext) -> list[str]:
    return [out["text"] for out in ctx.segment_outputs(Stage.LANGUAGE_STYLIZATION)]
