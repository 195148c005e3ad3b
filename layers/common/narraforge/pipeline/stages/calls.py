"""How stages talk to the model: structured calls validated with pydantic, and reading earlier outputs."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from narraforge.enums import Stage
from narraforge.errors import ValidationFailed
from narraforge.llm.base import Completion, LlmBadOutput, Message
from narraforge.llm.offline import context_of
from narraforge.llm.offline.plans import deterministic_plan
from narraforge.observability import logger
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.stages.checks import Path, Problem

FENCE_RE = re.compile(r"^```(?:json)?\s*|\s*```$")
REASK_PROMPT = "That reply cannot be used as it is. These fields have problems:"
REASK_TAIL = ("Reply again with the whole JSON object, fixing every field listed above and keeping the others; "
              "only the JSON object.")
REASK_LISTED = 12  # problems listed in a re-ask (a weak model's reply can have dozens)
REASK_REPLY_CHARS = 6000  # of the rejected reply quoted back in the re-ask (a runaway reply is cut)
REPAIR_ROUNDS = 8  # field-by-field fallback rounds before the whole reply falls back


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


type Check[ReplyT: BaseModel] = Callable[[ReplyT], list[Problem]]


@dataclass
class Planned[ReplyT: BaseModel]:
    """A planning reply that passed its checks, field by field: `fallbacks` lists the fields that came from the
    deterministic planner instead of the model, and why."""

    reply: ReplyT
    completion: Completion | None  # the model's last reply (its metadata names the engine); None if it raised
    fallbacks: list[dict[str, Any]] = field(default_factory=list)


def ask_planned[ReplyT: BaseModel](
    ctx: StageContext,
    role: ModelRole,
    messages: list[Message],
    *,
    name: str,
    model: type[ReplyT],
    max_tokens: int,
    check: Check[ReplyT] | None = None,
    temperature: float = 0.4,
) -> Planned[ReplyT]:
    """One planning call checked for shape AND meaning. A reply with problems is forgotten from the call journal
    at once (a retry or resume asks the model again, never replays it) and re-asked once with the problems
    listed; if the second reply still has problems, each failing field takes the deterministic planner's value
    for the same prompt and job, the rest is kept from the model, and the fallbacks are returned to record."""
    schema = schema_for(name, model)
    fallback = deterministic_plan(name, context_of(messages), ctx.job_id)  # pure and cheap: no call
    conversation = list(messages)
    completion: Completion | None = None
    raw: Any = None
    problems: list[Problem] = []
    for attempt in range(2):
        completion, raw = _ask_raw(ctx, role, conversation, schema, max_tokens=max_tokens, temperature=temperature)
        accepted, problems = judge(raw, model, check, completion=completion)
        if accepted is not None and not problems:
            return Planned(accepted, completion)
        if completion is not None:
            ctx.forget(completion)
        if attempt == 0:
            # A reply wrong in shape hides its meaning problems: a dry run of the fallback finds them all.
            listed = problems if accepted is not None or not isinstance(raw, dict) else \
                repair(raw, fallback, model, check, problems)[1]
            conversation = [*messages, *reask_messages(completion, listed)]
    reply, used = repair(raw, fallback, model, check, problems)
    records = [{"stage": ctx.stage.value, "field": p.field, "reason": p.reason} for p in used]
    logger.warning("planning reply fell back to the deterministic planner", extra={"fallbacks": records})
    return Planned(reply, completion, records)


def _ask_raw(ctx: StageContext, role: ModelRole, messages: list[Message], schema: dict[str, Any], *,
             max_tokens: int, temperature: float) -> tuple[Completion | None, Any]:
    """(completion, its JSON or None); a provider that gave up on JSON itself answers (None, None)."""
    try:
        completion = ctx.complete(role, messages, max_tokens=max_tokens, temperature=temperature, json_schema=schema)
    except LlmBadOutput:
        return None, None
    try:
        return completion, json.loads(FENCE_RE.sub("", completion.text.strip()))
    except json.JSONDecodeError:
        return completion, None


def judge[ReplyT: BaseModel](raw: Any, model: type[ReplyT], check: Check[ReplyT] | None, *,
                             completion: Completion | None = None) -> tuple[ReplyT | None, list[Problem]]:
    """(the validated reply or None, its problems): shape first (keys the schema does not know are dropped,
    not held against the reply), then meaning."""
    if not isinstance(raw, dict):
        if completion is not None and completion.finish_reason == "length":
            return None, [Problem((), "was cut off (too long for max_tokens): not a complete JSON object")]
        return None, [Problem((), "is not a JSON object")]
    candidate = copy.deepcopy(raw)
    while True:
        try:
            reply = model.model_validate(candidate)
            break
        except ValidationError as exc:
            errors = exc.errors()
            extras = [tuple(e["loc"]) for e in errors if e["type"] == "extra_forbidden"]
            dropped = [_delete(candidate, loc) for loc in sorted(extras, key=_order, reverse=True)]
            if not any(dropped):  # nothing left to drop: the rest are the reply's problems
                return None, [Problem(tuple(e["loc"]), _shape_reason(e)) for e in errors]
    return reply, (check(reply) if check else [])


def _shape_reason(error: Any) -> str:
    given = error.get("input")
    shown = "" if error["type"] == "missing" or isinstance(given, dict | list) else f" (got {str(given)[:40]!r})"
    return f"{error['msg']}{shown}"


def reask_messages(completion: Completion | None, problems: list[Problem]) -> list[Message]:
    """The follow-up of a rejected reply: the reply itself (cut), then the problems, one a line."""
    listed = [f"- {p}" for p in problems[:REASK_LISTED]]
    if len(problems) > REASK_LISTED:
        listed.append(f"- ... and {len(problems) - REASK_LISTED} more")
    said = [Message("assistant", completion.text[:REASK_REPLY_CHARS])] if completion and completion.text else []
    return [*said, Message("user", "\n".join([REASK_PROMPT, *listed, REASK_TAIL]))]


def repair[ReplyT: BaseModel](raw: Any, fallback: dict[str, Any], model: type[ReplyT], check: Check[ReplyT] | None,
                              problems: list[Problem]) -> tuple[ReplyT, list[Problem]]:
    """The model's reply with each failing field replaced by the fallback's (a failing item the fallback does
    not have, such as an extra cast member, is dropped), until it passes. A field that fails again after its
    fallback escalates to its parent; reaching the whole reply, the fallback is used whole."""
    if not isinstance(raw, dict):
        return model.model_validate(fallback), [Problem((), problems[0].reason if problems else "unusable")]
    candidate = copy.deepcopy(raw)
    used: dict[Path, Problem] = {}
    for _ in range(REPAIR_ROUNDS):
        reply, found = judge(candidate, model, check)
        if not found and reply is not None:
            return reply, sorted(used.values(), key=lambda p: _order(p.path))
        if reply is not None:
            candidate = reply.model_dump()
        targets: dict[Path, Problem] = {}
        for problem in found:
            path = problem.path
            while path and path in used:
                path = path[:-1]
            if not path:
                return model.model_validate(fallback), [Problem((), f"still wrong after field fallbacks: {problem}")]
            targets.setdefault(path, Problem(path, problem.reason))
        targets = {p: pr for p, pr in targets.items() if not any(p[:n] in targets for n in range(len(p)))}
        _apply(candidate, fallback, list(targets))
        used = {p: pr for p, pr in used.items() if not any(p[:len(t)] == t for t in targets)} | targets
    return model.model_validate(fallback), [Problem((), "still wrong after field fallbacks")]


def _order(path: Path) -> tuple[tuple[int, str | int], ...]:
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in path)


def _lookup(data: Any, path: Path) -> tuple[bool, Any]:
    for part in path:
        in_list = isinstance(part, int) and isinstance(data, list) and part < len(data)
        if not in_list and not (isinstance(part, str) and isinstance(data, dict) and part in data):
            return False, None
        data = data[part]
    return True, data


def _apply(candidate: dict[str, Any], fallback: dict[str, Any], paths: list[Path]) -> None:
    """Fallback values into place (list items in index order, padding from the fallback), then deletions of
    what the fallback does not have (from the highest index down)."""
    present = [p for p in paths if _lookup(fallback, p)[0]]
    for path in sorted(present, key=_order):
        target, source = candidate, fallback
        for part in path[:-1]:
            target, source = target[part], source[part]
        last = path[-1]
        if isinstance(last, int) and isinstance(target, list) and last >= len(target):
            target.extend(copy.deepcopy(source[len(target):last + 1]))
        else:
            target[last] = copy.deepcopy(source[last])
    for path in sorted((p for p in paths if p not in present), key=_order, reverse=True):
        _delete(candidate, path)


def _delete(data: Any, path: Path) -> bool:
    """Removes the item or key at `path`; False when there is none."""
    found, parent = _lookup(data, path[:-1])
    last = path[-1]
    if found and isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        parent.pop(last)
        return True
    if found and isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    return False


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


def draft_text(ctx: StageContext, index: int) -> str:
    """A segment's draft (stage 6): what stage 8's Map smooths while stage 7 judges it."""
    draft = ctx.segment_output(Stage.SEGMENT_GENERATION, index)
    if draft is None:
        raise ValidationFailed(f"segment {index} has no draft")
    return str(draft["text"])


def final_output(ctx: StageContext, index: int) -> dict[str, Any] | None:
    """A segment as stage 8 left it: the Map's output, or the finalize step's when a revision touched its seam."""
    restyled = ctx.output_of(Stage.LANGUAGE_STYLIZATION).get("restyled", {}).get(str(index))
    return restyled or ctx.segment_output(Stage.LANGUAGE_STYLIZATION, index)


def final_texts(ctx: StageContext) -> list[str]:
    restyled = ctx.output_of(Stage.LANGUAGE_STYLIZATION).get("restyled", {})
    return [(restyled.get(str(i)) or out)["text"]
            for i, out in enumerate(ctx.segment_outputs(Stage.LANGUAGE_STYLIZATION))]
