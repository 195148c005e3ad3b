"""The continuity check's rules (issue 14, item 5): the dead acting or speaking is found, the dead remembered is
not; a near-miss of a world place's name is found and put right, the right name and unrelated capitalised words
are not; a judge's locked-rule claim is kept only with a verbatim quote of the segment and a locked rule."""

from __future__ import annotations

from typing import Any

import pytest
from narraforge.pipeline import continuity
from narraforge.pipeline.continuity import ContinuityReply, Violation

RULE = "Every spell costs the caster a memory, chosen by the tide"
WORLD: dict[str, Any] = {
    "places": [{"id": "p-salt", "name": "Saltmere"}, {"id": "p-reef", "name": "The Glass Reef"},
               {"id": "p-hook", "name": "Hook"}],
    "rules": [{"id": "r-price", "name": "Memory price", "locked": True, "description": RULE},
              {"id": "r-free", "name": "Tides", "description": "The tide turns twice a day"}],
    "characters": [
        {"id": "c-mira", "name": "Mira Vell", "status": "alive"},
        {"id": "c-oren", "name": "Oren Vell", "status": "dead"},
        {"id": "c-tam", "name": "Tamsin Hale", "status": "missing"},
    ],
}
CAST = [{"name": "Mira Vell"}, {"name": "Ada Lind"}]
STORY_PLACES = [{"name": "Saltmere"}, {"name": "Lantern Quay"}]


def facts(world: dict[str, Any] = WORLD) -> continuity.WorldFacts:
    return continuity.world_facts(world, CAST, STORY_PLACES)


def kinds(text: str, language: str = "en") -> list[tuple[str, str]]:
    return [(f.kind, f.fact) for f in continuity.check([text], facts(), language)]


@pytest.mark.parametrize("sentence", [
    '"Come home," Oren said.',
    'Oren Vell walked into the kitchen and sat down.',
    '"Enough," said Oren.',
    'Oren slowly turned to face the sea.',
    'Oren was waiting at the door.',
    'Oren: "The tide is wrong tonight."',
])
def test_the_dead_acting_or_speaking_is_found(sentence):
    text = f"The harbour was quiet. {sentence} Mira looked away."
    found = continuity.check([text], facts(), "en")
    assert [(f.segment, f.kind, f.fact, f.evidence) for f in found] == [
        (0, "dead_character_acts", "Oren Vell is dead", sentence)]
    assert found[0].as_dict()["severity"] == continuity.SEVERITY["dead_character_acts"]


@pytest.mark.parametrize("sentence", [
    "Mira remembered how Oren laughed at the storms.",
    "She stood at Oren's grave until the bells rang.",
    '"I miss Oren," Mira said.',
    'Oren\'s last letter lay open on the table: "Come home."',
    '"Come," Mira said, looking out towards where Oren used to fish.',
    "Oren had said it once, long ago.",
    "Oren was her brother.",
    "The ghost of Oren walked the pier, people said.",
    "Oren Vell died in the winter of the flood.",
])
def test_the_dead_remembered_mourned_or_mentioned_is_not_a_violation(sentence):
    assert kinds(f"The harbour was quiet. {sentence}") == []


def test_a_living_character_acting_is_not_a_violation():
    assert kinds('"Come home," Mira said. Ada Lind walked in. Tamsin Hale laughed.') == []


def test_a_shared_first_name_is_no_evidence_of_the_dead():
    world = {**WORLD, "characters": [*WORLD["characters"], {"id": "c-o2", "name": "Oren Stone"}]}
    assert continuity.check(['"Hello," Oren said.'], facts(world), "en") == []  # which Oren? the living may
    assert [f.fact for f in continuity.check(['"Hello," Oren Vell said.'], facts(world), "en")] == [
        "Oren Vell is dead"]


@pytest.mark.parametrize(("text", "acts"), [
    ("— Chodź tu — powiedział Oren.", True),
    ("Oren wstał od stołu i podszedł do okna.", True),
    ("— Gdzie jest Oren? — zapytała Mira.", False),
    ("Mira wspominała, jak Oren się śmiał.", False),
    ("Oren nie żyje od roku.", False),
    ("Stała nad grobem, w którym leżał Oren.", False),
])
def test_polish_the_dead_acting_and_remembered(text, acts):
    assert bool(kinds(text, "pl")) is acts


def test_a_near_miss_of_a_world_place_is_a_renamed_place_and_is_put_right():
    text = "They sailed from Saltmire at dawn. The fog over the Glass Reff was thick. In Saltmere the bells rang."
    found = continuity.check([text], facts(), "en")
    assert [f.as_dict() for f in found] == [
        {"segment": 0, "kind": "renamed_place", "fact": "the place is called Saltmere in the world",
         "evidence": "They sailed from Saltmire at dawn.", "severity": 0.5, "world_name": "Saltmere",
         "found_name": "Saltmire"},
        {"segment": 0, "kind": "renamed_place", "fact": "the place is called The Glass Reef in the world",
         "evidence": "The fog over the Glass Reff was thick.", "severity": 0.5, "world_name": "The Glass Reef",
         "found_name": "the Glass Reff"},
    ]
    fixed = text
    for finding in found:
        fixed = continuity.restore_place(fixed, finding)
    assert fixed == ("They sailed from Saltmere at dawn. The fog over the Glass Reef was thick. "
                     "In Saltmere the bells rang.")
    assert continuity.check([fixed], facts(), "en") == []


@pytest.mark.parametrize("text", [
    "In Saltmere the bells rang, and the Glass Reef sang beneath The Glass Reef's lamps.",
    "Saltmere's harbour master waved.",
    "On Sunday, Salter and Mallory walked to Lantern Quay with Ada Lind.",  # unrelated capitalised words
    "Hooks hung by the door; Hook Bay was calm.",  # the world's short names are never near-missed
    "They walked the Glass Road to the reef.",  # one word apart from "The Glass Reef": too far
])
def test_the_right_place_names_and_unrelated_capitalised_words_are_not_renamings(text):
    assert kinds(text) == []


def test_polish_declensions_of_a_place_are_not_renamings_but_a_misspelling_is():
    assert kinds("Wrócili do Saltmerze. W Saltmerem było cicho. Saltmere spało.", "pl") == []
    assert kinds("W Saltmirze dzwony milczały.", "pl") == [
        ("renamed_place", "the place is called Saltmere in the world")]


def test_a_judges_locked_rule_claim_is_kept_only_with_a_verbatim_quote_and_a_locked_rule():
    texts = ["Mira raised her hand and\n  cast the spell, and she   remembered everything after.", "Quiet."]
    reply = ContinuityReply(violations=[
        Violation(index=0, rule=RULE.upper(), evidence="cast the spell, and she remembered everything"),
        Violation(index=0, rule=RULE, evidence="Mira burned the city with a single word"),  # invented
        Violation(index=1, rule=RULE, evidence="cast the spell, and she remembered everything"),  # other segment
        Violation(index=0, rule="The tide turns twice a day", evidence="cast the spell, and she remembered"),
        Violation(index=0, rule=RULE, evidence="Mira"),  # too short to prove anything
        Violation(index=5, rule=RULE, evidence="cast the spell, and she remembered everything"),  # not in window
    ])
    found = continuity.locked_rule_findings(reply, [0, 1], texts, [RULE])
    assert [f.as_dict() for f in found] == [{
        "segment": 0, "kind": "locked_rule_broken", "fact": f"locked rule: {RULE}",
        "evidence": "cast the spell, and she remembered everything", "severity": 0.8}]
    assert continuity.still_broken(found[0], texts[0], set())
    assert not continuity.still_broken(found[0], "Mira raised her hand and paid with a memory.", set())


def test_edits_counts_single_changes():
    assert continuity.edits("saltmere", "saltmire") == 1
    assert continuity.edits("saltmere", "saltmre") == 1
    assert continuity.edits("saltmere", "saltmeree") == 1
    assert continuity.edits("saltmere", "saltmere") == 0
    assert continuity.edits("saltmere", "harbour") > 2
