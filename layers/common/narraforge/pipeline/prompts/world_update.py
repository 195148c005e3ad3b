"""The world update's prompt: what did this finished story establish? The facts are the story's own plan (cast,
places, acts, where everyone is at the end) and its closing text, each cut to a bound: the prompt stays small
however long the work, and does not grow with the world (the merge, not the model, compares with the world; the
cast already carries the world's names, stage 3 having reused them)."""

from __future__ import annotations

from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.prompts.common import brief_facts, json_reply_rule, system, user
from narraforge.pipeline.text import truncate_words
from narraforge.schemas.briefs import ProductionBrief

SCHEMA_NAME = "world_update"
CLOSING_WORDS = 900  # of the final text: where deaths, departures and revelations land
MAX_ACTS = 12
MAX_SEGMENTS = 40


def messages(brief: ProductionBrief, story: dict[str, Any]) -> list[Message]:
    task = f"""This {brief.production_type.value.replace("_", " ")} is finished and published. Record what it \
established about its world, for the stories that follow it in the same series.

Give:
- characters: every cast member (names exactly as in `cast`), each with a one-sentence description, their \
status at the END of the story (alive, dead, missing or unknown: dead only if the story shows it), their \
location at the end (one of the place names, or null if unclear) and `learned`: up to three facts they came to \
know in this story (empty if none);
- places: every place the story used (names as in `places`), each with a one-sentence description;
- events: one to {MAX_ACTS} events that happened, in story order, each with a short name, one sentence, and \
`when` (a moment in the story's own time, or null).
Do not invent characters or places the story does not have. Keep names, places and facts in the language of \
the story.
{json_reply_rule(SCHEMA_NAME)}"""
    return [system(brief, "a continuity editor"), user(task, facts(brief, story))]


def facts(brief: ProductionBrief, story: dict[str, Any]) -> dict[str, Any]:
    """The CONTEXT block; also what the deterministic reading (llm/offline/world_facts.py) builds from."""
    segments = story["segments"]
    step = max(1, -(-len(segments) // MAX_SEGMENTS))  # a long work's plan, sampled evenly
    final = segments[-1].get("exit_state", {}) if segments else {}
    return {
        **brief_facts(brief),
        "story_title": story["title"],
        "cast": [{"name": c["name"], "role": c.get("role", ""),
                  "description": truncate_words(str(c.get("description", "")), 30)} for c in story["cast"]],
        "places": [{"name": p["name"], "description": truncate_words(str(p.get("description", "")), 30)}
                   for p in story["places"]],
        "acts": [{"number": a.get("number", i + 1), "title": a.get("title", ""),
                  "summary": truncate_words(str(a.get("summary", "")), 60),
                  "turning_point": truncate_words(str(a.get("turning_point", "")), 30)}
                 for i, a in enumerate(story["acts"][:MAX_ACTS])],
        "ending": truncate_words(str(story.get("ending", "")), 60),
        "segments": [{"title": s.get("title", ""), "place": s.get("place", ""),
                      "summary": truncate_words(str(s.get("summary", "")), 30)} for s in segments[::step]],
        "final_state": {"location": final.get("location"), "present": final.get("present", []),
                        "knowledge": truncate_words(str(final.get("knowledge", "")), 40)},
        "closing_text": _closing(story["closing_text"]),
    }


def _closing(text: str) -> str:
    parts = text.split()
    return text if len(parts) <= CLOSING_WORDS else "… " + " ".join(parts[-CLOSING_WORDS:])
