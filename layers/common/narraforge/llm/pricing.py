"""USD prices per 1M tokens, the cost of a call, and a job's cost estimate from its brief.

List prices of the OpenAI API (standard tier, uncached input) as published, checked 2025-08.
"""

from __future__ import annotations

import logging
import math

from narraforge.llm.base import Usage
from narraforge.schemas.briefs import ProductionBrief

log = logging.getLogger(__name__)

# model: (input USD per 1M tokens, output USD per 1M tokens)
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o4-mini": (1.10, 4.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
}


def price_of(model: str) -> tuple[float, float] | None:
    """Exact name, else the longest known prefix (dated snapshots such as gpt-4o-2024-08-06)."""
    if model in PRICES:
        return PRICES[model]
    matches = [name for name in PRICES if model.startswith(name + "-")]
    return PRICES[max(matches, key=len)] if matches else None


def cost_of(model: str, usage: Usage, provider: str = "openai") -> float:
    """USD for one call; the offline engine costs nothing, an unknown model is logged and counted as 0."""
    if provider == "offline":
        return 0.0
    price = price_of(model)
    if price is None:
        log.warning("no price for model %s; counting its calls as free", model)
        return 0.0
    return (usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1_000_000


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
    """Expected USD for the whole job with the configured models (0 on the offline engine)."""
    if offline:
        return 0.0
    from narraforge.config import get_settings

    settings = get_settings()
    total = 0.0
    for stage, role, calls, prompt_tokens, completion_tokens in expected_calls(brief):
        total += calls * cost_of(settings.model_for(role, stage), Usage(prompt_tokens, completion_tokens))
    return round(total, 4)
