"""The ten stages end to end on the offline engine, through the in-memory StageContext."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from typing import Any

import pytest
from narraforge.domain.stages import progress_before
from narraforge.enums import Genre, ProductionType, Stage
from narraforge.llm.base import Completion, Message
from narraforge.llm.offline import OfflineEngine, context_of
from narraforge.pipeline.layout import SEAM_WORDS
from narraforge.pipeline.stages import STAGES
from narraforge.pipeline.stages.calls import final_output
from narraforge.pipeline.text import split_opening
from narraforge.schemas.briefs import ProductionBrief

from narraforge_dev.pipeline_double import run_pipeline

LENGTHS = {
    ProductionType.SHORT_STORY: 1500,
    ProductionType.NOVELLA: 10_000,
    ProductionType.NOVEL: 30_000,
    ProductionType.EPIC_SAGA: 60_000,
    ProductionType.SCREENPLAY: 1500,
    ProductionType.STAGE_PLAY: 1500,
    ProductionType.PODCAST_SCRIPT: 1000,
}
GENRES = list(Genre)
CASES = [(kind, GENRES[(i * 3 + k) % len(GENRES)]) for i, kind in enumerate(ProductionType) for k in range(3)]


def brief(**changes: Any) -> ProductionBrief:
    fields: dict[str, Any] = {
        "production_type": "short_story",
        "genre": "fantasy",
        "subject": "A young archivist discovers a map of roads that do not exist",
        "target_length": 1500,
        "character_count": 3,
    }
    return ProductionBrief(**{**fields, **changes})


def test_registry_covers_every_stage_and_weights_sum_to_100():
    assert list(STAGES) == list(Stage)
    assert sum(spec.weight for spec in STAGES.values()) == pytest.approx(100)
    maps = {stage for stage, spec in STAGES.items() if spec.is_map}
    assert maps == {Stage.SEGMENT_GENERATION, Stage.COHERENCE_VALIDATION, Stage.LANGUAGE_STYLIZATION}
    for stage, spec in STAGES.items():
        assert (spec.run is None) == (stage in maps)
        assert (spec.finalize is not None) == (stage in maps)
    assert progress_before(Stage.BRIEF_INTERPRETATION) == 0
    assert STAGES[Stage.SEGMENT_GENERATION].weight > 50


def test_every_genre_is_covered_by_the_matrix():
    assert {genre for _, genre in CASES} == set(Genre)


@pytest.mark.parametrize(("kind", "genre"), CASES, ids=[f"{k.value}-{g.value}" for k, g in CASES])
def test_every_production_type_completes(kind: ProductionType, genre: Genre):
    b = brief(production_type=kind, genre=genre, target_length=LENGTHS[kind], character_count=4)
    ctx, narrative = run_pipeline(b, job_id=f"job-{kind.value}-{genre.value}")
    assert abs(narrative.word_count - b.target_length) <= 0.1 * b.target_length
    assert len(narrative.metadata["characters"]) == 4
    assert narrative.quality_metrics["all_characters_present"] is True
    assert narrative.metadata["engine"] == "offline"
    assert set(narrative.metadata) >= {"world", "characters", "structure", "segments", "engine"}
    assert all("text" not in s for s in narrative.metadata["segments"])
    assert sum(s["target_words"] for s in ctx.output_of(Stage.SEGMENT_PLANNING)["segments"]) == b.target_length
    for key in ("coherence_score", "overall_score", "distinct_2", "flesch_reading_ease", "dialogue_ratio"):
        assert key in narrative.quality_metrics
    assert narrative.quality_metrics["judged"] is False and narrative.quality_metrics["overall_score"] is None
    assert narrative.title


@pytest.mark.parametrize("target", [1500, 5000])
def test_delivered_length_is_within_ten_percent(target: int):
    _, narrative = run_pipeline(brief(target_length=target, character_count=5), job_id=f"len-{target}")
    assert abs(narrative.word_count - target) <= 0.1 * target
    assert len(narrative.metadata["characters"]) == 5
    assert narrative.quality_metrics["all_characters_present"]


def test_plan_chains_states_and_carries_the_synopsis():
    ctx, _ = run_pipeline(brief(target_length=5000), job_id="plan")
    plan = ctx.output_of(Stage.SEGMENT_PLANNING)
    segments = plan["segments"]
    assert plan["mode"] == "sequential"
    assert [s["index"] for s in segments] == list(range(5))
    for before, after in itertools.pairwise(segments):
        assert after["entry_state"] == before["exit_state"]
        assert after["synopsis_so_far"]
    assert all(s["beats"] and s["characters"] and s["place"] for s in segments)


def test_long_works_are_planned_per_act_with_bounded_prompts():
    small, _ = run_pipeline(brief(target_length=2000), job_id="small")
    big, narrative = run_pipeline(brief(production_type="novel", target_length=80_000), job_id="big")
    acts = big.output_of(Stage.STRUCTURE_DESIGN)["acts"]
    planning_calls = [c for c in big.calls if c.stage is Stage.SEGMENT_PLANNING]
    assert len(planning_calls) > len(acts) >= 3
    assert big.output_of(Stage.SEGMENT_PLANNING)["mode"] == "parallel"
    assert max(c.prompt_tokens for c in big.calls) <= 1.5 * max(c.prompt_tokens for c in small.calls)
    spent = sum(c.prompt_tokens + c.completion_tokens for c in big.calls)
    assert spent <= 4 * narrative.word_count * 4 / 3
    assert all(c.finish_reason == "stop" for c in big.calls)


def test_polish_brief_produces_polish():
    _, narrative = run_pipeline(brief(language="pl", genre="mystery"), job_id="pl")
    text = narrative.text
    assert re.search(r"[ąęłńśźżó]", text)
    lowered = re.findall(r"\w+", text.lower())
    assert lowered.count("się") >= 3
    assert lowered.count("the") + lowered.count("and") == 0
    assert narrative.quality_metrics["all_characters_present"]


def test_first_person_narration_uses_i():
    _, narrative = run_pipeline(brief(pov="first", target_length=1000), job_id="pov")
    assert len(re.findall(r"\bI\b", narrative.text)) >= 5


def test_script_types_are_formatted_as_scripts():
    _, screenplay = run_pipeline(brief(production_type="screenplay", target_length=1500), job_id="sp")
    assert re.search(r"^(INT\.|EXT\.) .+ - [A-Z]+$", screenplay.text, re.M)
    assert re.search(r"^[A-Z]{2,}\n[^\n]+", screenplay.text, re.M)
    _, play = run_pipeline(brief(production_type="stage_play", target_length=1500), job_id="play")
    assert re.search(r"^SCENE \d+\.\d+\.", play.text, re.M)
    assert re.search(r"^[A-Z]{2,}: \S", play.text, re.M)
    assert re.search(r"^\(.+\)$", play.text, re.M)
    _, podcast = run_pipeline(brief(production_type="podcast_script", target_length=1000), job_id="pod")
    assert re.search(r"^\[(SOUND|MUSIC): ", podcast.text, re.M)
    assert podcast.quality_metrics["dialogue_ratio"] > 0.5


class Scripted:
    """Delegates to the offline engine but lets a test rewrite chosen replies."""

    name = "offline"

    def __init__(self, seed: str, edit) -> None:
        self.inner = OfflineEngine(seed)
        self.edit = edit

    def complete(self, messages: list[Message], **kwargs: Any) -> Completion:
        reply = self.inner.complete(messages, **kwargs)
        schema = (kwargs.get("json_schema") or {}).get("name")
        return self.edit(schema, context_of(messages), reply)


def test_short_draft_is_extended_once():
    def edit(schema, facts, reply):
        if facts.get("task") == "draft":
            return replace(
                reply, text=" ".join(reply.text.split()[: facts["target_words"] // 2]), finish_reason="length"
            )
        return reply

    ctx, narrative = run_pipeline(brief(target_length=2000), provider=Scripted("ext", edit))
    drafts = ctx.segment_outputs(Stage.SEGMENT_GENERATION)
    assert all(d["extended"] and d["calls"] == 2 for d in drafts)
    assert ctx.output_of(Stage.SEGMENT_GENERATION)["extended_segments"] == [0, 1]
    assert abs(narrative.word_count - 2000) <= 200


def judged_low(flags):
    """A provider edit: every judge's score 0.4, as a model's review (the offline engine's own scores are not
    judged, so nothing acts on them), flagging what `flags(indices of the window)` returns."""
    def edit(schema, facts, reply):
        if schema == "coherence_review":
            review = json.loads(reply.text)
            for key in review:
                if key.endswith("_score"):
                    review[key]["score"] = 0.4
            review["flagged_segments"] = flags([s["index"] for s in facts["segments"]])
            return replace(reply, text=json.dumps(review), metadata={"engine": "judge-model"})
        return reply
    return edit


def test_low_judged_score_revises_the_flagged_segment(monkeypatch):
    monkeypatch.setenv("NARRAFORGE_REVISION_BAR", "0.7")
    edit = judged_low(lambda window: [{"index": window[-1], "issue": "seam breaks", "severity": 0.9}])
    ctx, narrative = run_pipeline(brief(target_length=3000), provider=Scripted("rev", edit))
    coherence = ctx.output_of(Stage.COHERENCE_VALIDATION)
    assert coherence["scores"]["overall_score"] == pytest.approx(0.4)
    assert coherence["revised_segments"] == [2]
    # The seam Map smoothed the draft beside the judge; finalize smoothed the revision's seam again.
    mapped = ctx.segment_output(Stage.LANGUAGE_STYLIZATION, 2)
    assert mapped is not None and mapped["source"] == "draft"
    final = final_output(ctx, 2)
    assert final is not None and final["source"] == "revision"
    assert final["text"].endswith(coherence["revisions"]["2"][-300:])
    assert list(ctx.output_of(Stage.LANGUAGE_STYLIZATION)["restyled"]) == ["2"]
    assert coherence["revisions"]["2"][-300:] in narrative.text
    assert [c.stage for c in ctx.calls].count(Stage.COHERENCE_VALIDATION) == 2  # one judge call, one revision
    assert [c.stage for c in ctx.calls].count(Stage.LANGUAGE_STYLIZATION) == 3  # two seams, one again


def test_a_revised_middle_segment_has_both_its_seams_smoothed_again(monkeypatch):
    monkeypatch.setenv("NARRAFORGE_REVISION_BAR", "0.7")
    edit = judged_low(lambda window: [{"index": 1, "issue": "drifts", "severity": 0.8}] if 1 in window else [])
    ctx, narrative = run_pipeline(brief(target_length=5000), provider=Scripted("mid", edit))
    coherence = ctx.output_of(Stage.COHERENCE_VALIDATION)
    assert coherence["revised_segments"] == [1] and coherence["windows"] == 2
    restyled = ctx.output_of(Stage.LANGUAGE_STYLIZATION)["restyled"]
    assert sorted(restyled) == ["1", "2"]
    assert restyled["1"]["source"] == "revision" and restyled["2"]["source"] == "draft"
    # segment 2's opening was smoothed against the revision's ending, not the draft's
    seams = [c for c in ctx.calls if c.stage is Stage.LANGUAGE_STYLIZATION and c.segment is None]
    assert len(seams) == 2
    assert restyled["2"]["text"][:150] in narrative.text


def test_stylization_rejects_a_rewrite_that_changes_length_too_much():
    def edit(schema, facts, reply):
        if facts.get("task") == "smooth_seam":
            return replace(reply, text=reply.text + " " + reply.text)
        return reply

    ctx, _ = run_pipeline(brief(target_length=2000), provider=Scripted("sty", edit))
    second = ctx.segment_output(Stage.LANGUAGE_STYLIZATION, 1)
    assert second is not None and second["seam_rejected"] and not second["seam_smoothed"]
    assert second["text"] == ctx.segment_output(Stage.SEGMENT_GENERATION, 1)["text"]
    assert ctx.output_of(Stage.LANGUAGE_STYLIZATION)["seams_rejected"] == 1


def test_smoothed_seam_keeps_the_rest_of_the_segment():
    ctx, _ = run_pipeline(brief(target_length=2000), job_id="seam")
    second = ctx.segment_output(Stage.LANGUAGE_STYLIZATION, 1)
    draft = ctx.segment_output(Stage.SEGMENT_GENERATION, 1)
    assert second is not None and draft is not None and second["seam_smoothed"]
    assert second["text"].endswith(draft["text"][-300:])


def test_a_structured_reply_that_is_never_json_falls_back_whole():
    def edit(schema, facts, reply):
        return replace(reply, text="Sure! Here is your plan.") if schema == "brief_interpretation" else reply

    ctx, narrative = run_pipeline(brief(), provider=Scripted("bad", edit))
    assert [c.schema for c in ctx.calls].count("brief_interpretation") == 2  # asked, re-asked, then fallback
    assert narrative.metadata["fallbacks"] == [
        {"stage": "brief_interpretation", "field": "reply", "reason": "is not a JSON object"}]


def test_a_missing_cast_member_falls_back_to_the_planner():
    def edit(schema, facts, reply):
        if schema == "character_architecture":
            cast = json.loads(reply.text)["characters"][:-1]
            for character, name in zip(cast, ("Zebulon Quark", "Xanthe Quill"), strict=True):
                character["name"] = name  # names the planner's bank does not have, so its third cannot clash
            return replace(reply, text=json.dumps({"characters": cast}))
        return reply

    _, narrative = run_pipeline(brief(), provider=Scripted("cast", edit))
    assert [f["field"] for f in narrative.metadata["fallbacks"]] == ["characters[2]"]
    names = [c["name"] for c in narrative.metadata["characters"]]
    assert names[:2] == ["Zebulon Quark", "Xanthe Quill"] and len(names) == 3


def test_prompts_carry_the_brief():
    seen: list[list[Message]] = []

    def edit(schema, facts, reply):
        return reply

    provider = Scripted("prompts", edit)
    original = provider.complete

    def spy(messages, **kwargs):
        seen.append(messages)
        return original(messages, **kwargs)

    provider.complete = spy  # type: ignore[method-assign]
    run_pipeline(
        brief(
            language="pl", style_instructions="Krótkie zdania, dużo ciszy", pov="first", setting_period="Kraków, 1905"
        ),
        provider=provider,
    )
    every = "\n".join(m.content for msgs in seen for m in msgs)
    assert "Polish" in every and "Krótkie zdania, dużo ciszy" in every and "Kraków, 1905" in every
    assert "first person" in every
    assert "EXACTLY 3 named characters" in every


def test_a_seam_opening_is_cut_at_a_sentence_when_the_model_writes_no_paragraph_breaks():
    sentence = "She walked past the tower and counted the silent bells twice."  # 11 words
    unbroken = "\n".join([sentence] * 80)  # 880 words, single line breaks only: one paragraph
    opening, rest = split_opening(unbroken, SEAM_WORDS)
    assert SEAM_WORDS <= len(opening.split()) < SEAM_WORDS + 11 and opening.endswith(".")
    assert len(opening.split()) + len(rest.split()) == 880 and rest.startswith("She walked")
    # Ordinary paragraphs keep whole-paragraph openings.
    paragraphed = "\n\n".join(" ".join([sentence] * 5) for _ in range(6))  # six paragraphs of 55 words
    opening, rest = split_opening(paragraphed, SEAM_WORDS)
    assert len(opening.split()) == 110 and len(rest.split()) == 220
