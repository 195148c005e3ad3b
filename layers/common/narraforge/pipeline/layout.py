"""How a brief is cut into acts and segments, and the tunables of the stages.

Sizes are computed in code, never left to the model, so segment targets always sum to the
brief's target length and every prompt stays bounded whatever the length of the work.
"""

from __future__ import annotations

import math
import os

from narraforge.enums import ProductionType, Stage

SCRIPT_TYPES = frozenset({ProductionType.SCREENPLAY, ProductionType.STAGE_PLAY, ProductionType.PODCAST_SCRIPT})
CHAPTERED_TYPES = frozenset({ProductionType.NOVELLA, ProductionType.NOVEL, ProductionType.EPIC_SAGA})

SEGMENT_WORDS = 1000  # one drafting call writes about this much: long enough for a scene, short enough to stay sharp
PLAN_CHUNK = 6  # segments planned per call, so an act's plan is never truncated
JUDGE_WINDOW = 4  # segments judged per coherence call, so the judge's prompt stays bounded
MAX_REVISIONS = 3  # stage 7 rewrites at most this many flagged segments, once each
EXTEND_BELOW = 0.8  # a revision (stage 7) under this share of its target is not used
MAX_EXTENSIONS = 3  # continuation calls a short draft may get; each must add new text or drafting stops
MIN_CONTINUATION_WORDS = 12  # a continuation adding fewer new words than this (empty, repetitive) ends extending
# Models under 1B parameters (by name, lower case) get the wider length tolerance; NARRAFORGE_SMALL_MODEL overrides.
SMALL_MODELS = ("smollm2-135m", "smollm2-360m", "smollm-135m", "smollm-360m", "qwen2.5-0.5b", "qwen3-0.6b")
# Beyond this many segments the three Maps run as Distributed Maps (child executions, each with a history of its
# own). Inline, a Map item writes 7 history events and each retry attempt 3 more (up to 7 attempts across the two
# Retry policies): 200 segments = 450 items = 3,232 events measured (bench/saga.py), 12,600 if every item needed
# every retry. Past 100 segments that worst case would pass a quarter of the 25,000-event limit; a Distributed
# Map keeps the parent's history flat (a few events per Map, whatever the count) at the price of child executions.
DISTRIBUTED_MAP_SEGMENTS = 100
SEAM_WORDS = 160  # words of a segment's opening that stylization may rewrite
CLOSING_WORDS = 120  # words of the previous segment's ending shown at a seam (enough for tense, place, who is present)
MAX_WORD_CHANGE = 0.15  # stylization keeps the original when a rewrite changes length more than this


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


def sequential_max_words() -> int:
    """Works up to this length are drafted one segment after another (Map concurrency 1)."""
    return int(_env_number("NARRAFORGE_SEQUENTIAL_MAX_WORDS", 6000))


def revision_bar() -> float:
    """Stage 7 revises flagged segments when the judged overall score is under this bar."""
    return _env_number("NARRAFORGE_REVISION_BAR", 0.7)


def small_model(model: str) -> bool:
    """Under 1B parameters: NARRAFORGE_SMALL_MODEL=1 or 0 says so; unset, the name is looked up in SMALL_MODELS."""
    said = os.environ.get("NARRAFORGE_SMALL_MODEL", "").strip().casefold()
    if said in ("1", "true", "yes", "0", "false", "no"):
        return said in ("1", "true", "yes")
    return any(known in model.casefold() for known in SMALL_MODELS)


def length_tolerance(model: str) -> float:
    """How far a delivered segment may land from its target: ±10 %, ±25 % for a model under 1B parameters."""
    return 0.25 if small_model(model) else 0.10


def is_script(production_type: ProductionType) -> bool:
    return production_type in SCRIPT_TYPES


def drafting_mode(target_length: int) -> str:
    return "sequential" if target_length <= sequential_max_words() else "parallel"


def segment_targets(target_length: int) -> list[int]:
    """Even split into ~SEGMENT_WORDS pieces; the remainder goes to the first segments so the sum is exact."""
    count = max(1, round(target_length / SEGMENT_WORDS))
    base, extra = divmod(target_length, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


def act_count(segment_count: int) -> int:
    """Three acts for most works, up to six for very long ones; never more acts than segments."""
    if segment_count <= 30:
        return min(3, segment_count)
    return max(3, min(6, math.ceil(segment_count / 20)))


def act_sizes(segment_count: int) -> list[int]:
    """Segments per act: the middle acts take the remainder, as the middle of a story is the longest."""
    acts = act_count(segment_count)
    base, extra = divmod(segment_count, acts)
    sizes = [base] * acts
    middle = list(range(1, acts - 1)) or list(range(acts))
    for i in range(extra):
        sizes[middle[i % len(middle)]] += 1
    return sizes


def chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def window_count(segment_count: int) -> int:
    """Judging windows of a work (stage 7 judges them side by side, one Map iteration each)."""
    return math.ceil(segment_count / JUDGE_WINDOW)


def map_items(stage: Stage, segment_count: int) -> int:
    """Iterations of a Map stage's Map state: stage 7 judges windows of segments, stages 6 and 8 take segments."""
    return window_count(segment_count) if stage is Stage.COHERENCE_VALIDATION else segment_count


def window_segments(window: int, segment_count: int) -> list[int]:
    """The segments judging window `window` covers."""
    return list(range(window * JUDGE_WINDOW, min((window + 1) * JUDGE_WINDOW, segment_count)))
