"""Narrative responses; field names are the ones NarraForge's existing clients read: renaming one breaks them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from narraforge.enums import Genre, ProductionType, Stage
from narraforge.schemas.common import RequestModel


class NarrativeResponse(BaseModel):
    """A list item: everything but the text."""

    id: str
    user_id: str
    project_id: str
    job_id: str
    title: str
    production_type: ProductionType
    genre: Genre
    word_count: int
    overall_quality_score: float | None
    generation_cost_usd: float | None = Field(description="USD; null when a model with no known price wrote it")
    tokens_used: int
    version: int
    view_count: int
    download_count: int
    created_at: datetime


class NarrativeDetailResponse(NarrativeResponse):
    narrative_text: str
    narrative_metadata: dict[str, Any] = Field(description=(
        "world, characters, structure, segments, engine. With `engine: \"offline\"` (no model configured) the "
        "text is demo text, written without a language model, and `notice` says so. Once the story is merged into "
        "its project's world: `world_update` ({status: applied|failed, world_version, added, changed, reason}) "
        "and `world_conflicts` (what the story says against a locked entry, not applied). `continuity_violations`: "
        "the drafts checked against the project's world in coherence_validation ({checked, found, fixed, "
        "locked_rules_checked, findings: [{segment, kind: dead_character_acts|renamed_place|locked_rule_broken, "
        "fact, evidence, severity, fixed, fixed_by: rule|revision|null}]}; `checked` is false when the project "
        "has no world, `locked_rules_checked` false when no model read the locked rules (the offline engine)."))
    quality_metrics: dict[str, Any] = Field(description=(
        "Computed metrics (word_count, length_adherence, distinct_2/3, repetition_rate, flesch_reading_ease, "
        "dialogue_ratio, cliche_density, characters_present) and the model-judged scores (coherence_score, "
        "logic_score, character_consistency_score, pacing_score, dialogue_quality_score, overall_score). "
        "`judged` says whether a language model gave those scores; without one (the offline engine's demo text) "
        "they are null and `overall_score_source` is \"none\" (\"model\" when judged). "
        "overall_quality_score is overall_score."))
    parent_narrative_id: str | None
    exported_formats: list[str]
    updated_at: datetime


class NarrativeVersionResponse(BaseModel):
    version: int
    created_at: datetime
    word_count: int
    overall_score: float | None
    job_id: str
    parent_version: int | None
    instructions: str | None
    is_current: bool


class NarrativeUpdateRequest(RequestModel):
    """A writer's own title (surrounding spaces are dropped; blank is refused). A later regeneration titles its
    version anew, as the pipeline always has."""

    title: str = Field(min_length=1, max_length=200, examples=["The Lighthouse Letters"])


class RegenerateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    instructions: str | None = Field(None, max_length=2000, examples=["Make the ending hopeful"])
    from_stage: Stage = Field(Stage.SEGMENT_GENERATION,
                              description="Earlier stages are reused from the current version's job")
    brief_overrides: dict[str, Any] = Field(default_factory=dict, description="Fields of the production brief")

    @field_validator("from_stage")
    @classmethod
    def _not_last(cls, stage: Stage) -> Stage:
        if stage is Stage.OUTPUT_PROCESSING:
            raise ValueError("regenerate from segment_generation or earlier to get a new text")
        return stage
