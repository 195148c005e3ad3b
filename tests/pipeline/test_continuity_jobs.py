"""The continuity check in stage 7 (issue 14, item 5): a model that makes the world's dead speak, respells a world
place and breaks a locked rule gets each found, named with its segment, fact and evidence, and revised once; the
narrative reports them found and fixed. Through the pipeline in memory and through the API a writer uses (the
real handlers and the real ASL under moto): PUT a world with a dead character, run a job, GET the narrative."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from narraforge.enums import Stage
from narraforge.llm.base import Completion, Message
from narraforge.llm.offline import OfflineEngine, context_of
from narraforge.pipeline.layout import MAX_REVISIONS
from narraforge.schemas.briefs import ProductionBrief

from narraforge_dev.fake_openai import Fault
from narraforge_dev.pipeline_double import run_pipeline
from tests.fake_openai import serving
from tests.pipeline.conftest import run_job, short_brief

RULE = "Every spell costs the caster a memory, chosen by the tide"
WORLD: dict[str, Any] = {
    "summary": "A drowned archipelago where magic is paid for in memories.",
    "places": [{"name": "Saltmere", "kind": "city", "description": "A port built on sunken towers"},
               {"name": "The Glass Reef", "description": "A singing reef of green glass"}],
    "rules": [{"name": "Memory price", "domain": "magic", "locked": True, "description": RULE},
              {"name": "Tides", "domain": "nature", "description": "The tide turns twice a day"}],
    "characters": [
        {"name": "Mira Vell", "location": "Saltmere", "relationships": [{"to": "Oren Vell", "kind": "brother"}]},
        {"name": "Oren Vell", "status": "dead", "location": "The Glass Reef"},
    ],
}
BRIEF = short_brief(genre="fantasy", subject="A tide-reader learns what the sea took from her family",
                    target_length=900, character_count=2)
SPEAKS = '"I never drowned," Oren said.'
SPELL = "Mira cast the spell over the harbour and forgot nothing at all."
BROKEN = f"Fog rolled in from Saltmire. {SPEAKS} {SPELL}"
QUOTED = "cast the spell over the harbour and forgot nothing"


def with_ids(world: dict[str, Any]) -> dict[str, Any]:
    """The world as the API stores it: every entry with an id (the in-memory pipeline reads it as stored)."""
    return {key: [{"id": f"{key}-{i}", **entry} for i, entry in enumerate(value)] if isinstance(value, list)
            else value for key, value in world.items()}


@dataclass
class ContinuityBreakingModel:
    """A "model" (the offline engine's replies, not labelled offline): its draft of segment 0 opens with the dead
    Oren Vell speaking, a respelt Saltmere and a spell that costs nothing; `revise_breaks` makes its revisions
    keep the dead speaking. Its locked-rule answer is `violations` (or `raw`, sent as it is)."""

    violations: list[dict[str, Any]] = field(default_factory=list)
    raw: str | None = None
    revise_breaks: bool = False
    every_segment: bool = False  # every draft breaks the world, not only segment 0's
    requests: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    name: str = "openai"

    def complete(self, messages: list[Message], *, model: str, max_tokens: int, temperature: float,
                 json_schema: dict[str, Any] | None = None) -> Completion:
        schema = (json_schema or {}).get("name", "prose")
        facts = context_of(messages)
        with self.lock:
            self.requests.append((schema, facts, messages[-1].content))
        reply = OfflineEngine("continuity").complete(messages, model=model, max_tokens=max_tokens,
                                                     temperature=temperature, json_schema=json_schema)
        text = reply.text
        if schema == "continuity_check":
            text = self.raw if self.raw is not None else json.dumps({"violations": self.violations})
        elif ((facts.get("segment_index") == 0 or self.every_segment)
              and (facts.get("task") == "draft" or (facts.get("task") == "revise" and self.revise_breaks))):
            text = f"{BROKEN} {text}"
        return Completion(text, reply.usage, model, reply.finish_reason, {})

    def asked(self, schema: str, task: str | None = None) -> list[tuple[dict[str, Any], str]]:
        return [(f, m) for s, f, m in self.requests if s == schema and (task is None or f.get("task") == task)]


def story(model: Any, world: dict[str, Any] | None = WORLD, **overrides: Any) -> tuple[Any, Any]:
    brief = ProductionBrief.model_validate(BRIEF | overrides)
    return run_pipeline(brief, job_id="continuity-1", provider=model, world=with_ids(world) if world else None)


def by_kind(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["kind"]: f for f in report["findings"]}


def test_the_dead_speaking_a_renamed_place_and_a_broken_locked_rule_are_found_and_fixed():
    model = ContinuityBreakingModel(violations=[
        {"index": 0, "rule": RULE, "evidence": QUOTED},
        {"index": 0, "rule": RULE, "evidence": "Mira burned the harbour down with a single word"},  # invented
        {"index": 0, "rule": "The tide turns twice a day", "evidence": QUOTED},  # not a locked rule
    ])
    ctx, narrative = story(model)
    report = narrative.metadata["continuity_violations"]
    assert report["checked"] and report["locked_rules_checked"]
    found = by_kind(report)
    assert set(found) == {"dead_character_acts", "renamed_place", "locked_rule_broken"} and report["found"] == 3
    assert found["dead_character_acts"] | {"fixed": None, "fixed_by": None} == {
        "segment": 0, "kind": "dead_character_acts", "fact": "Oren Vell is dead", "evidence": SPEAKS,
        "severity": 0.9, "fixed": None, "fixed_by": None}
    assert (found["renamed_place"]["world_name"], found["renamed_place"]["found_name"]) == ("Saltmere", "Saltmire")
    assert found["locked_rule_broken"]["fact"] == f"locked rule: {RULE}"
    assert found["locked_rule_broken"]["evidence"] == QUOTED
    # One revision of segment 0, its prompt naming the contradictions; the place put right by the rule.
    revisions = model.asked("prose", "revise")
    assert [f["segment_index"] for f, _ in revisions] == [0]
    assert "Oren Vell is dead in this story's world" in revisions[0][1]
    assert f"“{RULE}”" in revisions[0][1]
    assert "Saltmire" not in revisions[0][1]  # the model is given the text with the world's name restored
    assert "Fog rolled in from Saltmere." in revisions[0][1]
    assert report["fixed"] == 3
    assert {k: (f["fixed"], f["fixed_by"]) for k, f in found.items()} == {
        "dead_character_acts": (True, "revision"), "renamed_place": (True, "rule"),
        "locked_rule_broken": (True, "revision")}
    assert ctx.output_of(Stage.COHERENCE_VALIDATION)["revised_segments"] == [0]
    assert SPEAKS not in narrative.text and "Saltmire" not in narrative.text
    judge_prompt = model.asked("continuity_check")[0][1]
    assert RULE in judge_prompt and "The tide turns twice a day" not in judge_prompt  # only the locked rules


def test_a_revision_that_keeps_the_dead_speaking_is_reported_unfixed():
    model = ContinuityBreakingModel(revise_breaks=True)
    _, narrative = story(model)
    report = narrative.metadata["continuity_violations"]
    found = by_kind(report)
    assert len(model.asked("prose", "revise")) == 1  # revised once, never twice
    assert (found["dead_character_acts"]["fixed"], found["dead_character_acts"]["fixed_by"]) == (False, None)
    assert found["renamed_place"]["fixed"] is True  # the rule put the name back in the revision too
    assert report["found"] == 2 and report["fixed"] == 1
    assert "locked_rule_broken" not in found  # the judge claimed none


def test_a_judges_unreadable_locked_rule_reply_is_recorded_not_a_crash():
    model = ContinuityBreakingModel(raw="{not json")
    _, narrative = story(model)
    report = narrative.metadata["continuity_violations"]
    assert report["checked"] and not report["locked_rules_checked"]
    assert {f["kind"] for f in report["findings"]} == {"dead_character_acts", "renamed_place"}
    unchecked = [f for f in narrative.metadata["fallbacks"] if f["field"].startswith("continuity")]
    assert unchecked and unchecked[0]["stage"] == "coherence_validation"
    assert unchecked[0]["reason"].startswith("locked rules not checked")


def test_continuity_revisions_keep_to_the_revision_budget_and_the_rest_are_reported_unfixed():
    model = ContinuityBreakingModel(every_segment=True)
    ctx, narrative = story(model, target_length=6000)
    segments = len(ctx.output_of(Stage.SEGMENT_PLANNING)["segments"])
    assert segments > MAX_REVISIONS
    assert [f["segment_index"] for f, _ in model.asked("prose", "revise")] == list(range(MAX_REVISIONS))
    report = narrative.metadata["continuity_violations"]
    dead = [f for f in report["findings"] if f["kind"] == "dead_character_acts"]
    places = [f for f in report["findings"] if f["kind"] == "renamed_place"]
    assert [f["segment"] for f in dead] == list(range(segments)) and len(places) == segments
    assert [f["segment"] for f in dead if f["fixed"]] == list(range(MAX_REVISIONS))  # the rest: found, not fixed
    assert all(f["fixed"] for f in places)  # a rule, no model call: every one
    assert report["fixed"] == MAX_REVISIONS + segments
    assert report["findings"][0]["kind"] == "dead_character_acts"  # worst first


def test_the_offline_engine_on_a_world_finds_nothing_and_says_it_checked():
    ctx, narrative = run_pipeline(ProductionBrief.model_validate(BRIEF | {"featured_characters": ["Mira Vell"]}),
                                  job_id="continuity-2", world=with_ids(WORLD))
    report = narrative.metadata["continuity_violations"]
    assert report == {"checked": True, "found": 0, "fixed": 0, "locked_rules_checked": False, "findings": []}
    assert ctx.calls_per_stage()[Stage.COHERENCE_VALIDATION] == 1  # one judge window; no rule call offline


def test_a_story_without_a_world_is_not_checked():
    _, narrative = story(ContinuityBreakingModel(), world=None)
    assert narrative.metadata["continuity_violations"]["checked"] is False
    assert narrative.metadata["continuity_violations"]["findings"] == []


@pytest.fixture
def breaking_model(monkeypatch):
    model = ContinuityBreakingModel(violations=[{"index": 0, "rule": RULE, "evidence": QUOTED}])
    monkeypatch.setattr("narraforge.pipeline.handler.provider_for", lambda job_id: model)
    return model


def test_through_the_api_the_narrative_reports_its_continuity_violations(writer, breaking_model):
    assert writer.put(f"/projects/{writer.project_id}/world", json=WORLD).status_code == 201
    job = run_job(writer, BRIEF)
    narrative = writer.get(f"/narratives/{job['narrative_id']}").json()
    report = narrative["narrative_metadata"]["continuity_violations"]
    found = by_kind(report)
    assert set(found) == {"dead_character_acts", "renamed_place", "locked_rule_broken"}
    assert found["dead_character_acts"]["evidence"] == SPEAKS and found["dead_character_acts"]["segment"] == 0
    assert found["renamed_place"]["fixed_by"] == "rule"
    assert report["found"] == 3 and report["fixed"] == 3
    assert "Saltmire" not in narrative["narrative_text"] and SPEAKS not in narrative["narrative_text"]
    assert any("Oren Vell is dead" in prompt for _, prompt in breaking_model.asked("prose", "revise"))


def test_through_the_api_the_offline_engine_on_a_world_reports_none_found(writer, provider):
    assert writer.put(f"/projects/{writer.project_id}/world", json=WORLD).status_code == 201
    job = run_job(writer, BRIEF)
    report = writer.get(f"/narratives/{job['narrative_id']}").json()["narrative_metadata"]["continuity_violations"]
    assert report == {"checked": True, "found": 0, "fixed": 0, "locked_rules_checked": False, "findings": []}
    assert provider.schemas["continuity_check"] == 0


@pytest.fixture
def server(monkeypatch):
    yield from serving(monkeypatch)


def test_through_an_openai_compatible_server_the_world_is_checked_and_the_locked_rules_asked(writer, server):
    """The real OpenAI provider against the fake server (the offline engine its brain): a draft that makes the
    dead speak in a respelt Saltmere is found and revised; the judge is asked about the locked rules."""
    filler = " ".join(f"Mira counted the boats in the harbour; boat {n} had lost its lantern." for n in range(40))
    server.prose_faults.append(Fault(content=f"{BROKEN} {filler}"))  # the first draft written
    assert writer.put(f"/projects/{writer.project_id}/world", json=WORLD).status_code == 201
    job = run_job(writer, BRIEF)
    report = writer.get(f"/narratives/{job['narrative_id']}").json()["narrative_metadata"]["continuity_violations"]
    assert report["checked"] and report["locked_rules_checked"]  # the server's judge answered: no rule broken
    found = by_kind(report)
    assert set(found) == {"dead_character_acts", "renamed_place"}
    assert found["dead_character_acts"]["evidence"] == SPEAKS and found["renamed_place"]["fixed_by"] == "rule"
    assert report["fixed"] == 2
    schemas = [((r.get("response_format") or {}).get("json_schema") or {}).get("name") for r in server.requests]
    assert "continuity_check" in schemas
    assert any("Oren Vell is dead" in r["messages"][-1]["content"] for r in server.requests)
