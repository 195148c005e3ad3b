"""A weak model's planning replies: valid JSON whose fields are nonsense. Each reply is checked for meaning,
re-asked once with the problems listed, then each failing field falls back to the deterministic planner; the job
completes and the narrative says what fell back. Also length control against a model whose continuations are
empty or repetitive. Driven through the in-memory pipeline (narraforge_dev.pipeline_double) with a scripted weak
model."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
from narraforge.enums import Stage
from narraforge.llm.base import Completion, Message, Usage
from narraforge.llm.offline import OfflineEngine
from narraforge.llm.offline.plans import deterministic_plan
from narraforge.pipeline.layout import length_tolerance, segment_targets
from narraforge.pipeline.stages import character_architecture, checks, world_architecture
from narraforge.pipeline.stages.calls import REASK_PROMPT, token_budget
from narraforge.pipeline.stages.segment_generation import lean_budget
from narraforge.pipeline.text import strip_scaffolding
from narraforge.schemas.briefs import ProductionBrief

from narraforge_dev.pipeline_double import run_pipeline
from tests.fakes import WeakModel

RUNAWAY = "Archibald " * 80
BRIEF_SUBJECT = "A wizard apprentice discovers forbidden magic"


def brief(**changes: Any) -> ProductionBrief:
    fields: dict[str, Any] = {"production_type": "short_story", "genre": "fantasy", "target_length": 1500,
                              "subject": BRIEF_SUBJECT, "character_count": 3}
    return ProductionBrief(**{**fields, **changes})


def nonsense_cast(reply: dict[str, Any]) -> dict[str, Any]:
    """A date for a want, a runaway name, the third cast member missing."""
    cast = reply["characters"]
    cast[0]["want"] = "1999-04-12"
    cast[1]["name"] = RUNAWAY
    return {"characters": cast[:2]}


def repeated_places(reply: dict[str, Any]) -> dict[str, Any]:
    reply["places"][1]["name"] = reply["places"][0]["name"]
    return reply


def off_plan_segments(reply: dict[str, Any]) -> dict[str, Any]:
    """Targets the model was never asked for (that do not add up), a place not in the world, no cast on stage."""
    for seg in reply["segments"]:
        seg["target_words"] = 5
    reply["segments"][0]["place"] = "Mars"
    reply["segments"][0]["characters"] = ["Nobody Atall"]
    return reply


def test_nonsense_fields_fall_back_and_the_job_completes():
    model = WeakModel("weak-1")
    model.spoil("character_architecture", nonsense_cast, nonsense_cast)  # wrong twice: falls back
    model.spoil("world_architecture", repeated_places, repeated_places)
    model.spoil("segment_plan", off_plan_segments, off_plan_segments)
    model.spoil("structure_design", lambda r: {**r, "acts": r["acts"][:1]})  # fixed when re-asked: no fallback
    ctx, narrative = run_pipeline(brief(), job_id="weak-1", provider=model)

    fallbacks = narrative.metadata["fallbacks"]
    assert {(f["stage"], f["field"]) for f in fallbacks if f["stage"] != "world_architecture"} == {
        ("character_architecture", "characters[0].want"),
        ("character_architecture", "characters[1].name"),
        ("character_architecture", "characters[2]"),
        ("segment_planning", "segments[0].characters"),
        ("segment_planning", "segments[0].place"),
    }
    # The repeated place falls back; a planner's name that happens to repeat a later place of the model's
    # makes that one fall back too.
    world = [f["field"] for f in fallbacks if f["stage"] == "world_architecture"]
    assert "places[1]" in world and all(f.startswith("places[") for f in world)
    assert narrative.metadata["fallback_count"] == len(fallbacks)
    assert all(f["reason"] for f in fallbacks)
    # Fields that passed are the model's; the failing ones are the planner's, and now make sense.
    sent = [reply["characters"] for reply in map(json.loads, model.spoiled) if "characters" in reply][-1]
    cast = narrative.metadata["characters"]
    assert len(cast) == 3 and cast[0]["name"] == sent[0]["name"] and cast[0]["fear"] == sent[0]["fear"]
    assert cast[0]["want"] != "1999-04-12" and not checks.sentence(cast[0]["want"], ("want",))
    assert len(cast[1]["name"]) <= checks.NAME_CHARS
    assert len({c["name"].split()[0] for c in cast}) == 3
    places = [p["name"] for p in narrative.metadata["world"]["places"]]
    assert len(set(places)) == len(places)
    plans = ctx.output_of(Stage.SEGMENT_PLANNING)["segments"]
    assert sum(p["target_words"] for p in plans) == 1500 and plans[0]["place"] in places
    assert all(c in [m["name"] for m in cast] for c in plans[0]["characters"])
    assert len(model.asked("structure_design")) == 2 and len(narrative.metadata["structure"]["acts"]) == 2
    assert abs(narrative.word_count - 1500) <= 0.10 * 1500


def test_the_re_ask_lists_the_problems():
    model = WeakModel("weak-2")
    model.spoil("character_architecture", nonsense_cast)
    run_pipeline(brief(), job_id="weak-2", provider=model)
    first, second = model.asked("character_architecture")
    assert second[: len(first)] == first  # the same conversation, then the rejected reply and the problems
    assert second[len(first)] == Message("assistant", model.spoiled[0])
    follow_up = second[-1].content
    assert follow_up.startswith(REASK_PROMPT)
    assert "- characters[0].want: contains a date or number ('1999-04-12')" in follow_up
    assert "- characters[1].name: String should have at most 80 characters (got 'Archibald Archibald" in follow_up
    assert "- characters[2]: is missing: 2 characters given, 3 expected" in follow_up


def test_a_reply_that_is_right_the_first_time_is_asked_once():
    model = WeakModel("honest")
    _, narrative = run_pipeline(brief(), job_id="honest", provider=model)
    assert narrative.metadata["fallbacks"] == [] and narrative.metadata["fallback_count"] == 0
    planning = ("brief_interpretation", "world_architecture", "character_architecture", "structure_design")
    assert all(len(model.asked(name)) == 1 for name in planning)


def test_a_premise_off_the_subject_is_re_asked():
    def drifted(reply: dict[str, Any]) -> dict[str, Any]:
        return {**reply, "premise": "A baker opens a shop in a quiet town.", "logline": "Bread is good."}

    model = WeakModel("drift")
    model.spoil("brief_interpretation", drifted, drifted)
    _, narrative = run_pipeline(brief(), job_id="drift", provider=model)
    assert [f["field"] for f in narrative.metadata["fallbacks"]] == ["premise"]
    assert "does not mention the subject" in narrative.metadata["fallbacks"][0]["reason"]
    assert "premise: does not mention the subject" in model.asked("brief_interpretation")[1][-1].content


@pytest.mark.parametrize(("reply", "expected"), [
    ({"characters": []}, "characters"),  # schema: at least one
    ({"characters": "three of them"}, "characters"),
    ("[1, 2, 3]", "reply"),
])
def test_a_reply_wrong_in_shape_falls_back_by_field(reply, expected):
    model = WeakModel("shape")
    def spoil(_: dict[str, Any]) -> dict[str, Any] | str:
        return reply

    model.spoil("character_architecture", spoil, spoil)
    _, narrative = run_pipeline(brief(), job_id="shape", provider=model)
    assert [f["field"] for f in narrative.metadata["fallbacks"]] == [expected]
    assert len(narrative.metadata["characters"]) == 3


def test_the_fallback_is_the_deterministic_planner_for_the_same_job():
    facts = {"character_count": 2, "genre": "fantasy", "language": "en", "roles": ["protagonist", "antagonist"],
             "subject": "A wizard apprentice discovers forbidden magic"}
    one = deterministic_plan("character_architecture", facts, "job-a")
    assert one == deterministic_plan("character_architecture", facts, "job-a")
    assert not character_architecture.problems(character_architecture.Cast.model_validate(one), 2,
                                               ["protagonist", "antagonist"])


def test_the_checks_name_each_problem():
    world = world_architecture.World.model_validate({
        "setting_summary": "x " * 600, "period": "1843", "atmosphere": "grim", "rules": ["no magic", "no magic"],
        "sensory_palette": ["smoke"], "tensions": ["war"],
        "places": [{"name": "Keep", "description": "A keep."}, {"name": "keep", "description": "Another."}]})
    found = {str(p) for p in world_architecture.problems(world, 3)}
    assert "places[2]: is missing: 2 places given, 3 expected" in found
    assert "places[1]: place name 'keep' repeats item 0" in found
    assert "rules[1]: repeats an earlier item ('no magic')" in found
    assert "setting_summary: is 1199 characters long, at most 900 expected" in found


def test_a_judge_that_cannot_fill_the_rubric_leaves_the_work_unjudged():
    def out_of_range(reply: dict[str, Any]) -> dict[str, Any]:
        return {**reply, "logic_score": {"score": 2.5, "reason": "very logical"}}

    def runaway_title(reply: dict[str, Any]) -> dict[str, Any]:
        return {**reply, "title": "The " * 40}

    model = WeakModel("judge")
    model.spoil("coherence_review", out_of_range, out_of_range)
    model.spoil("editorial_review", runaway_title, runaway_title)
    _, narrative = run_pipeline(brief(), job_id="judge", provider=model)
    assert [(f["stage"], f["field"]) for f in narrative.metadata["fallbacks"]] == [
        ("coherence_validation", "scores (segments 0..1)"), ("editorial_review", "title")]
    assert narrative.quality_metrics["judged"] is False and narrative.quality_metrics["overall_score"] is None
    assert len(narrative.title) <= checks.TITLE_CHARS


def test_names_are_names():
    def cast(*names: str) -> character_architecture.Cast:
        person = {"role": "ally", "pronouns": "she/her", "age": 30, "description": "Tall, quiet, watchful.",
                  "want": "to be believed", "fear": "fire", "secret": "She lied once.", "arc": "from fear to trust",
                  "voice": "dry"}
        return character_architecture.Cast.model_validate({"characters": [{**person, "name": n} for n in names]})

    found = {str(p) for p in character_architecture.problems(
        cast("A" * 70, "Protagonist", "Agent 007", "Mira Vale", "Mira Stone"), 5, ["protagonist", "ally"])}
    assert not checks.person_name("Awakening in the Dark") and not checks.person_name("The Dark Lord")
    assert checks.person_name("Leonardo da Vinci") and checks.person_name("Will Turner")
    assert found == {"characters[0]: is 70 characters long, at most 60 expected",
                     "characters[1]: name 'Protagonist' is a role, not a name",
                     "characters[2]: contains digits ('Agent 007'); a name is expected",
                     "characters[4]: first name 'Mira Stone' repeats item 3"}


class Stubborn(OfflineEngine):
    """A prose model that writes a quarter of what is asked, then continues with nothing new: an empty
    continuation, or the draft over again."""

    def __init__(self, repeats: bool) -> None:
        super().__init__("stubborn")
        self.repeats = repeats
        self.draft = ""
        self.extensions = 0

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        reply = super().complete(messages, **kw)
        if '"task": "extend"' in messages[-1].content:
            self.extensions += 1
            return replace(reply, text=self.draft if self.repeats else "")
        if '"task": "draft"' in messages[-1].content:
            self.draft = " ".join(reply.text.split()[: len(reply.text.split()) // 4])
            return replace(reply, text=self.draft)
        return reply


@pytest.mark.parametrize("repeats", [False, True])
def test_extension_stops_when_the_model_adds_nothing_new(repeats):
    model = Stubborn(repeats)
    ctx, _ = run_pipeline(brief(target_length=1000), job_id="stub", provider=model)
    draft = ctx.segment_output(Stage.SEGMENT_GENERATION, 0)
    assert draft is not None and draft["calls"] == 2 and model.extensions == 1  # one try, then it stops
    assert draft["text"] == model.draft


def test_a_long_draft_is_trimmed_at_a_sentence(monkeypatch):
    class Rambling(OfflineEngine):
        def complete(self, messages, **kw):
            reply = super().complete(messages, **kw)
            if kw.get("json_schema") is None and '"task": "draft"' in messages[-1].content:
                return Completion(reply.text + "\n\n" + reply.text.replace(".", " again."), reply.usage,
                                  reply.model, "stop", {})
            return reply

    ctx, _ = run_pipeline(brief(target_length=1000), job_id="long", provider=Rambling("long"))
    draft = ctx.segment_output(Stage.SEGMENT_GENERATION, 0)
    assert draft is not None and draft["trimmed"]
    assert draft["word_count"] <= 1.1 * 1000 and draft["text"].rstrip()[-1] in ".!?…\"”’»)"


class SmallWriter(WeakModel):
    """A small model's prose: scaffolding around a short draft that names no one; continuations name the cast."""

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        if kw.get("json_schema") is not None:
            return super().complete(messages, **kw)
        with self.lock:
            self.requests.append(("prose", list(messages)))
        if "Continue this" in messages[-1].content:
            cast = re.findall(r"(\w+) \w+ \((?:protagonist|antagonist|ally)\)", messages[-1].content)
            text = " ".join(f"{name} spoke of the forbidden magic at last, and the tower answered {name} {i}."
                            for i in range(40) for name in cast)
        else:  # a long draft that runs past its target, with no one in it
            text = "Title: The Tower\nGenre: Fantasy\n\nOutline:\n" + BRIEF_SUBJECT + ". " + " ".join(
                f"The wind rose over the old tower for the {i}th time." for i in range(150))
        return Completion(text, Usage(100, 100), "SmolLM2-135M-Instruct", "stop", {"engine": "openai"})


def test_a_small_model_writes_from_a_lean_prompt_and_brings_in_the_cast(monkeypatch):
    monkeypatch.setenv("NARRAFORGE_SMALL_MODEL", "1")
    model = SmallWriter("small")
    ctx, narrative = run_pipeline(brief(target_length=600), job_id="small", provider=model)
    prose = model.asked("prose")
    draft, extension = prose[0][-1].content, prose[1][-1].content
    cast = [c["name"] for c in narrative.metadata["characters"]]
    assert "CONTEXT" not in draft and all(name in draft for name in cast) and BRIEF_SUBJECT in draft
    assert f"{cast[0]} must appear and speak." in extension  # none was named in the draft: the first enters first
    assert len(prose) == 2  # the over-long draft was cut to make room, and one continuation brought them in
    text = ctx.segment_output(Stage.SEGMENT_GENERATION, 0)["text"]
    assert not re.search(r"^(Title|Genre|Outline):", text, re.MULTILINE)
    assert all(name.split()[0] in narrative.text for name in cast)
    assert abs(narrative.word_count - 600) <= 0.25 * 600


def test_small_models_are_known_by_name_or_setting(monkeypatch):
    assert length_tolerance("SmolLM2-135M-Instruct") == 0.25
    assert length_tolerance("gpt-4.1-mini") == 0.10
    monkeypatch.setenv("NARRAFORGE_SMALL_MODEL", "1")
    assert length_tolerance("gpt-4.1-mini") == 0.25
    monkeypatch.setenv("NARRAFORGE_SMALL_MODEL", "0")
    assert length_tolerance("SmolLM2-135M-Instruct") == 0.10
    assert sum(segment_targets(1500)) == 1500


def test_a_small_models_prose_calls_ask_for_about_what_is_kept(monkeypatch):
    """A small model writes to its max_tokens; what runs past (1 + tolerance/2) × target is trimmed unread."""
    monkeypatch.setenv("NARRAFORGE_SMALL_MODEL", "1")
    caps: list[int] = []

    class Counting(SmallWriter):
        def complete(self, messages: list[Message], **kw: Any) -> Completion:
            if kw.get("json_schema") is None:
                caps.append(kw["max_tokens"])
            return super().complete(messages, **kw)

    run_pipeline(brief(target_length=600), job_id="lean", provider=Counting("lean"))
    draft_cap = caps[0]
    assert draft_cap == lean_budget(600, 0.25) == int(600 * 1.125 * 1.35) + 40
    assert draft_cap < 0.75 * token_budget(600)


class OneAtATime(SmallWriter):
    """A small model's continuation names only the character it is told must enter, and says what it is doing."""

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        reply = super().complete(messages, **kw)
        asked = re.search(r"Characters: .*?\. (\w+ \w+) must appear and speak", messages[-1].content)
        if kw.get("json_schema") is not None or asked is None:
            return reply
        name, words = asked.group(1), int(kw["max_tokens"] / 1.35)  # a real server stops at max_tokens
        story = " ".join(f"{name} crossed the tower yard for the {i}th time and spoke of the forbidden magic."
                         for i in range(words // 15))
        text = f'The story so far ended: "the wind rose."\n{story}\nI will continue to write about the story.'
        return Completion(text, reply.usage, reply.model, "length", {})


def test_a_small_model_brings_in_each_missing_character_with_a_continuation_of_its_own(monkeypatch):
    monkeypatch.setenv("NARRAFORGE_SMALL_MODEL", "1")
    model = OneAtATime("one")
    ctx, narrative = run_pipeline(brief(target_length=600), job_id="one", provider=model)
    cast = [c["name"] for c in narrative.metadata["characters"]]
    asked = [re.search(r"(\w+ \w+) must appear and speak", m[-1].content) for m in model.asked("prose")]
    entering = [found.group(1) for found in asked if found]
    assert entering == cast  # one continuation per character, in the cast's order
    text = ctx.segment_output(Stage.SEGMENT_GENERATION, 0)["text"]
    assert all(name in text for name in cast)
    assert "story so far" not in text and "continue to write" not in text  # the prompt's echoes are dropped
    assert abs(narrative.word_count - 600) <= 0.25 * 600


@pytest.mark.parametrize("echo", [
    'The story so far ended: "the wind rose."', "I'll continue to write about the story until it ends:",
    "I have no title or headings yet.", "The story has begun, and the journey is about to be filled with a tale.",
    "Here is the continuation:", '"The story so far ends: the tower fell."'])
def test_a_small_models_echoes_of_its_prompt_are_not_story(echo):
    story = "Rafael crossed the yard.\nThe story of the tower was old, and everyone had heard it."
    assert strip_scaffolding(f"{echo}\n{story}") == story


class OffSubject(OneAtATime):
    """A small model that writes about something else until it is told the subject's words."""

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        reply = super().complete(messages, **kw)
        asked = re.search(r"Use the words: ([\w, ]+)\.", messages[-1].content)
        if kw.get("json_schema") is None and messages[-1].content.startswith("Write the opening"):
            text = " ".join(f"The wind rose over the old tower for the {i}th time." for i in range(150))
            return Completion(text, reply.usage, reply.model, "stop", {})
        if kw.get("json_schema") is not None or asked is None:
            return reply
        told = asked.group(1).split(", ")
        text = " ".join(f"At last the {word} was plain to everyone in the yard, sentence {i}." for i in range(8)
                        for word in told)
        return Completion(text, reply.usage, reply.model, "stop", {})


def test_a_small_models_opening_that_drifts_off_the_subject_is_brought_back_to_it(monkeypatch):
    monkeypatch.setenv("NARRAFORGE_SMALL_MODEL", "1")
    model = OffSubject("drift")
    ctx, _ = run_pipeline(brief(target_length=600), job_id="drift", provider=model)
    asks = [m[-1].content for m in model.asked("prose") if "Now show this happening" in m[-1].content]
    assert len(asks) == 1 and BRIEF_SUBJECT in asks[0]  # once, first
    text = ctx.segment_output(Stage.SEGMENT_GENERATION, 0)["text"].casefold()
    assert all(word in text for word in ("wizard", "apprentice", "forbidden", "magic"))


def test_a_small_model_is_asked_in_the_language_it_must_write_in(monkeypatch):
    """Asked in English to write Polish, SmolLM2-135M wrote English (the Polish journey story, 96 % English):
    a Polish story's lean prompts are Polish, an English story's stay as they were."""
    monkeypatch.setenv("NARRAFORGE_SMALL_MODEL", "1")
    polish = SmallWriter("pl")
    run_pipeline(brief(target_length=600, language="pl",
                       subject="Bibliotekarka odkrywa, że ktoś nocą dopisuje zakończenia do książek"),
                 job_id="pl", provider=polish)
    drafting = [r for r in polish.asked("prose") if r[0].content.startswith("Jesteś pisarzem.")]
    prompts = [m for request in drafting for m in request]
    assert len(drafting) >= 2  # the draft and at least one continuation
    draft = drafting[0]
    assert draft[0].content.startswith("Jesteś pisarzem. Piszesz wyłącznie po polsku.")
    assert draft[-1].content.startswith("Napisz początek opowiadania o tym: Bibliotekarka odkrywa")
    assert "Napisz po polsku około" in draft[-1].content and "w trzeciej osobie" in draft[-1].content
    english_instructions = ("Write ", "Continue this", "Characters:", "Use their names", "What happens:")
    assert not [word for m in prompts if m.role == "user" for word in english_instructions if word in m.content]

    english = SmallWriter("en")
    run_pipeline(brief(target_length=600), job_id="en", provider=english)
    first = english.asked("prose")[0][-1].content
    assert first.startswith(f"Write the opening of a fantasy story about: {BRIEF_SUBJECT}.\nCharacters: ")
    assert "Write about " in first and "with dialogue. Only the story itself" in first
