"""The world update's merge, its deterministic reading of a plan, and the stage runner's permissions for it."""

from __future__ import annotations

import itertools
import random

import pytest
from narraforge.errors import ValidationFailed
from narraforge.llm.offline.plans import BUILDERS, deterministic_plan
from narraforge.pipeline.world_update import StoryFacts, StoryRef, merge, problems
from narraforge.schemas.worlds import MAX_ENTRIES_PER_SECTION, WorldDocument

from narraforge_dev.local.template import resources_of_type

STORY = StoryRef("01NARRATIVE", 2, "The Tide Clock", "A drowned archipelago.", ["Every spell costs a memory."])


def ids():
    counter = itertools.count(1)
    return lambda: f"new{next(counter)}"


def world() -> WorldDocument:
    return WorldDocument.model_validate({
        "places": [{"id": "p1", "name": "Saltmere"}, {"id": "p2", "name": "The Drowned Library"}],
        "characters": [
            {"id": "c1", "name": "Mira Vell", "location": "p1", "knows": ["The tide-clock is broken"]},
            {"id": "c2", "name": "Old Tomas", "location": "Saltmere", "locked": True, "description": "The keeper"},
        ],
        "history": [{"id": "h1", "name": "The Flood", "when": "Year 312"}],
    })


def facts(**overrides) -> StoryFacts:
    return StoryFacts.model_validate({
        "characters": [
            {"name": "Mira Vell", "status": "dead", "location": "The Drowned Library",
             "learned": ["The tide-clock is broken", "Tomas lied"]},
            {"name": "Old Tomas", "status": "dead", "location": "The Drowned Library", "learned": ["Mira died"]},
            {"name": "Ansel Brack", "description": "A smuggler", "location": "Gull Rock", "learned": ["A secret"]},
        ],
        "places": [{"name": "Gull Rock", "description": "A reef"}, {"name": "saltmere", "description": "changed"}],
        "events": [{"name": "The Flood", "description": "Again", "when": "act 1"},
                   {"name": "Mira's fall", "description": "She drowns."}],
    } | overrides)


def test_new_entries_get_ids_and_existing_ones_keep_theirs():
    merged = merge(world(), facts(), STORY, ids())
    doc = merged.document
    assert [(p.id, p.name) for p in doc.places] == [("p1", "Saltmere"), ("p2", "The Drowned Library"),
                                                    ("new1", "Gull Rock")]
    assert doc.places[0].description == ""  # an existing place keeps its description
    ansel = doc.characters[2]
    assert (ansel.id, ansel.name, ansel.status, ansel.location, ansel.knows) == \
        ("new2", "Ansel Brack", "alive", "Gull Rock", ["A secret"])
    assert merged.added == {"characters": ["Ansel Brack"], "places": ["Gull Rock"],
                            "history": ["The Flood (The Tide Clock)", "Mira's fall"]}
    assert not merged.created


def test_state_changes_apply_to_unlocked_characters():
    merged = merge(world(), facts(), STORY, ids())
    mira = merged.document.characters[0]
    assert (mira.id, mira.status, mira.location) == ("c1", "dead", "The Drowned Library")
    assert mira.knows == ["The tide-clock is broken", "Tomas lied"]  # what she knew is not repeated
    assert merged.changed == [{"section": "characters", "id": "c1", "name": "Mira Vell",
                               "fields": ["knows", "location", "status"]}]


def test_a_locked_character_never_changes_and_each_contradiction_is_a_conflict():
    before = world().characters[1]
    merged = merge(world(), facts(), STORY, ids())
    assert merged.document.characters[1] == before
    assert sorted((c["field"], str(c["world"]), str(c["story"])) for c in merged.conflicts) == [
        ("knows", "[]", "['Mira died']"), ("location", "Saltmere", "The Drowned Library"), ("status", "alive", "dead")]
    assert all(c["id"] == "c2" and c["name"] == "Old Tomas" for c in merged.conflicts)


def test_a_story_that_says_nothing_new_changes_no_character():
    quiet = facts(characters=[{"name": "Mira Vell", "location": "Saltmere", "learned": []},
                              {"name": "Old Tomas", "location": "saltmere"}])
    merged = merge(world(), quiet, STORY, ids())
    unchanged = [c.model_dump(exclude={"story_states"}) for c in merged.document.characters]
    assert unchanged == [c.model_dump(exclude={"story_states"}) for c in world().characters]
    assert merged.changed == [] and merged.conflicts == []
    # only where the story left Mira is recorded (Tomas is locked: nothing at all)
    assert [(c.name, [(s.narrative_id, s.location) for s in c.story_states]) for c in merged.document.characters] \
        == [("Mira Vell", [("01NARRATIVE", "Saltmere")]), ("Old Tomas", [])]


def test_events_are_appended_with_the_story_and_unique_names():
    merged = merge(world(), facts(), STORY, ids())
    history = merged.document.history
    assert [e.name for e in history] == ["The Flood", "The Flood (The Tide Clock)", "Mira's fall"]
    assert history[0].narrative_id is None
    assert [(e.narrative_id, e.narrative_version, e.when) for e in history[1:]] == [
        ("01NARRATIVE", 2, "act 1"), ("01NARRATIVE", 2, None)]


def test_a_project_without_a_world_gets_its_first_from_the_story():
    merged = merge(None, facts(characters=[{"name": "Ansel Brack", "location": "Gull Rock"}]), STORY, ids())
    doc = merged.document
    assert merged.created and doc.summary == "A drowned archipelago."
    assert [(r.name, r.description) for r in doc.rules] == [("Every spell costs a memory", "Every spell costs a "
                                                                                             "memory.")]
    assert [c.name for c in doc.characters] == ["Ansel Brack"] and doc.characters[0].location == "Gull Rock"
    assert [p.name for p in doc.places] == ["Gull Rock", "saltmere"]


def test_a_merge_past_the_worlds_limits_fails_instead_of_writing_it():
    full = WorldDocument.model_validate({"history": [{"id": f"h{i}", "name": f"Event {i}"}
                                                     for i in range(MAX_ENTRIES_PER_SECTION)]})
    with pytest.raises(ValidationFailed, match="limits"):
        merge(full, facts(), STORY, ids())


PLAN_FACTS = {
    "story_title": "The Tide Clock",
    "cast": [{"name": "Mira Vell", "role": "protagonist", "description": "A clockmaker"},
             {"name": "Ansel Brack", "role": "antagonist", "description": "A smuggler"},
             {"name": "Ida Rook", "role": "ally", "description": "A diver"}],
    "places": [{"name": "Saltmere", "description": "A port"}, {"name": "Gull Rock", "description": "A reef"}],
    "acts": [{"number": 1, "title": "The Broken Clock", "summary": "Mira finds it.", "turning_point": "It ticks."},
             {"number": 2, "title": "Low Water", "summary": "Ansel comes.", "turning_point": "Mira hides."}],
    "ending": "The clock stops.",
    "final_state": {"location": "Gull Rock", "present": ["Mira Vell", "Ansel Brack"],
                    "knowledge": "Mira now knows the truth about the clock."},
}


def test_the_deterministic_reading_takes_only_what_the_plan_says():
    reading = StoryFacts.model_validate(deterministic_plan("world_update", PLAN_FACTS, "job"))
    story = {"cast": PLAN_FACTS["cast"], "places": PLAN_FACTS["places"]}
    assert problems(reading, story) == []  # the fallback passes the check the model's reply must pass
    by_name = {c.name: c for c in reading.characters}
    assert list(by_name) == ["Mira Vell", "Ansel Brack", "Ida Rook"]
    assert all(c.status is None for c in reading.characters)  # a plan never says who died
    assert (by_name["Mira Vell"].location, by_name["Mira Vell"].learned) == \
        ("Gull Rock", ["Mira now knows the truth about the clock."])
    assert (by_name["Ansel Brack"].location, by_name["Ansel Brack"].learned) == ("Gull Rock", [])
    assert by_name["Ida Rook"].location is None  # not on stage at the end
    assert [(e.name, e.when) for e in reading.events] == [("The Broken Clock", "act 1"), ("Low Water", "act 2")]
    assert BUILDERS["world_update"](PLAN_FACTS, random.Random(1)) == BUILDERS["world_update"](PLAN_FACTS,
                                                                                             random.Random(2))


def test_the_check_refuses_invented_characters_and_places():
    reply = StoryFacts.model_validate({
        "characters": [{"name": "Nobody", "location": "Atlantis"}],
        "places": [{"name": "Atlantis"}], "events": [{"name": "x", "description": "A thing happened."}]})
    fields = {p.field for p in problems(reply, {"cast": PLAN_FACTS["cast"], "places": PLAN_FACTS["places"]})}
    assert {"characters[0].name", "characters[0].location", "places[0].name"} <= fields


def test_a_reply_that_leaves_out_the_cast_is_refused():
    """SmolLM2 answered `characters: []` in bench/series.py: its world kept none of the cast, and the sequels could
    follow no one. Every cast member and place must be in the reply (a state may be null: unchanged)."""
    reply = StoryFacts.model_validate({"characters": [{"name": "Mira Vell"}], "places": [{"name": "saltmere"}],
                                       "events": [{"name": "x", "description": "A thing happened."}]})
    story = {"cast": PLAN_FACTS["cast"], "places": PLAN_FACTS["places"]}
    assert [(p.field, p.reason) for p in problems(reply, story)] == [
        ("characters", "'Ansel Brack' of the cast is missing"), ("characters", "'Ida Rook' of the cast is missing"),
        ("places", "'Gull Rock', a place of the story, is missing")]


def test_the_stage_runner_may_read_and_discard_world_versions_only_under_worlds():
    (runner,) = [f for name, f in resources_of_type("AWS::Serverless::Function").items()
                 if name == "StageRunnerFunction"]
    statements = [s for policy in runner["Properties"]["Policies"] for s in policy.get("Statement", [])
                  if isinstance(s, dict) and s.get("Sid") == "WorldVersions"]
    assert len(statements) == 1
    assert set(statements[0]["Action"]) == {"s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion"}
    assert statements[0]["Resource"] == {"Fn::Sub": "${Bucket.Arn}/worlds/*"}


def test_each_story_records_where_it_left_its_characters_and_a_rewritten_earlier_story_does_not_overwrite_later():
    first = StoryRef("01FIRST", 1, "One")
    second = StoryRef("01SECOND", 1, "Two")
    moved = facts(characters=[{"name": "Mira Vell", "location": "The Drowned Library"}])
    after_one = merge(world(), moved, first, ids()).document
    mira = after_one.characters[0]
    assert [(s.narrative_id, s.narrative_version, s.status, s.location) for s in mira.story_states] == [
        ("01FIRST", 1, None, "The Drowned Library")]
    after_two = merge(after_one, facts(characters=[{"name": "Mira Vell", "status": "missing",
                                                    "location": "Saltmere"}]), second, ids()).document
    assert (after_two.characters[0].status, after_two.characters[0].location) == ("missing", "Saltmere")

    # Story one regenerated (version 2) says Mira died in the library: story two came later, so the world
    # keeps story two's state as current, records version 2's beside version 1's, and says so.
    rewritten = merge(after_two, facts(characters=[{"name": "Mira Vell", "status": "dead",
                                                    "location": "The Drowned Library"}]),
                      StoryRef("01FIRST", 2, "One"), ids())
    mira = rewritten.document.characters[0]
    assert (mira.status, mira.location) == ("missing", "Saltmere")
    assert [(s.narrative_id, s.narrative_version, s.status) for s in mira.story_states] == [
        ("01FIRST", 1, None), ("01SECOND", 1, "missing"), ("01FIRST", 2, "dead")]
    assert [(s["field"], s["world"], s["story"], s["later_story"]) for s in rewritten.superseded] == [
        ("status", "missing", "dead", "01SECOND"), ("location", "Saltmere", "The Drowned Library", "01SECOND")]
    assert not rewritten.changed and not rewritten.conflicts
    events = [(e.narrative_id, e.narrative_version) for e in rewritten.document.history]
    assert ("01FIRST", 1) in events and ("01FIRST", 2) in events  # both versions' events, each attributed
    # The newest story rewritten (no later one) still updates the world as before.
    again = merge(after_two, facts(characters=[{"name": "Mira Vell", "location": "The Drowned Library"}]),
                  StoryRef("01SECOND", 2, "Two"), ids())
    assert again.document.characters[0].location == "The Drowned Library" and not again.superseded


def test_a_locked_character_records_no_story_state():
    merged = merge(world(), facts(), STORY, ids())
    assert merged.document.characters[1].story_states == []
