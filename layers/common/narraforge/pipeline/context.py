"""What a stage sees of the world (the "stage SDK" interface). The runner implements it over
DynamoDB + S3 + a provider; tests implement it in memory. Stages never touch AWS directly."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from narraforge.enums import Stage
from narraforge.llm.base import Completion, Message
from narraforge.schemas.briefs import ProductionBrief


class ModelRole(StrEnum):
    """Which configured model a call uses: small for planning and judging, larger for prose."""

    PLANNING = "planning"
    PROSE = "prose"
    JUDGING = "judging"


class StageContext(Protocol):
    job_id: str
    brief: ProductionBrief
    stage: Stage
    segment: int | None  # the Map item index for segment stages, else None
    instructions: str | None  # extra instructions of a regeneration, if any
    world_version: int | None  # the project's world version pinned when the job started (None or 0: none)

    def output_of(self, stage: Stage) -> dict[str, Any]:
        """The stored output of an earlier, completed stage."""
        ...

    def segment_output(self, stage: Stage, index: int) -> dict[str, Any] | None:
        """One segment's stored output of a Map stage, or None if it is not written (yet)."""
        ...

    def segment_outputs(self, stage: Stage) -> list[dict[str, Any]]:
        """Every segment's output of a completed Map stage, in index order."""
        ...

    def world_document(self, version: int) -> dict[str, Any]:
        """Version `version` of the project's world, as stored (pipeline/world_context.py selects from it)."""
        ...

    def complete(
        self,
        role: ModelRole,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float = 0.7,
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        """One LLM call: checks cancellation and the cost cap first, records tokens and cost after."""
        ...

    def forget(self, completion: Completion) -> None:
        """A reply the stage could not use (it failed validation) must not be replayed to a retry."""
        ...


@dataclass(frozen=True)
class AssembledNarrative:
    """What output processing hands to the narrative store."""

    title: str
    text: str
    word_count: int
    metadata: dict[str, Any]  # world, characters, structure, segments, engine
    quality_metrics: dict[str, Any]
