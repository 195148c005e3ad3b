"""What the state machine's Maps iterate: judging windows, Map items per stage, when the Maps run distributed,
and the time estimate that follows the same graph."""

from __future__ import annotations

import pytest
from narraforge.enums import Stage
from narraforge.pipeline import estimate
from narraforge.pipeline.layout import (
    DISTRIBUTED_MAP_SEGMENTS,
    JUDGE_WINDOW,
    map_items,
    window_count,
    window_segments,
)
from narraforge.pipeline.runner import map_run
from narraforge.schemas.briefs import ProductionBrief


@pytest.mark.parametrize("segments", [1, 3, 4, 5, 8, 9, 80, 200])
def test_windows_cover_every_segment_once_in_order(segments):
    windows = [window_segments(w, segments) for w in range(window_count(segments))]
    assert [i for window in windows for i in window] == list(range(segments))
    assert all(1 <= len(window) <= JUDGE_WINDOW for window in windows)
    assert map_items(Stage.COHERENCE_VALIDATION, segments) == len(windows)
    assert map_items(Stage.SEGMENT_GENERATION, segments) == map_items(Stage.LANGUAGE_STYLIZATION, segments) == segments


def test_maps_run_distributed_only_beyond_the_threshold():
    def plan(count, mode="parallel"):
        return {"mode": mode, "segments": [{"index": i} for i in range(count)]}

    at = map_run(plan(DISTRIBUTED_MAP_SEGMENTS), 8)
    beyond = map_run(plan(DISTRIBUTED_MAP_SEGMENTS + 1), 8)
    assert at["distributed"] is False and beyond["distributed"] is True
    assert beyond["segments"] == list(range(DISTRIBUTED_MAP_SEGMENTS + 1))
    assert beyond["windows"] == list(range(window_count(DISTRIBUTED_MAP_SEGMENTS + 1)))
    assert beyond["map_concurrency"] == 8 and map_run(plan(3, "sequential"), 8)["map_concurrency"] == 1
    assert map_run(None, 8) == {"segments": [], "windows": [], "map_concurrency": 1, "distributed": False}


def test_the_time_estimate_counts_judging_beside_the_seams(monkeypatch):
    # Calls with no completion take CALL_OVERHEAD_SECONDS each, so the estimate counts rounds of calls.
    calls = {Stage.BRIEF_INTERPRETATION: 1, Stage.WORLD_ARCHITECTURE: 1, Stage.CHARACTER_ARCHITECTURE: 1,
             Stage.STRUCTURE_DESIGN: 1, Stage.SEGMENT_PLANNING: 4, Stage.SEGMENT_GENERATION: 20,
             Stage.COHERENCE_VALIDATION: 5, Stage.LANGUAGE_STYLIZATION: 19, Stage.EDITORIAL_REVIEW: 1}
    monkeypatch.setattr(estimate, "expected_calls",
                        lambda brief: [(stage.value, "x", n, 0, 0) for stage, n in calls.items()])
    brief = ProductionBrief(production_type="short_story", genre="fantasy", target_length=20000,
                            subject="A cartographer whose maps change the land")
    unit = estimate.CALL_OVERHEAD_SECONDS
    # 4 planning calls; 3 acts of 6/8/6 segments planned side by side, the longest in 2 chunks; 20 drafts on 8
    # workers (3 rounds); 5 windows (1 round) beside 19 seams (3 rounds): 3; editorial 1.
    assert estimate.estimate_job_seconds(brief, offline=False, map_concurrency=8) == pytest.approx(
        (4 + 2 + 3 + 3 + 1) * unit)
    # Map concurrency 1: every draft, window and seam one at a time, the two Maps still side by side.
    assert estimate.estimate_job_seconds(brief, offline=False, map_concurrency=1) == pytest.approx(
        (4 + 2 + 20 + 19 + 1) * unit)
