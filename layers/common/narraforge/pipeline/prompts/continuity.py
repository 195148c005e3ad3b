"""Stage 7's continuity prompts: ask the judge which locked rules of the world a window of segments breaks; and
the issue line a revision is given for each continuity finding."""

from __future__ import annotations

from typing import Any

from narraforge.llm.base import Message
from narraforge.pipeline.prompts.common import brief_facts, json_reply_rule, system, user
from narraforge.schemas.briefs import ProductionBrief

SCHEMA_NAME = "continuity_check"


def locked_rules_messages(brief: ProductionBrief, *, rules: list[str], segments: list[dict[str, Any]]) -> list[Message]:
    """Bounded like the judge's prompt: the locked rules, and each segment as the judge sees it (its plan, its
    real opening and closing lines), never the whole text."""
    first, last = segments[0]["index"] + 1, segments[-1]["index"] + 1
    task = f"""These rules of the story's world are locked: the story must never break them.
Read segments {first}–{last} (for each: its plan and its real opening and closing lines) and list every place
where the text breaks one of these rules. For each: the segment's index as given, the rule exactly as listed,
and the evidence: the words of the segment that break it, quoted exactly as they stand in the opening or
closing lines (do not translate or paraphrase). A character merely mentioning or fearing a rule does not break
it. List nothing when no rule is broken; never guess.
{json_reply_rule(SCHEMA_NAME)}"""
    facts = {**brief_facts(brief), "locked_rules": rules, "segments": segments}
    return [system(brief, "a continuity editor who checks a story against its world's rules"), user(task, facts)]


def issue_text(finding: dict[str, Any]) -> str:
    """The line a revision prompt carries for a dead character acting or a broken locked rule: the world's fact
    and the offending words (a renamed place is put right by a rule, never sent to the model)."""
    evidence = finding["evidence"]
    if finding["kind"] == "dead_character_acts":
        name = finding["fact"].removesuffix(" is dead")
        return (f"Continuity: {name} is dead in this story's world, yet acts or speaks here (“{evidence}”). "
                f"{name} may be remembered, mourned or spoken of, never act or speak: rewrite those moments")
    rule = finding["fact"].removeprefix("locked rule: ")
    return f"Continuity: the text breaks a locked rule of the world, “{rule}” (“{evidence}”): keep the rule"
