"""Stage 7 prompts: judge a window of segments against a written rubric; revise a flagged segment."""

from __future__ import annotations

from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.prompts.common import brief_facts, json_reply_rule, language_rule, system, user
from narraforge.pipeline.prompts.segment_generation import WRITER
from narraforge.schemas.briefs import ProductionBrief

SCHEMA_NAME = "coherence_review"

RUBRIC = """Score each criterion from 0.0 to 1.0 and give a one-sentence reason:
- coherence_score: events follow from one another; seams between segments agree (place, time, who is present).
  1.0 = seamless; 0.5 = noticeable jumps; 0.0 = contradictory.
- logic_score: cause and effect and the world's rules hold. 1.0 = airtight; 0.5 = a few leaps; 0.0 = arbitrary.
- character_consistency_score: people act from their wants, fears and voice; planned characters appear.
  1.0 = true throughout; 0.5 = some out-of-character moments or missing people; 0.0 = interchangeable.
- pacing_score: each segment covers its beats at its planned length. 1.0 = well judged; 0.5 = rushed or
  padded in places; 0.0 = beats skipped.
- dialogue_quality_score: dialogue is distinct per speaker and carries conflict. 1.0 = sharp; 0.5 = serviceable;
  0.0 = absent or wooden.
- overall_score: the holistic quality of the window (not a mechanical average).
Then list flagged segments (index as given, the issue, severity 0–1) that need revision; flag only real problems."""


def judge_messages(brief: ProductionBrief, *, segments: list[dict[str, Any]], premise: str) -> list[Message]:
    first, last = segments[0]["index"] + 1, segments[-1]["index"] + 1
    task = f"""Review segments {first}–{last} of this work as a strict editor. For each segment the context
gives its plan, its real opening and closing lines, and measured facts (word count against target,
which planned characters appear, dialogue lines).

{RUBRIC}
{language_rule(brief)}
{json_reply_rule(SCHEMA_NAME)}"""
    facts = {**brief_facts(brief), "premise": premise, "segments": segments}
    return [system(brief, "a strict story editor"), user(task, facts)]


def revise_messages(
    brief: ProductionBrief,
    *,
    segment: dict[str, Any],
    segment_count: int,
    bible: dict[str, Any],
    text: str,
    issues: list[str],
    missing_characters: list[str],
    continuity: list[str] | None = None,
) -> list[Message]:
    """`continuity`: the segment's contradictions of the project's world (prompts/continuity.py `issue_text`),
    listed with the editor's issues."""
    must = f" Make sure these characters appear: {', '.join(missing_characters)}." if missing_characters else ""
    listed = [*issues, *(continuity or [])]
    task = f"""An editor flagged segment {segment["index"] + 1} of {segment_count} ("{segment["title"]}"):
{"; ".join(listed)}.{must}
Rewrite the whole segment to fix this, keeping its beats, its entry and exit state and about
{segment["target_words"]} words. Keep what works; write only the revised text, no notes.
{language_rule(brief)}"""
    facts = {
        "task": "revise",
        **brief_facts(brief),
        "target_words": segment["target_words"],
        "segment_index": segment["index"],
        "segment_count": segment_count,
        "segment": segment,
        "issues": listed,
        "continuity": continuity or [],
        "missing_characters": missing_characters,
        "bible": bible,
        "text": text,
    }
    return [system(brief, WRITER), user(task, facts)]
