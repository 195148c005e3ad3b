"""Stage 9: a light editorial pass — final title, blurb and notes — over bounded excerpts and measured checks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from narraforge.enums import Stage
from narraforge.pipeline.context import ModelRole, StageContext
from narraforge.pipeline.metrics import characters_present, length_adherence
from narraforge.pipeline.prompts import editorial_review as prompt
from narraforge.pipeline.stages import checks as meaning
from narraforge.pipeline.stages.calls import ask_planned, characters, final_texts, interpretation
from narraforge.pipeline.text import truncate_words, word_count

EXCERPT_WORDS = 120


class Editorial(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    blurb: str
    notes: list[str] = Field(max_length=8)


def problems(reply: Editorial) -> list[meaning.Problem]:
    """A title that is a title, a bounded blurb, short distinct notes (a weak model runs on)."""
    found = meaning.text(reply.title, ("title",), max_chars=meaning.TITLE_CHARS)
    found += meaning.text(reply.blurb, ("blurb",), max_chars=meaning.PARAGRAPH_CHARS, min_words=3)
    return found + meaning.items(reply.notes, ("notes",), max_chars=meaning.SENTENCE_CHARS)


def run(ctx: StageContext) -> dict[str, Any]:
    brief = ctx.brief
    texts = final_texts(ctx)
    full = "\n\n".join(texts)
    total = word_count(full)
    present = characters_present(full, [c["name"] for c in characters(ctx)], brief.language)
    checks = {
        "word_count": total,
        "target_length": brief.target_length,
        "length_adherence": length_adherence(total, brief.target_length),
        "characters_missing": [name for name, ok in present.items() if not ok],
        # None when no model judged the text (the offline engine).
        "judged_overall_score": ctx.output_of(Stage.COHERENCE_VALIDATION)["scores"]["overall_score"]
        if ctx.output_of(Stage.COHERENCE_VALIDATION).get("judged", True) else None,
    }
    planned = ask_planned(
        ctx,
        ModelRole.PLANNING,
        prompt.messages(
            brief,
            interpretation=interpretation(ctx),
            acts=ctx.output_of(Stage.STRUCTURE_DESIGN)["acts"],
            opening=truncate_words(texts[0], EXCERPT_WORDS),
            closing=" ".join(texts[-1].split()[-EXCERPT_WORDS:]),
            checks=checks,
        ),
        name=prompt.SCHEMA_NAME,
        model=Editorial,
        max_tokens=700,
        check=problems,
    )
    reply = planned.reply
    return {"title": brief.title or reply.title, "blurb": reply.blurb, "notes": reply.notes, "checks": checks,
            "fallbacks": planned.fallbacks}
