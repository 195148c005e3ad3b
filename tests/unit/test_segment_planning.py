"""Segment planning: long works plan their acts concurrently, short ones in one chain."""

from __future__ import annotations

from itertools import pairwise

from narraforge.enums import Stage
from narraforge.schemas.briefs import ProductionBrief

from narraforge_dev.pipeline_double import run_pipeline


def plan_of(words: int) -> dict:
    brief = ProductionBrief(production_type="short_story", genre="adventure", target_length=words,
                            character_count=3, subject="Three cousins sail a stolen boat to a vanished island")
    ctx, _ = run_pipeline(brief, job_id="plan-test")
    return ctx.output_of(Stage.SEGMENT_PLANNING)


def chain_breaks(segments: list[dict]) -> set[int]:
    return {s["index"] for prev, s in pairwise(segments) if s["entry_state"] != prev["exit_state"]}


def test_long_works_plan_each_act_from_its_own_opening_and_chain_within_it():
    plan = plan_of(18000)
    segments = plan["segments"]
    assert plan["mode"] == "parallel"
    assert [s["index"] for s in segments] == list(range(len(segments)))
    assert sum(s["target_words"] for s in segments) == 18000
    act_starts = {s["index"] for prev, s in pairwise(segments) if s["act"] != prev["act"]}
    assert len(act_starts) >= 2
    # Acts planned side by side start from the state after the previous act's turning point; inside an
    # act every segment starts where the previous one ended.
    assert chain_breaks(segments) == act_starts
    for start in act_starts:
        assert segments[start]["entry_state"]["open_threads"][-1]  # the previous act's turning point


def test_short_works_plan_one_unbroken_chain():
    plan = plan_of(3000)
    assert plan["mode"] == "sequential"
    assert chain_breaks(plan["segments"]) == set()
