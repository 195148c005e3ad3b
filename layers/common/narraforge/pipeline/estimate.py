"""What a job is expected to cost and take, from the pipeline's own plan of calls for a brief.

The plan is the pipeline's (stages, their model roles, the layout's segments, acts, plan chunks and judge
windows), so it lives here; `llm/pricing.py` only prices the calls. `POST /jobs/estimate` shows it and a new job
reserves its cost against the caps (`services/jobs.py`).
"""

from __future__ import annotations

import math

from narraforge.config import get_settings
from narraforge.enums import Stage
from narraforge.llm.base import Usage
from narraforge.llm.pricing import cost_of
from narraforge.pipeline.layout import (
    JUDGE_WINDOW,
    PLAN_CHUNK,
    SEAM_WORDS,
    act_count,
    act_sizes,
    chunks,
    drafting_mode,
    segment_targets,
)
from narraforge.schemas.briefs import ProductionBrief

# The latency model of a call to a hosted model (the benchmarks' too): a fixed wait plus the completion at a
# steady speed. An assumption, stated with every estimate it makes, never a measurement.
CALL_OVERHEAD_SECONDS = 0.5
MODEL_TOKENS_PER_SECOND = 50.0


def expected_calls(brief: ProductionBrief) -> list[tuple[str, str, int, int, int]]:
    """(stage, role, calls, prompt tokens per call, completion tokens per call) of the stage plan.

    Token sizes follow the prompts: bounded bible and outline window per call, segments of ~1,000 words
    (about 1.33 tokens a word), seams of ~160 words; calibrated on offline runs. Segment planning asks one call
    per PLAN_CHUNK segments of each act, as structure design cuts the acts.
    """
    targets = segment_targets(brief.target_length)
    n = len(targets)
    words = brief.target_length / n
    cast = brief.character_count
    plan_calls = sum(len(chunks(list(range(size)), PLAN_CHUNK)) for size in act_sizes(n))
    return [
        (Stage.BRIEF_INTERPRETATION.value, "planning", 1, 700, 350),
        (Stage.WORLD_ARCHITECTURE.value, "planning", 1, 750, 600),
        (Stage.CHARACTER_ARCHITECTURE.value, "planning", 1, 700 + 40 * cast, 120 + 150 * cast),
        (Stage.STRUCTURE_DESIGN.value, "planning", 1, 800 + 30 * cast, 250 + 120 * act_count(n)),
        (Stage.SEGMENT_PLANNING.value, "planning", plan_calls, 1300 + 40 * cast, 250 * min(n, PLAN_CHUNK)),
        (Stage.SEGMENT_GENERATION.value, "prose", n, 1500 + 60 * cast, int(words * 1.37)),
        (Stage.COHERENCE_VALIDATION.value, "judging", math.ceil(n / JUDGE_WINDOW), 900 + 330 * min(n, JUDGE_WINDOW),
         450),
        (Stage.LANGUAGE_STYLIZATION.value, "prose", max(0, n - 1), 900, int(SEAM_WORDS * 1.4)),
        (Stage.EDITORIAL_REVIEW.value, "planning", 1, 1000, 250),
    ]


def estimate_job_cost(brief: ProductionBrief, *, offline: bool) -> float:
    """Expected USD for the whole job with the configured models (0 on the offline engine); calls to a model
    whose price is unknown count 0, so the estimate is unknown when `unpriced_models()` names any."""
    if offline:
        return 0.0
    settings = get_settings()
    total = 0.0
    for stage, role, calls, prompt_tokens, completion_tokens in expected_calls(brief):
        total += calls * cost_of(settings.model_for(role, stage), Usage(prompt_tokens, completion_tokens))
    return round(total, 4)


def estimate_job_seconds(brief: ProductionBrief, *, offline: bool, map_concurrency: int) -> float:
    """Expected wall time of the pipeline under the latency model, along the state machine's graph: the planning
    calls one after another (a long work's acts side by side, so its longest act), drafts `map_concurrency` at a
    time (1 for works drafted in sequence), then the judging windows beside the seams (one Parallel state), then
    editorial. The offline engine writes without a model: a second or two plus a little per word, as measured
    on it."""
    if offline:
        return round(1.5 + brief.target_length / 5000, 1)
    n = len(segment_targets(brief.target_length))
    side = max(1, map_concurrency)
    parallel = drafting_mode(brief.target_length) == "parallel"
    drafting = side if parallel else 1
    longest_act = max(len(chunks(list(range(size)), PLAN_CHUNK)) for size in act_sizes(n))
    seconds: dict[str, float] = {}
    for stage, _role, calls, _prompt, completion in expected_calls(brief):
        latency = CALL_OVERHEAD_SECONDS + completion / MODEL_TOKENS_PER_SECOND
        if stage == Stage.SEGMENT_PLANNING.value and parallel:
            calls = longest_act
        concurrency = {Stage.SEGMENT_GENERATION.value: drafting, Stage.COHERENCE_VALIDATION.value: side,
                       Stage.LANGUAGE_STYLIZATION.value: side}.get(stage, 1)
        seconds[stage] = math.ceil(calls / concurrency) * latency
    beside = seconds.pop(Stage.COHERENCE_VALIDATION.value), seconds.pop(Stage.LANGUAGE_STYLIZATION.value)
    return round(sum(seconds.values()) + max(beside), 1)
