"""The one enum module shared by the API, the services and the pipeline.

Every value the API accepts is one the pipeline handles: the pipeline keys its behaviour on these
same classes, and a test walks every member through it.
"""

from __future__ import annotations

from enum import StrEnum


class CaseInsensitiveEnum(StrEnum):
    """Parses any case (the reference web client sends `SHORT_STORY`); answers in canonical case."""

    @classmethod
    def _missing_(cls, value: object) -> CaseInsensitiveEnum | None:
        if isinstance(value, str):
            folded = value.strip().lower()
            for member in cls:
                if member.value.lower() == folded:
                    return member
        return None


class ProductionType(CaseInsensitiveEnum):
    SHORT_STORY = "short_story"
    NOVELLA = "novella"
    NOVEL = "novel"
    EPIC_SAGA = "epic_saga"
    SCREENPLAY = "screenplay"
    STAGE_PLAY = "stage_play"
    PODCAST_SCRIPT = "podcast_script"


class Genre(CaseInsensitiveEnum):
    FANTASY = "fantasy"
    SCI_FI = "sci_fi"
    MYSTERY = "mystery"
    THRILLER = "thriller"
    ROMANCE = "romance"
    HORROR = "horror"
    HISTORICAL = "historical"
    CONTEMPORARY = "contemporary"
    LITERARY = "literary"
    ADVENTURE = "adventure"
    CRIME = "crime"
    DRAMA = "drama"
    COMEDY = "comedy"
    DYSTOPIAN = "dystopian"
    MAGICAL_REALISM = "magical_realism"


class JobStatus(CaseInsensitiveEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Tier(CaseInsensitiveEnum):
    FREE = "FREE"
    PRO = "PRO"
    ENTERPRISE = "ENTERPRISE"


class Stage(StrEnum):
    """The ten pipeline stages, in order; the ASL names its Task states after these."""

    BRIEF_INTERPRETATION = "brief_interpretation"
    WORLD_ARCHITECTURE = "world_architecture"
    CHARACTER_ARCHITECTURE = "character_architecture"
    STRUCTURE_DESIGN = "structure_design"
    SEGMENT_PLANNING = "segment_planning"
    SEGMENT_GENERATION = "segment_generation"
    COHERENCE_VALIDATION = "coherence_validation"
    LANGUAGE_STYLIZATION = "language_stylization"
    EDITORIAL_REVIEW = "editorial_review"
    OUTPUT_PROCESSING = "output_processing"

    @property
    def number(self) -> int:
        return list(Stage).index(self) + 1


class ExportFormat(CaseInsensitiveEnum):
    TXT = "txt"
    MD = "md"
    PDF = "pdf"
    EPUB = "epub"
    DOCX = "docx"


class OAuthProvider(CaseInsensitiveEnum):
    GOOGLE = "google"
    GITHUB = "github"
