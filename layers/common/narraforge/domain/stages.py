"""The stages' shares of the progress bar. Below pipeline and services: the runner adds them up as stages
finish, and a regeneration shows the share of the stages it reuses without importing the pipeline."""

from __future__ import annotations

from narraforge.enums import Stage

# Percent of the progress bar per stage, in pipeline order; they sum to 100. Drafting is most of the work.
STAGE_WEIGHTS: dict[Stage, float] = {
    Stage.BRIEF_INTERPRETATION: 2,
    Stage.WORLD_ARCHITECTURE: 3,
    Stage.CHARACTER_ARCHITECTURE: 3,
    Stage.STRUCTURE_DESIGN: 3,
    Stage.SEGMENT_PLANNING: 6,
    Stage.SEGMENT_GENERATION: 55,
    Stage.COHERENCE_VALIDATION: 8,
    Stage.LANGUAGE_STYLIZATION: 12,
    Stage.EDITORIAL_REVIEW: 3,
    Stage.OUTPUT_PROCESSING: 5,
}


# Stage 7's judging Map runs beside stage 8's seam Map (one Parallel state); 7 finalizes once both are done.
RUNS_BESIDE: dict[Stage, Stage] = {Stage.COHERENCE_VALIDATION: Stage.LANGUAGE_STYLIZATION}


def progress_before(stage: Stage) -> float:
    """Percent complete when `stage` starts (the runner adds the segment fraction within a Map stage)."""
    return sum(weight for s, weight in STAGE_WEIGHTS.items() if s.number < stage.number)


def progress_through(stage: Stage) -> float:
    """Percent done when `stage` is complete: the sum of the stage weights up to it."""
    total = 0.0
    for candidate in Stage:
        total += STAGE_WEIGHTS[candidate]
        if candidate is stage:
            return round(total, 4)
    return 100.0
