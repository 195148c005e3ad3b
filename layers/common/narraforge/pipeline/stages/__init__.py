"""The stage registry: what the runner calls for each stage (its share of the progress bar is in
domain/stages.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from narraforge.domain.stages import STAGE_WEIGHTS
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
    """`run` for ordinary stages; `run_segment` + `finalize` for the three Map stages (stage 7's items are
    judging windows, layout.map_items). The runner stores what
    they return and writes their checkpoint, except for a stage that `publishes` (stage 10): its `run` gets
    the runner's JobStageContext and writes its checkpoint itself, in the transaction that completes the job."""

    stage: Stage
    run: StageFn | None = None
    run_segment: SegmentFn | None = None
    finalize: StageFn | None = None
    publishes: bool = False

    @property
    def is_map(self) -> bool:
        return self.run_segment is not None

    @property
    def weight(self) -> float:
        """Percent of the progress bar; the registry's weights sum to 100."""
        return STAGE_WEIGHTS[self.stage]


STAGES: dict[Stage, StageSpec] = {
    spec.stage: spec
    for spec in (
        StageSpec(Stage.BRIEF_INTERPRETATION, run=brief_interpretation.run),
        StageSpec(Stage.WORLD_ARCHITECTURE, run=world_architecture.run),
        StageSpec(Stage.CHARACTER_ARCHITECTURE, run=character_architecture.run),
        StageSpec(Stage.STRUCTURE_DESIGN, run=structure_design.run),
        StageSpec(Stage.SEGMENT_PLANNING, run=segment_planning.run),
        StageSpec(Stage.SEGMENT_GENERATION, run_segment=segment_generation.run_segment,
                  finalize=segment_generation.finalize),
        StageSpec(Stage.COHERENCE_VALIDATION, run_segment=coherence_validation.run_window,
                  finalize=coherence_validation.finalize),
        StageSpec(Stage.LANGUAGE_STYLIZATION, run_segment=language_stylization.run_segment,
                  finalize=language_stylization.finalize),
        StageSpec(Stage.EDITORIAL_REVIEW, run=editorial_review.run),
        StageSpec(Stage.OUTPUT_PROCESSING, run=output_processing.run, publishes=True),
    )
}

