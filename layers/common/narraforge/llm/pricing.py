"""USD prices per 1M tokens and the cost of a call (a job's estimate is the pipeline's: `pipeline/estimate.py`).

List prices of the OpenAI API (standard tier, uncached input, context under 270K), checked 2026-12 against
OpenAI's pricing page as quoted by several independent price trackers. A model not in the table (a local model,
a new or a "-pro" variant) is still usable, but its cost is unknown: `known_cost` says None and `unpriced_models`
names the configured ones, so that what is shown to a user says "unknown", never a free job. `cost_of` is the
amount counted toward caps and quotas, where an unknown price can only count 0.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

from narraforge.config import get_settings
from narraforge.llm.base import Usage

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
    settings = get_settings()
    models = {settings.planning_model, settings.prose_model, settings.judging_model, *settings.stage_models.values()}
    return sorted(model for model in models if price_of(model) is None)
