"""USD prices per 1M tokens, the cost of a call, and a job's cost estimate from its brief.

List prices of the OpenAI API (standard tier, uncached input, context under 270K), checked 2026-12 against
OpenAI's pricing page as quoted by several independent price trackers. A model not in the table (a local model,
a new or a "-pro" variant) is still usable, but its cost is unknown: `known_cost` says None and `unpriced_models`
names the configured ones, so that what is shown to a user says "unknown", never a free job. `cost_of` and
`estimate_job_cost` are the amounts counted toward caps and quotas, where an unknown price can only count 0.
"""

from __future__ import annotations

import logging
import math
import re
from typing import NamedTuple

from narraforge.llm.base import Usage
from narraforge.schemas.briefs import ProductionBrief

log = logging.getLogger(__name__)


class Price(NamedTuple):
    """USD per 1M tokens."""

    input: float
    output: float


PRICES: dict[str, Price] = {
    "gpt-5.5": Price(5.00, 30.00),
    "gpt-5.4": Price(2.50, 15.00),
    "gpt-5.4-mini": Price(0.75, 4.50),
    "gpt-5.4-nano": Price(0.20, 1.25),
    "gpt-5.2": Price(1.75, 14.00),
    "gpt-5.1": Price(1.25, 10.00),
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "o3": Price(2.00, 8.00),
    "o4-mini": Price(1.10, 4.40),
}
# A dated snapshot costs what its alias costs (gpt-4o-2024-08-06); any other suffix is another model.
SNAPSHOT_RE = re.compile(r"^(?P<alias>.+)-\d{4}-\d{2}-\d{2}$")


def price_of(model: str) -> Price | None:
    """The model's price (configured prices first: NARRAFORGE_MODEL_PRICES), its dated snapshot's alias',
    or None when unknown (never a guess from a prefix: gpt-5-pro costs twelve times gpt-5)."""
    from narraforge.config import get_settings

    configured = get_settings().model_prices.get(model)
    if configured is not None:
        return Price(*configured)
    if model in PRICES:
        return PRICES[model]
    snapshot = SNAPSHOT_RE.match(model)
    return PRICES.get(snapshot["alias"]) if snapshot else None


def known_cost(model: str, usage: Usage, provider: str = "openai") -> float | None:
    """USD for one call: 0 on the offline engine, None when the model's price is unknown."""
    if provider == "offline":
        return 0.0
    price = price_of(model)
    if price is None:
        return None
    return (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1_000_000


def cost_of(model: str, usage: Usage, provider: str = "openai") -> float:
    """USD for one call as counted toward the job's cap and the month's quota: an unknown price counts 0 there
    (logged); show `known_cost` to people."""
    cost = known_cost(model, usage, provider)
    if cost is None:
        log.warning("no price for model %s; its cost is unknown and counts 0 toward caps", model)
        return 0.0
    return cost


def unpriced_models() -> list[str]:
    """The configured models (roles and stage overrides) whose price is unknown: a job using any of them has an
    unknown cost and estimate."""
    from narraforge.config import get_settings

    settings = get_settings()
    models = {settings.planning_model, settings.prose_model, settings.judging_model, *settings.stage_models.values()}
    return sorted(model for model in models if price_of(model) is None)


def expected_calls(brief: ProductionBrief) -> list[tuple[str, str, int, int, int]]:
    """(stage, role, calls, prompt tokens per call, completion tokens per call) of the stage plan.

    Token sizes follow the prompts: bounded bible and outline window per call, segments of ~1,000 words
    (about 1.33 tokens a word), seams of ~160 words; calibrated on offline runs.
    """
    from narraforge.pipeline.layout import JUDGE_WINDOW, PLAN_CHUNK, SEAM_WORDS, act_count, segment_targets

    targets = segment_targets(brief.target_length)
    n = len(targets)
    words = brief.target_length / n
    cast = brief.character_count
    plan_calls = sum(math.ceil(size / PLAN_CHUNK) for size in _act_sizes(n, act_count(n)))
    return [
        ("brief_interpretation", "planning", 1, 700, 350),
        ("world_architecture", "planning", 1, 750, 600),
        ("character_architecture", "planning", 1, 700 + 40 * cast, 120 + 150 * cast),
        ("structure_design", "planning", 1, 800 + 30 * cast, 250 + 120 * act_count(n)),
        ("segment_planning", "planning", plan_calls, 1300 + 40 * cast, 250 * min(n, PLAN_CHUNK)),
        ("segment_generation", "prose", n, 1500 + 60 * cast, int(words * 1.37)),
        ("coherence_validation", "judging", math.ceil(n / JUDGE_WINDOW), 900 + 330 * min(n, JUDGE_WINDOW), 450),
        ("language_stylization", "prose", max(0, n - 1), 900, int(SEAM_WORDS * 1.4)),
        ("editorial_review", "planning", 1, 1000, 250),
    ]


def _act_sizes(segments: int, acts: int) -> list[int]:
    base, extra = divmod(segments, acts)
    return [base + (1 if i < extra else 0) for i in range(acts)]


def estimate_job_cost(brief: ProductionBrief, *, offline: bool) -> float:
    """Expected USD for the whole job with the configured models (0 on the offline engine); calls to a model
    whose price is unknown count 0, so the estimate is unknown when `unpriced_models()` names any."""
    if offline:
        return 0.0
    from narraforge.config import get_settings

    settings = get_settings()
    total = 0.0
    for stage, role, calls, prompt_tokens, completion_tokens in expected_calls(brief):
        total += calls * cost_of(settings.model_for(role, stage), Usage(prompt_tokens, completion_tokens))
    return round(total, 4)


# The latency model of a call to a hosted model (the benchmarks' too): a fixed wait plus the completion at a
# steady speed. An assumption, stated with every estimate it makes, never a measurement.
CALL_OVERHEAD_SECONDS = 0.5
MODEL_TOKENS_PER_SECOND = 50.0
MAP_STAGES = ("segment_generation", "language_stylization")


def estimate_job_seconds(brief: ProductionBrief, *, offline: bool, map_concurrency: int) -> float:
    """Expected wall time of the pipeline under the latency model: calls one after another, except the Map
    stages' segments, which run `map_concurrency` at a time (1 for works drafted in sequence). The offline
    engine writes without a model: a second or two plus a little per word, as measured on it."""
    if offline:
        return round(1.5 + brief.target_length / 5000, 1)
    from narraforge.pipeline.layout import drafting_mode

    parallel = 1 if drafting_mode(brief.target_length) == "sequential" else max(1, map_concurrency)
    total = 0.0
    for stage, _role, calls, _prompt, completion in expected_calls(brief):
        latency = CALL_OVERHEAD_SECONDS + completion / MODEL_TOKENS_PER_SECOND
        rounds = math.ceil(calls / parallel) if stage in MAP_STAGES else calls
        total += rounds * latency
    return round(total, 1)
