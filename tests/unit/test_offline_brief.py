"""The offline engine writes about the brief it was given, says it is a demo, reports no judged score it did not
judge, follows a regeneration's instructions for the ending and does not repeat itself in long works."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from narraforge.enums import Stage
from narraforge.llm.base import Completion, Message
from narraforge.llm.offline import OfflineEngine, context_of
from narraforge.pipeline.layout import map_items
from narraforge.pipeline.stages import STAGES
from narraforge.pipeline.stages.coherence_validation import SCORE_KEYS
from narraforge.pipeline.stages.output_processing import assemble
from narraforge.pipeline.text import paragraphs, sentences, words
from narraforge.schemas.briefs import ProductionBrief

from narraforge_dev.pipeline_double import MemoryContext, run_pipeline

# The test's own reading of a subject: words of four letters or more that are not function words.
STOP = {"that", "this", "with", "from", "where", "when", "they", "their", "them", "what", "which", "into", "does",
        "have", "been", "were", "will", "must", "back", "next", "under"}
PLANS = (Stage.WORLD_ARCHITECTURE, Stage.CHARACTER_ARCHITECTURE, Stage.STRUCTURE_DESIGN, Stage.SEGMENT_PLANNING)
BRIEFS = {
    "wizard": {"genre": "fantasy", "subject": "A wizard apprentice discovers forbidden magic"},
    "europa": {"genre": "sci_fi", "subject": "A lighthouse keeper on Europa hears whales under the ice"},
    "inspector": {"genre": "mystery",
                  "subject": "A retired inspector is called back to a village where the clocks all stopped"},
    "polish": {"genre": "fantasy", "language": "pl", "subject": "Uczennica czarodzieja odkrywa zakazaną magię"},
}


def make(**changes: Any) -> ProductionBrief:
    fields: dict[str, Any] = {"production_type": "short_story", "target_length": 1500, "character_count": 3}
    return ProductionBrief(**{**fields, **changes})


def subject_words(subject: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[^\W\d_]{4,}", subject) if w.lower() not in STOP]


def mentions(text: str, word: str, language: str) -> bool:
    """A word by its stem: in Polish any ending (zakazaną → zakazan…), in English any tense or number
    (discovers → discover…, hears → hear…)."""
    if language == "pl":
        stem = word[:-2] if len(word) > 6 else word
    else:
        stem = word[:-1] if word.endswith("s") and len(word) > 4 else word
    return re.search(rf"(?<![^\W_]){re.escape(stem)}", text.lower()) is not None


@pytest.mark.parametrize("name", list(BRIEFS))
def test_subject_words_are_in_the_plans_and_the_text(name: str):
    brief = make(**BRIEFS[name])
    ctx, narrative = run_pipeline(brief, job_id=f"subject-{name}")
    wanted = subject_words(brief.subject)
    plans = {stage: json.dumps(ctx.output_of(stage), ensure_ascii=False) for stage in PLANS}
    every_plan = " ".join(plans.values())
    assert [w for w in wanted if not mentions(narrative.text, w, brief.language)] == []
    assert [w for w in wanted if not mentions(every_plan, w, brief.language)] == []
    for stage, plan in plans.items():
        assert any(mentions(plan, w, brief.language) for w in wanted), stage


def test_the_protagonist_is_who_the_subject_names():
    ctx, narrative = run_pipeline(make(**BRIEFS["wizard"]), job_id="hero")
    hero = ctx.output_of(Stage.CHARACTER_ARCHITECTURE)["characters"][0]
    assert hero["role"] == "protagonist" and "wizard apprentice" in hero["description"]
    first = hero["name"].split()[0]
    assert re.search(rf"{first}[^.]*\bwizard apprentice\b|\bwizard apprentice\b[^.]*{first}", narrative.text)
    keeper = run_pipeline(make(genre="mystery", subject="A lighthouse keeper finds a letter addressed to her"),
                          job_id="keeper")[0].output_of(Stage.CHARACTER_ARCHITECTURE)["characters"][0]
    assert "lighthouse keeper" in keeper["description"] and keeper["pronouns"] == "she/her"
    polish = run_pipeline(make(**BRIEFS["polish"]), job_id="pl-hero")[0]
    hero_pl = polish.output_of(Stage.CHARACTER_ARCHITECTURE)["characters"][0]
    assert hero_pl["description"].startswith("Uczennica czarodzieja") and hero_pl["pronouns"] == "she/her"


def test_title_period_cast_and_style_words_reach_plans_and_text():
    brief = make(genre="drama", subject="A farm must be sold by spring", title="The Glass Orchard",
                 setting_period="Kraków, 1905", style_instructions="Quiet, precise, melancholic", character_count=5)
    ctx, narrative = run_pipeline(brief, job_id="style")
    plans = json.dumps([ctx.output_of(s) for s in (Stage.BRIEF_INTERPRETATION, *PLANS)], ensure_ascii=False).lower()
    text = narrative.text.lower()
    for word in ("quiet", "precise", "melancholic"):
        assert word in plans
    assert any(word in text for word in ("quiet", "precise", "melancholic"))
    assert "kraków, 1905" in plans and "kraków, 1905" in text
    assert "the glass orchard" in text and narrative.title == "The Glass Orchard"
    cast = ctx.output_of(Stage.CHARACTER_ARCHITECTURE)["characters"]
    assert len(cast) == 5 and all(c["name"].split()[0] in narrative.text for c in cast)


def test_offline_scores_are_not_presented_as_judged():
    _, narrative = run_pipeline(make(**BRIEFS["wizard"]), job_id="honest")
    quality = narrative.quality_metrics
    assert {key: quality[key] for key in SCORE_KEYS} == dict.fromkeys(SCORE_KEYS)
    assert quality["judged"] is False and quality["overall_score_source"] == "none"
    assert quality["judge_reasons"] == {}
    for key in ("word_count", "length_adherence", "distinct_2", "distinct_3", "repetition_rate",
                "flesch_reading_ease", "dialogue_ratio", "cliche_density", "characters_present"):
        assert quality[key] is not None
    assert narrative.metadata["engine"] == "offline"
    assert narrative.metadata["notice"] == "Demo text, written without a language model"


class ModelLike:
    """The offline engine's replies relabelled as a model's: the stages must then keep the judged scores."""

    name = "openai"

    def __init__(self, seed: str) -> None:
        self.inner = OfflineEngine(seed)

    def complete(self, messages: list[Message], **kwargs: Any) -> Completion:
        return replace(self.inner.complete(messages, **kwargs), metadata={"engine": "test-model"})


def test_a_models_scores_stay_judged():
    _, narrative = run_pipeline(make(**BRIEFS["wizard"]), provider=ModelLike("model"))
    quality = narrative.quality_metrics
    assert quality["judged"] is True and quality["overall_score_source"] == "model"
    assert all(isinstance(quality[key], float) for key in SCORE_KEYS)
    assert quality["judge_reasons"]["overall_score"]
    assert narrative.metadata["engine"] == "test-model" and "notice" not in narrative.metadata


def regenerate(first: MemoryContext, *, job_id: str, instructions: str | None) -> tuple[MemoryContext, str]:
    """What `POST /narratives/{id}/regenerate` does by default: stages 1-5 reused, 6-10 run again with the
    author's instructions. Returns the context and the delivered text."""
    ctx = MemoryContext(job_id=job_id, brief=first.brief, provider=OfflineEngine(job_id), instructions=instructions)
    text = ""
    for stage, spec in STAGES.items():
        ctx.stage, ctx.segment = stage, None
        if stage.number < Stage.SEGMENT_GENERATION.number:
            ctx.store(stage, first.output_of(stage))
        elif stage is Stage.OUTPUT_PROCESSING:
            text = assemble(ctx).text
        elif spec.is_map:
            assert spec.run_segment is not None and spec.finalize is not None
            for index in range(map_items(stage, len(ctx.output_of(Stage.SEGMENT_PLANNING)["segments"]))):
                ctx.segment = index
                ctx.store(stage, spec.run_segment(ctx, index), index)
            ctx.store(stage, spec.finalize(ctx))
        else:
            assert spec.run is not None
            ctx.store(stage, spec.run(ctx))
    return ctx, text


# General sentiment words (not the engine's templates): the tone of a passage by the words it uses.
HOPEFUL = {"hope", "hopeful", "light", "morning", "smiled", "laughed", "laughing", "warm", "together", "spring",
           "sun", "kinder", "beginning", "shone", "singing", "home", "gift", "clear", "right", "better"}
DARK = {"dark", "cold", "alone", "gone", "ash", "silence", "final", "nothing", "guttered", "harder", "forgive",
        "lost", "grave", "grey", "shut", "water", "pretend", "price", "paid"}


def tone(text: str) -> tuple[int, int]:
    """(hopeful, dark) word counts of a story's last paragraph."""
    last = [w.lower() for w in words(paragraphs(text)[-1])]
    return sum(w in HOPEFUL for w in last), sum(w in DARK for w in last)


@pytest.mark.parametrize("seed", ["regen-a", "regen-b", "regen-c"])
def test_regenerate_instructions_change_the_endings_tone(seed: str):
    first, narrative = run_pipeline(make(**BRIEFS["wizard"], target_length=2000), job_id=seed)
    hopeful_ctx, hopeful = regenerate(first, job_id=f"{seed}-2", instructions="Make the ending hopeful")
    _, darker = regenerate(first, job_id=f"{seed}-3", instructions="Make it darker")
    assert hopeful_ctx.output_of(Stage.SEGMENT_PLANNING) == first.output_of(Stage.SEGMENT_PLANNING)
    up, down = tone(hopeful)
    assert up >= 2 and down == 0, paragraphs(hopeful)[-1]
    up, down = tone(darker)
    assert down >= 2 and up == 0, paragraphs(darker)[-1]
    assert len({paragraphs(t)[-1] for t in (narrative.text, hopeful, darker)}) == 3


def test_polish_instructions_change_the_endings_tone():
    first, _ = run_pipeline(make(**BRIEFS["polish"]), job_id="pl-regen")
    _, hopeful = regenerate(first, job_id="pl-regen-2", instructions="Niech zakończenie będzie pełne nadziei")
    _, darker = regenerate(first, job_id="pl-regen-3", instructions="Mroczniejsze zakończenie")
    bright = {"uśmiecha", "śmieje", "śmieją", "nadzieja", "ciepła", "ciepły", "jasny", "jasno", "poranek", "słońce",
              "śpiewać", "wiosną", "lepsze", "razem", "dobrze"}
    gloom = {"niczym", "gasną", "ciemność", "zimno", "popiół", "chłód", "cisza", "ostateczna", "wraca", "stracone"}
    for text, wanted, unwanted in ((hopeful, bright, gloom), (darker, gloom, bright)):
        last = [w.lower() for w in words(paragraphs(text)[-1])]
        assert sum(w in wanted for w in last) >= 2 and not any(w in unwanted for w in last), last


def test_endings_are_not_one_template():
    """Not one sentence with the names swapped: the final sentences start in different ways."""
    openings = set()
    for seed in range(8):
        text = run_pipeline(make(**BRIEFS["europa"]), job_id=f"ending-{seed}")[1].text
        openings.add(" ".join(w.lower() for w in words(sentences(text)[-1])[:4]))
    assert len(openings) >= 5, openings


def most_repeated(text: str) -> tuple[int, int]:
    """(occurrences of the most repeated sentence, of the most repeated 4-gram)."""
    found = Counter(" ".join(w.lower() for w in words(s)) for s in sentences(text))
    tokens = [w.lower() for w in words(text)]
    grams = Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))
    return max(found.values()), max(grams.values())


# Measured over three seeds: before this change a 20k novella's worst sentence/4-gram was 3/40 and an 80k
# novel's 9-10/169-173 ("kept one eye on"); after it 2-4/15-18 and 5-7/41-46. A 4-gram naming the story's
# danger ("a debt owed to the Lantern Court") recurs like a name in any novel; no stock phrase does more.
@pytest.mark.parametrize(("kind", "length", "sentence_bound", "gram_bound"),
                         [("novella", 20_000, 4, 20), ("novel", 80_000, 8, 50)])
def test_long_works_do_not_repeat_themselves(kind: str, length: int, sentence_bound: int, gram_bound: int):
    brief = make(**BRIEFS["wizard"], production_type=kind, target_length=length, character_count=6)
    _, narrative = run_pipeline(brief, job_id=f"long-{length}")
    sentence, gram = most_repeated(narrative.text)
    assert sentence <= sentence_bound and gram <= gram_bound, (sentence, gram)


def test_the_engine_reads_the_instructions_out_of_the_prompt():
    facts = {"task": "draft", "language": "en"}
    block = "```json\n" + json.dumps(facts) + "\n```"
    prompt = f"Write.\n\nAdditional instructions from the author: Make the ending hopeful\n\nCONTEXT:\n{block}"
    assert context_of([Message("user", prompt)])["instructions"] == "Make the ending hopeful"
    assert "instructions" not in context_of([Message("user", f"Write.\n\nCONTEXT:\n{block}")])
