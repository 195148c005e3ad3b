"""The production brief: what a user asks the pipeline to write (`production_brief` of `POST /jobs/`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from narraforge.enums import Genre, ProductionType

# Sensible target lengths per production type, in words (the API refuses briefs outside them).
LENGTH_RANGES: dict[ProductionType, tuple[int, int]] = {
    ProductionType.SHORT_STORY: (100, 20_000),
    ProductionType.NOVELLA: (10_000, 60_000),
    ProductionType.NOVEL: (30_000, 200_000),
    ProductionType.EPIC_SAGA: (60_000, 200_000),
    ProductionType.SCREENPLAY: (1_000, 40_000),
    ProductionType.STAGE_PLAY: (1_000, 40_000),
    ProductionType.PODCAST_SCRIPT: (300, 20_000),
}

LANGUAGES = {"en": "English", "pl": "Polish"}
MAX_FEATURED = 20


class ProductionBrief(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    production_type: ProductionType = Field(examples=["short_story"])
    genre: Genre = Field(examples=["fantasy"])
    subject: str = Field(min_length=10, max_length=1000,
                         examples=["A wizard apprentice discovers forbidden magic"])
    style_instructions: str = Field("", max_length=2000, examples=["Dark and mysterious tone"])
    target_length: int = Field(1500, ge=100, le=200_000, description="Target length in words")
    character_count: int = Field(3, ge=1, le=20, description="Exactly this many named characters")
    setting_period: str = Field("", max_length=200, examples=["a timeless medieval realm"])
    pov: str = Field("third_limited", pattern=r"^(first|second|third_limited|third_omniscient)$")
    language: str = Field("en", pattern=r"^(en|pl)$")
    title: str | None = Field(None, max_length=200)
    featured_characters: list[Annotated[str, StringConstraints(min_length=1, max_length=120)]] = Field(
        default_factory=list, max_length=MAX_FEATURED, examples=[["Mira Vell"]],
        description="Characters of the project's world (by name or id) the story must feature, first one leading")
    sequel_of: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{1,64}$", examples=[None],
        description="A narrative of yours in the same project: this story starts where that one ended, from "
                    "the world as its world update left it (its characters' states, its timeline)")

    @model_validator(mode="after")
    def _length_fits_the_type(self) -> ProductionBrief:
        _check_length(self.production_type, self.target_length)
        return self

    @model_validator(mode="after")
    def _featured_fit_the_cast(self) -> ProductionBrief:
        if len(self.featured_characters) > self.character_count:
            raise ValueError(f"featured_characters names {len(self.featured_characters)} characters; "
                             f"character_count is {self.character_count}")
        return self


class ProductionBriefRequest(ProductionBrief):
    """The brief as a client sends it: type and genre may be left to the project's defaults
    (`default_production_type`, `default_genre`); the job stores the completed `ProductionBrief`."""

    production_type: ProductionType | None = Field(  # type: ignore[assignment]
        None, examples=["short_story"], description="Defaults to the project's default_production_type")
    genre: Genre | None = Field(  # type: ignore[assignment]
        None, examples=["fantasy"], description="Defaults to the project's default_genre")

    @model_validator(mode="after")
    def _length_fits_the_type(self) -> ProductionBriefRequest:
        if self.production_type is not None:
            _check_length(self.production_type, self.target_length)
        return self


def _check_length(production_type: ProductionType, target_length: int) -> None:
    low, high = LENGTH_RANGES[production_type]
    if not low <= target_length <= high:
        raise ValueError(f"target_length for {production_type.value} must be between {low} and {high} words")
