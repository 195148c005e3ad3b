"""Stories use their project's world (issue 14, items 2 and 6): which entries a prompt carries (bounded, featured
characters and locked rules always, the dead marked dead), and the whole pipeline in memory on the offline engine
and on a model that ignores the world: the world's names are reused, locked entries copied as written, and the
dead never cast."""

from __future__ import annotations

import json
from typing import Any

from narraforge.enums import Stage
from narraforge.llm.base import Completion, Message
from narraforge.llm.offline import OfflineEngine, approx_tokens
from narraforge.pipeline import world_context
from narraforge.pipeline.world_context import ENTRY_BUDGET, WorldView, select
from narraforge.schemas.briefs import ProductionBrief

from narraforge_dev.pipeline_double import run_pipeline

WORLD: dict[str, Any] = {
    "summary": "A drowned archipelago where magic is paid for in memories.",
    "places": [{"id": "p-salt", "name": "Saltmere", "kind": "city", "description": "A port built on sunken towers"},
               {"id": "p-reef", "name": "The Glass Reef", "locked": True,
                "description": "A reef of green glass that sings at low tide, where no boat may anchor"}],
    "rules": [{"id": "r-price", "name": "Memory price", "domain": "magic", "locked": True,
               "description": "Every spell costs the caster a memory, chosen by the tide"}],
    "history": [{"id": "h-flood", "name": "The Drowning", "when": "Year 0"}],
    "factions": [{"id": "f-wardens", "name": "Tide Wardens"}],
    "glossary": [{"id": "g-clock", "name": "tide-clock", "description": "The city's flood warning"}],
    "characters": [
        {"id": "c-mira", "name": "Mira Vell", "location": "Saltmere", "knows": ["The tide-clock is broken"],
         "description": "A tide-reader with salt-white hair and a sailor's knots for every mood",
         "relationships": [{"to": "Oren Vell", "kind": "brother"}]},
        {"id": "c-oren", "name": "Oren Vell", "status": "dead", "location": "The Glass Reef"},
        {"id": "c-tamsin", "name": "Tamsin Hale", "location": "Saltmere", "description": "The harbour master"},
    ],
}


def brief(**overrides: Any) -> ProductionBrief:
    return ProductionBrief(**({"production_type": "short_story", "genre": "fantasy", "target_length": 1200,
                               "character_count": 3,
                               "subject": "Mira goes back to Saltmere to learn who drowned her brother Oren Vell"}
                              | overrides))


def big_world(entries: int, *, extra: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """`entries` entries spread over the six sections, each of the same shape and length."""
    sections = ("places", "rules", "history", "factions", "glossary", "characters")
    world: dict[str, list[dict[str, Any]]] = {section: [] for section in sections}
    for n in range(entries):
        section = sections[n % len(sections)]
        entry = {"id": f"e{n}", "name": f"Entry {n:04d} {section}",
                 "description": f"A {section} entry of an old and crowded world, number {n}, with its own story"}
        if section == "characters":
            entry["status"] = "alive"
            entry["knows"] = ["What the sea took", "Where the keys are", "Who lied", "Nothing more"]
        world[section].append(entry)
    for section, added in (extra or {}).items():
        world[section] = [*added, *world[section]]
    return {"summary": "An old world. " * 200, **world}


def size(selected: dict[str, list[dict[str, Any]]]) -> int:
    return sum(len(entries) for entries in selected.values())


def test_the_selection_is_bounded_however_big_the_world():
    for entries in (10, 100, 1000):
        selected, _ = select(big_world(entries), brief())
        assert size(selected) == min(entries, ENTRY_BUDGET)
    view = WorldView(1, big_world(1000), select(big_world(1000), brief())[0])
    cards = json.dumps({section: view.cards(section) for section in view.selected} | {"summary": view.summary()})
    assert approx_tokens(cards) < 4000  # 40 short cards, the summary cut to 60 words, 3 facts per character


def test_featured_characters_and_locked_rules_are_always_carried():
    oldest = {"characters": [{"id": "c-old", "name": "Quill Amsel", "status": "alive"}],
              "rules": [{"id": f"r-lock{n}", "name": f"Locked law {n}", "locked": True, "description": "Old law"}
                        for n in range(3)]}
    world = big_world(1000, extra=oldest)
    plain, _ = select(world, brief(subject="A story about nothing in this world at all, truly"))
    featured, wanted = select(world, brief(subject="A story about nothing in this world at all, truly",
                                           featured_characters=["quill amsel"]))
    assert "c-old" not in [c["id"] for c in plain["characters"]]  # the oldest, unnamed: not chosen on its own
    assert featured["characters"][0]["id"] == "c-old" and "c-old" in wanted
    for selected in (plain, featured):
        assert {"r-lock0", "r-lock1", "r-lock2"} <= {r["id"] for r in selected["rules"]}
        assert size(selected) == ENTRY_BUDGET


def test_named_entries_and_their_neighbours_are_chosen_and_the_dead_are_marked_dead():
    selected, wanted = select(big_world(1000, extra={key: WORLD[key] for key in ("places", "characters")}),
                              brief())
    ids = [c["id"] for c in selected["characters"]]
    assert ids[:2] == ["c-mira", "c-oren"]  # named by the subject ("Mira" by first name, "Oren Vell" whole)
    assert {"p-salt", "p-reef"} <= {p["id"] for p in selected["places"]}  # named, and where they are
    assert "c-tamsin" not in wanted
    view = WorldView(1, WORLD, selected, wanted)
    cards = {card["name"]: card for card in view.cards("characters")}
    assert cards["Oren Vell"]["status"] == "dead" and cards["Mira Vell"]["status"] == "alive"
    assert cards["Mira Vell"]["relationships"] == [{"to": "Oren Vell", "kind": "brother"}]
    assert "Oren Vell" not in [c["name"] for c in view.castable()]
    assert [c["name"] for c in view.dead()] == ["Oren Vell"]


def test_the_offline_story_reuses_the_world_and_records_its_version():
    ctx, narrative = run_pipeline(brief(featured_characters=["Mira Vell"]), job_id="world-1", world=WORLD,
                                  world_version=7)
    built = ctx.output_of(Stage.WORLD_ARCHITECTURE)
    cast = ctx.output_of(Stage.CHARACTER_ARCHITECTURE)
    assert [p["name"] for p in built["places"]] == ["Saltmere", "The Glass Reef"]  # the world has enough
    assert built["places"][1]["description"] == WORLD["places"][1]["description"]  # locked: as written
    assert built["rules"][0] == WORLD["rules"][0]["description"]
    assert built["world_version"] == cast["world_version"] == narrative.metadata["world_version"] == 7
    assert {"p-salt", "p-reef", "r-price"} <= set(built["world_entries_used"])
    assert {"c-mira", "c-oren"} <= set(cast["world_entries_used"])
    names = [c["name"] for c in cast["characters"]]
    assert names[0] == "Mira Vell" and "Tamsin Hale" in names
    assert cast["characters"][0]["description"] == WORLD["characters"][0]["description"]
    assert "Mira" in narrative.text
    for segment in ctx.output_of(Stage.SEGMENT_PLANNING)["segments"]:
        assert segment["place"] in ("Saltmere", "The Glass Reef")
        assert segment["place"].removeprefix("The ") in narrative.text
    assert set(narrative.metadata["world_entries_used"]) >= {"p-salt", "c-mira"}


def test_a_dead_character_is_never_cast_even_when_featured_or_named():
    ctx, narrative = run_pipeline(brief(featured_characters=["Oren Vell", "Mira Vell"]), job_id="world-2",
                                  world=WORLD)
    cast = [c["name"] for c in ctx.output_of(Stage.CHARACTER_ARCHITECTURE)["characters"]]
    assert "Oren Vell" not in cast and cast[0] == "Mira Vell"
    assert ctx.output_of(Stage.CHARACTER_ARCHITECTURE)["world_dead"] == ["Oren Vell"]
    for segment in ctx.output_of(Stage.SEGMENT_PLANNING)["segments"]:
        assert "Oren Vell" not in segment["characters"]
    assert not any(name.split()[0] == "Oren" for name in cast)  # no invented namesake either
    assert "Oren" not in narrative.text


class WorldBlindModel:
    """The offline engine, except that its cast always leads with the world's dead brother: a model that
    ignores the world. Its replies are checked like any model's."""

    name = "offline"

    def __init__(self) -> None:
        self.engine = OfflineEngine("blind")
        self.cast_calls = 0

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        completion = self.engine.complete(messages, **kw)
        if (kw.get("json_schema") or {}).get("name") != "character_architecture":
            return completion
        self.cast_calls += 1
        reply = json.loads(completion.text)
        reply["characters"][0]["name"] = "Oren Vell"
        return Completion(json.dumps(reply), completion.usage, completion.model, "stop", completion.metadata)


def test_a_model_that_casts_the_dead_is_corrected_from_the_world():
    model = WorldBlindModel()
    ctx, _ = run_pipeline(brief(), job_id="world-3", provider=model, world=WORLD)
    cast = ctx.output_of(Stage.CHARACTER_ARCHITECTURE)
    assert model.cast_calls == 2  # asked again once, naming the problem, then the field fell back
    assert "Oren Vell" not in [c["name"] for c in cast["characters"]]
    assert cast["characters"][0]["name"] == "Mira Vell"
    assert [f["field"] for f in cast["fallbacks"]] == ["characters[0]"]


def test_without_a_world_prompts_and_outputs_carry_none_of_it():
    ctx, narrative = run_pipeline(brief(), job_id="world-4")
    assert ctx.output_of(Stage.WORLD_ARCHITECTURE)["world_version"] is None
    assert ctx.output_of(Stage.CHARACTER_ARCHITECTURE)["world_entries_used"] == []
    assert narrative.metadata["world_version"] is None
    assert world_context.load(ctx, None) is None


def test_a_sequel_starts_where_its_prequel_left_the_cast_and_carries_its_timeline():
    states = {"c-mira": [{"narrative_id": "N1", "narrative_version": 1, "location": "The Glass Reef"},
                         {"narrative_id": "N2", "narrative_version": 1, "location": "Saltmere"},
                         {"narrative_id": "N1", "narrative_version": 2, "status": "missing",
                          "location": "The Glass Reef"}],
              "c-oren": [{"narrative_id": "N1", "narrative_version": 2, "status": "alive"}]}
    world = {**WORLD,
             "characters": [{**c, "story_states": states.get(c["id"], [])} for c in WORLD["characters"]],
             "history": [*WORLD["history"],
                         {"id": "h1", "name": "The reef sings", "narrative_id": "N1", "narrative_version": 1},
                         {"id": "h2", "name": "The reef sings (v2)", "narrative_id": "N1", "narrative_version": 2},
                         {"id": "h3", "name": "Harbour fire", "narrative_id": "N2", "narrative_version": 1}]}
    document, prequel = world_context.start_after(world, "N1")
    by_name = {c["name"]: c for c in document["characters"]}
    # N1's newest version (2) left Mira missing at the reef, though N2 (another branch) brought her back
    assert (by_name["Mira Vell"]["status"], by_name["Mira Vell"]["location"]) == ("missing", "The Glass Reef")
    assert by_name["Oren Vell"]["status"] == "dead"  # the dead stay dead, whatever an earlier end said
    assert by_name["Tamsin Hale"] == {**WORLD["characters"][2], "story_states": []}  # not in N1: as the world has her
    assert prequel["narrative_version"] == 2
    assert [e["name"] for e in prequel["events"]] == ["The reef sings (v2)"]
    assert [(c["name"], c["status"]) for c in prequel["cast"]] == [("Mira Vell", "missing"), ("Oren Vell", "dead")]
    assert world["characters"][0]["location"] == "Saltmere"  # the stored document is not changed

    selected, wanted = select(document, brief(subject="A harbour master keeps the lamps lit through winter"),
                              following=[c["id"] for c in prequel["cast"]])
    assert [c["name"] for c in selected["characters"]][:2] == ["Mira Vell", "Oren Vell"]
    view = WorldView(3, document, selected, wanted, prequel)
    assert next(c["name"] for c in view.castable()) == "Mira Vell"  # missing, yet cast: the prequel left her so
    assert "Oren Vell" not in [c["name"] for c in view.castable()]


def test_an_offline_sequel_opens_after_its_prequel_and_recasts_its_survivors():
    states = [{"narrative_id": "N1", "narrative_version": 1, "location": "The Glass Reef"}]
    world = {**WORLD, "characters": [{**c, "story_states": states} for c in WORLD["characters"]],
             "history": [*WORLD["history"], {"id": "h1", "name": "The reef sings", "narrative_id": "N1",
                                              "narrative_version": 1}]}
    seen: dict[str, list[Message]] = {}
    engine = OfflineEngine("sequel-1")

    class Recording:
        name = engine.name

        def complete(self, messages: list[Message], **kwargs: Any) -> Completion:
            seen[(kwargs.get("json_schema") or {}).get("name", "prose")] = messages
            return engine.complete(messages, **kwargs)

    ctx, narrative = run_pipeline(brief(subject="A harbour master keeps the lamps lit through winter",
                                        character_count=2, sequel_of="N1"), job_id="sequel-1",
                                  provider=Recording(), world=world, world_version=4)  # type: ignore[arg-type]
    built = ctx.output_of(Stage.WORLD_ARCHITECTURE)
    assert built["prequel"]["narrative_id"] == "N1"
    assert [c["name"] for c in ctx.output_of(Stage.CHARACTER_ARCHITECTURE)["characters"]] == [
        "Mira Vell", "Tamsin Hale"]  # the survivors, in the world's order; Oren is dead
    act_one = ctx.output_of(Stage.STRUCTURE_DESIGN)["acts"][0]["summary"]
    assert act_one.startswith("After “The reef sings”:")
    structure_prompt = seen["structure_design"][-1].content
    assert '"previously"' in structure_prompt and "The Glass Reef" in structure_prompt
    assert "Mira" in narrative.text
