"""The deterministic reading of what a finished story established (the `world_update` schema), built from the
facts its prompt carries (pipeline/prompts/world_update.py): the story's own plan. The offline engine answers
with it, and a model's reply that stays unusable falls back to it field by field, so a series grows its world
without a key.

It reads only what the plan says for certain: every cast member and planned place exists; whoever is on stage at
the end is where the last scene is, and the one the last scene names knows what it revealed; each act is an
event. It never decides that someone died: a plan does not say so in a form a rule can read (a model reading the
closing text can)."""

from __future__ import annotations

import random
from typing import Any

MAX_DESCRIPTION = 400
MAX_EVENTS = 12


def _cut(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _first(name: str) -> str:
    parts = name.split()
    return parts[0].casefold() if parts else ""


def world_update(facts: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same facts give the same reading (`rng`, every builder's second argument, is not needed)."""
    final = facts.get("final_state") or {}
    present = {str(name).casefold() for name in final.get("present") or []}
    places_named = {str(p.get("name", "")).casefold() for p in facts.get("places") or []}
    location = final.get("location") if str(final.get("location") or "").casefold() in places_named else None
    knowledge = _cut(final.get("knowledge") or "", 500)
    knowers = [name for name in final.get("present") or [] if _first(str(name)) and _first(str(name)) in
               knowledge.casefold()] or list(final.get("present") or [])[:1]
    characters = []
    for member in facts.get("cast") or []:
        name = str(member["name"])
        on_stage = name.casefold() in present
        description = ". ".join(part for part in (str(member.get("role") or "").capitalize(),
                                                  str(member.get("description") or "")) if part)
        characters.append({
            "name": name,
            "description": _cut(description),
            "status": None,  # unchanged: a plan does not say who died
            "location": location if on_stage else None,
            "learned": [knowledge] if knowledge and name in knowers else [],
        })
    places = [{"name": str(place["name"]), "description": _cut(place.get("description") or "")}
              for place in facts.get("places") or []]
    events = []
    for act in (facts.get("acts") or [])[:MAX_EVENTS]:
        summary = _cut(" ".join(part for part in (act.get("summary"), act.get("turning_point")) if part))
        events.append({"name": _cut(str(act.get("title") or f"Act {act.get('number')}"), 120),
                       "description": summary, "when": f"act {act.get('number')}"})
    if not events:
        events.append({"name": _cut(str(facts.get("story_title") or "The story"), 120),
                       "description": _cut(facts.get("ending") or ""), "when": None})
    return {"characters": characters, "places": places, "events": events}
