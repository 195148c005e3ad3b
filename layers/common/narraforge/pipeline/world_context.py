"""What a story takes from its project's world: the version it reads and the entries its prompts carry.

A job reads ONE version of the world: the one current when its first Prepare ran (`JobItem.world_version`,
pinned by `lifecycle.prepare`). Stage 2 reads that version and records it in its output; stage 3, and anything
later, reads the version stage 2 recorded, so a retry, a resume or a regeneration that reuses stage 2 sees the
same facts, never a newer world.

Prompts never carry the whole world: `select` picks at most ENTRY_BUDGET entries, each cut to a few words, so the
largest prompt stays bounded however big the world grows. In priority order: the brief's featured characters,
locked rules, entries the brief or the plan names, the places and relations one hop from the characters chosen so
far, then the rest by relevance to the brief's words, newest first among equals. The stages copy locked entries
verbatim from the document itself, not from the cut prompt cards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from narraforge.data import worlds as world_store
from narraforge.enums import Stage
from narraforge.pipeline.context import StageContext
from narraforge.pipeline.text import truncate_words, words
from narraforge.schemas.briefs import ProductionBrief
from narraforge.schemas.worlds import SECTIONS

ENTRY_BUDGET = 40  # entries a prompt may carry, whatever the world's size
SUMMARY_WORDS = 60
DESCRIPTION_WORDS = 30
PREQUEL_EVENTS = 8  # the prequel's last events a sequel's prompts carry
KNOWS_CARRIED = 3
KNOW_WORDS = 20
RELATIONS_CARRIED = 6
STAGE_TWO_SECTIONS = ("places", "rules", "history", "factions", "glossary")
MIN_FIRST_NAME = 3  # a character is "named" by a first name this long, capitalised, as well as by the full name
STOPWORDS = frozenset({
    "a", "an", "and", "the", "of", "to", "in", "on", "at", "by", "for", "with", "from", "into", "over", "under",
    "about", "as", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "who",
    "whom", "whose", "what", "which", "when", "where", "why", "how", "their", "there", "they", "them", "her", "his",
    "him", "she", "not", "but", "nor", "yet", "must", "will", "would", "can", "could", "should", "may", "might",
    "than", "then",
})


def current_version(project_id: str) -> int:
    """The version to pin for a job starting now: the world's head, 0 when the project has none."""
    head = world_store.head(project_id)
    return int(head.version) if head else 0


@dataclass(frozen=True)
class WorldView:
    """One version of the world and the entries selected from it for this story.

    `selected` maps a section to its chosen entries (the stored dicts, whole) in priority order;
    `wanted` holds the ids the brief or plan asked for by name (featured or mentioned)."""

    version: int
    document: dict[str, Any]
    selected: dict[str, list[dict[str, Any]]]
    wanted: frozenset[str] = field(default_factory=frozenset)
    prequel: dict[str, Any] | None = None

    def ids(self, sections: tuple[str, ...] = SECTIONS) -> list[str]:
        return [str(entry["id"]) for section in sections for entry in self.selected.get(section, []) if entry.get("id")]

    def summary(self) -> str:
        return truncate_words(str(self.document.get("summary") or ""), SUMMARY_WORDS)

    def cards(self, section: str) -> list[dict[str, Any]]:
        return [card(section, entry, self.document) for entry in self.selected.get(section, [])]

    def card_of(self, section: str, entry: dict[str, Any]) -> dict[str, Any]:
        return card(section, entry, self.document)

    def castable(self) -> list[dict[str, Any]]:
        """Selected characters who may act in the story: the living, and the missing or unknown whom the
        brief or plan asks for by name. The dead never act."""
        return [c for c in self.selected.get("characters", [])
                if c.get("status", "alive") == "alive"
                or (c.get("status") in ("missing", "unknown") and c.get("id") in self.wanted)]

    def dead(self) -> list[dict[str, Any]]:
        return [c for c in self.selected.get("characters", []) if c.get("status") == "dead"]

    def all_characters(self) -> list[dict[str, Any]]:
        return list(self.document.get("characters") or [])


def load(ctx: StageContext, version: int | None) -> WorldView | None:
    """The world at `version` (None or 0: the job has none) with this story's selection; a sequel's starts
    where its prequel ended."""
    if not version:
        return None
    document, prequel = ctx.world_document(version), None
    if ctx.brief.sequel_of:
        document, prequel = start_after(document, ctx.brief.sequel_of)
    following = [c["id"] for c in prequel["cast"]] if prequel else []
    return WorldView(version, document, *select(document, ctx.brief, plan_words(ctx), following=following),
                     prequel=prequel)


def start_after(document: dict[str, Any], narrative_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The world as the story `narrative_id` left it, and what a sequel is told of that story.

    Each character that story left somewhere is put back where it left them (its newest version's state, so a
    regenerated prequel counts as rewritten), even if a later story of another branch moved them; a status the
    story stated is restored too, except that the dead stay dead. `prequel` holds the story's own timeline (its
    events, oldest first) and its cast as it ended, living ones first."""
    characters = [dict(c) for c in document.get("characters") or []]
    states = {index: [s for s in c.get("story_states") or [] if s.get("narrative_id") == narrative_id]
              for index, c in enumerate(characters)}
    history = [e for e in document.get("history") or [] if e.get("narrative_id") == narrative_id]
    numbers = [int(s["narrative_version"]) for found in states.values() for s in found]
    numbers += [int(e["narrative_version"]) for e in history if e.get("narrative_version")]
    latest = max(numbers, default=None)
    cast = []
    for index, found in states.items():
        state = next((s for s in reversed(found) if s.get("narrative_version") == latest), None)
        if state is None:
            continue
        character = characters[index]
        if state.get("location"):
            character["location"] = state["location"]
        if state.get("status") and character.get("status", "alive") != "dead":
            character["status"] = state["status"]
        cast.append(character)
    cast.sort(key=lambda c: c.get("status", "alive") != "alive")
    events = [e for e in history if latest is None or e.get("narrative_version") in (None, latest)]
    prequel = {
        "narrative_id": narrative_id, "narrative_version": latest,
        "events": [{"name": e.get("name"), "description": truncate_words(str(e.get("description") or ""),
                                                                       DESCRIPTION_WORDS)}
                   for e in events[-PREQUEL_EVENTS:]],
        "cast": [{"id": c.get("id"), "name": c.get("name"), "status": c.get("status", "alive"),
                  "location": c.get("location")} for c in cast],
    }
    return {**document, "characters": characters}, prequel


def for_world_stage(ctx: StageContext) -> WorldView | None:
    """Stage 2: the version pinned when the job started."""
    return load(ctx, ctx.world_version)


def for_later_stage(ctx: StageContext) -> WorldView | None:
    """Stage 3 and later: the version stage 2 recorded (so never a newer one)."""
    return load(ctx, ctx.output_of(Stage.WORLD_ARCHITECTURE).get("world_version"))


def plan_words(ctx: StageContext) -> str:
    """The plan's words that select entries: stage 1's premise, logline, conflict and themes."""
    meaning = ctx.output_of(Stage.BRIEF_INTERPRETATION)
    parts = [meaning.get("premise"), meaning.get("logline"), meaning.get("central_conflict"),
             *(meaning.get("themes") or [])]
    return " ".join(str(p) for p in parts if p)


def brief_words(brief: ProductionBrief) -> str:
    return " ".join(p for p in (brief.subject, brief.style_instructions, brief.setting_period, brief.title or "") if p)


def _lookup(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Index of each entry by id and by name, case-folded (a reference may use either)."""
    found: dict[str, int] = {}
    for index, entry in enumerate(entries):
        found.setdefault(str(entry.get("name", "")).casefold(), index)
        if entry.get("id"):
            found.setdefault(str(entry["id"]).casefold(), index)
    return found


def resolve(entries: list[dict[str, Any]], reference: str | None) -> dict[str, Any] | None:
    if not reference:
        return None
    index = _lookup(entries).get(reference.casefold())
    return entries[index] if index is not None else None


def named_in(name: str, text: str, *, person: bool) -> bool:
    """Whether `text` names the entry: its whole name (any case), or for a person their first name as a
    capitalised word ("Mira" for "Mira Vell")."""
    if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE):
        return True
    first = name.split()[0] if person and len(name.split()) > 1 else ""
    return len(first) >= MIN_FIRST_NAME and re.search(rf"(?<!\w){re.escape(first)}(?!\w)", text) is not None


def _content_words(text: str) -> set[str]:
    return {w.casefold() for w in words(text) if w.casefold() not in STOPWORDS and len(w) > 2}


def select(document: dict[str, Any], brief: ProductionBrief, plan: str = "", budget: int = ENTRY_BUDGET,
           following: list[str] | None = None) -> tuple[dict[str, list[dict[str, Any]]], frozenset[str]]:
    """(the entries per section, in priority order; the ids asked for by name). At most `budget` entries.
    `following`: the ids of a prequel's cast, taken right after the featured characters."""
    sections = {section: list(document.get(section) or []) for section in SECTIONS}
    order: list[tuple[str, int]] = []
    taken: set[tuple[str, int]] = set()
    wanted: set[str] = set()

    def take(section: str, index: int | None, *, asked: bool = False) -> None:
        if index is None or (section, index) in taken or len(order) >= budget:
            return
        taken.add((section, index))
        order.append((section, index))
        if asked:
            wanted.add(str(sections[section][index].get("id")))

    characters, places = sections["characters"], sections["places"]
    by_character, by_place = _lookup(characters), _lookup(places)
    for reference in [*brief.featured_characters, *(following or [])]:
        take("characters", by_character.get(reference.casefold()), asked=True)
    for index, rule in enumerate(sections["rules"]):
        if rule.get("locked"):
            take("rules", index)
    text = f"{brief_words(brief)} {plan}"
    for section in ("characters", "places", *[s for s in SECTIONS if s not in ("characters", "places")]):
        for index, entry in enumerate(sections[section]):
            if (section, index) not in taken and named_in(str(entry.get("name", "")), text,
                                                          person=section == "characters"):
                take(section, index, asked=True)
    for section, index in list(order):
        if section != "characters":
            continue
        character = characters[index]
        take("places", by_place.get(str(character.get("location") or "").casefold()))
        for relation in character.get("relationships") or []:
            take("characters", by_character.get(str(relation.get("to", "")).casefold()))
    if len(order) < budget:
        about = _content_words(text)
        rest = [(section, index) for section in SECTIONS for index in range(len(sections[section]))
                if (section, index) not in taken]

        def rank(key: tuple[str, int]) -> tuple[int, int]:
            """More of the brief's words first; among equals the newest (entries are appended)."""
            entry = sections[key[0]][key[1]]
            overlap = len(about & _content_words(f"{entry.get('name', '')} {entry.get('description', '')}"))
            return -overlap, -key[1]

        for section, index in sorted(rest, key=rank)[: budget - len(order)]:
            take(section, index)
    chosen: dict[str, list[dict[str, Any]]] = {section: [] for section in SECTIONS}
    for section, index in order:
        chosen[section].append(sections[section][index])
    return chosen, frozenset(wanted)


def card(section: str, entry: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """An entry as a prompt carries it: short, references resolved to names, `locked` only when true."""
    out: dict[str, Any] = {"id": entry.get("id"), "name": entry.get("name")}
    if entry.get("description"):
        out["description"] = truncate_words(str(entry["description"]), DESCRIPTION_WORDS)
    for key in ("kind", "domain", "when"):
        if entry.get(key):
            out[key] = entry[key]
    if section == "characters":
        everyone = list(document.get("characters") or [])
        out["status"] = entry.get("status", "alive")
        place = resolve(list(document.get("places") or []), entry.get("location"))
        if place or entry.get("location"):
            out["location"] = (place or {}).get("name") or entry["location"]
        relations = []
        for relation in (entry.get("relationships") or [])[:RELATIONS_CARRIED]:
            other = resolve(everyone, relation.get("to"))
            relations.append({"to": (other or {}).get("name") or relation.get("to"), "kind": relation.get("kind")})
        if relations:
            out["relationships"] = relations
        knows = [truncate_words(str(fact), KNOW_WORDS) for fact in (entry.get("knows") or [])[:KNOWS_CARRIED]]
        if knows:
            out["knows"] = knows
    if entry.get("locked"):
        out["locked"] = True
    return out


def rule_text(rule: dict[str, Any]) -> str:
    """A world rule as stage 2 lists rules: its description as written, else its name."""
    return str(rule.get("description") or rule.get("name"))
