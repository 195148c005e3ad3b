"""The stage registry: what the runner calls for each stage, and its share of the progress bar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from narraforge.enums import Stage
from narraforge.pipeline.context import StageContext
from narraforge.pipeline.stages import (
    brief_interpretation,
    character_architecture,
    coherence_validation,
    editorial_review,
    language_stylization,
    output_processing,
    segment_generation,
    segment_planning,
    structure_design,
    world_architecture,
)

StageFn = Callable[[StageContext], dict[str, Any]]
SegmentFn = Callable[[StageContext, int], dict[str, Any]]


@dataclass(frozen=True)
class StageSpec:
    """`run` for ordinary stages; `run_segment` + `finalize` for the two Map stages."""

    stage: Stage
    weight: float  # percent of the progress bar; the registry's weights sum to 100
    run: StageFn | None = None
    run_segment: SegmentFn | None = None
    finalize: StageFn | None = None

    @property
    def is_map(self) -> bool:
        return self.run_segment is not None


STAGES: dict[Stage, StageSpec] = {
    spec.stage: spec
    for spec in (
        StageSpec(Stage.BRIEF_INTERPRETATION, 2, run=brief_interpretation.run),
        StageSpec(Stage.WORLD_ARCHITECTURE, 3, run=world_architecture.run),
        StageSpec(Stage.CHARACTER_ARCHITECTURE, 3, run=character_architecture.run),
        StageSpec(Stage.STRUCTURE_DESIGN, 3, run=structure_design.run),
        StageSpec(Stage.SEGMENT_PLANNING, 6, run=segment_planning.run),
        StageSpec(
            Stage.SEGMENT_GENERATION,
            55,
            run_segment=segment_generation.run_segment,
            finalize=segment_generation.finalize,
        ),
        StageSpec(Stage.COHERENCE_VALIDATION, 8, run=coherence_validation.run),
        StageSpec(
            Stage.LANGUAGE_STYLIZATION,
            12,
            run_segment=language_stylization.run_segment,
            finalize=language_stylization.finalize,
        ),
        StageSpec(Stage.EDITORIAL_REVIEW, 3, run=editorial_review.run),
        StageSpec(Stage.OUTPUT_PROCESSING, 5, run=output_processing.run),
    )
}


def progress_before(stage: Stage) -> float:
    """Percent complete when `stage` starts (the runner adds the segment fraction within a Map stage)."""
    return sum(spec.weight for s, spec in STAGES.items() if s.number < stage.number)
