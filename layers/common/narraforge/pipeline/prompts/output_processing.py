"""Stage 10 has no model call; this is the reader-facing text it adds around the segments: headings."""

from __future__ import annotations

from narraforge.enums import ProductionType
from narraforge.pipeline.layout import CHAPTERED_TYPES
from narraforge.schemas.briefs import ProductionBrief

SCENE_BREAK = "* * *"
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")

LABELS = {
    "en": {"chapter": "Chapter", "act": "ACT", "part": "PART", "book": "Book"},
    "pl": {"chapter": "Rozdział", "act": "AKT", "part": "CZĘŚĆ", "book": "Księga"},
}


def heading(brief: ProductionBrief, *, index: int, title: str, act: int, new_act: bool) -> str | None:
    """The heading before a segment, or None when the segments just run on (short story, screenplay)."""
    labels = LABELS[brief.language]
    kind = brief.production_type
    if kind in CHAPTERED_TYPES:
        chapter = f"{labels['chapter']} {index + 1}: {title}"
        if kind is ProductionType.EPIC_SAGA and new_act:
            return f"{labels['book']} {ROMAN[(act - 1) % len(ROMAN)]}\n\n{chapter}"
        return chapter
    if kind is ProductionType.STAGE_PLAY and new_act:
        return f"{labels['act']} {ROMAN[(act - 1) % len(ROMAN)]}"
    if kind is ProductionType.PODCAST_SCRIPT and new_act:
        return f"{labels['part']} {act}"
    return None


def separator(brief: ProductionBrief) -> str:
    """Between segments without a heading: a scene break in prose, a blank line in scripts."""
    return SCENE_BREAK if brief.production_type is ProductionType.SHORT_STORY else ""
