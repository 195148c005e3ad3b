"""Time to a novel: an 80,000-word novel through the whole pipeline (real ASL on moto's interpreter, real
stage runner) with a provider whose latency is modelled as 0.5 s + completion_tokens / 50 per second.

    .venv/bin/python bench/time_to_novel.py [--words 80000] [--concurrency 40] [--scale 1] [--runs 3]

One JSON line per run, then one with the medians. At the default `--scale 1` every modelled wait is slept in
full, so `wall_seconds` is what the job took (minutes). A larger scale divides the sleeps to save time, but
moto, the stage code and the offline engine still run at their real speed, so `scaled_wall_seconds` (wall ×
scale) multiplies their overhead too: it overstates.

`critical_path_seconds` is the call graph's limit: the modelled latency alone along the state machine's graph
with zero overhead (bench/timeline.py `critical_path`), so `measured_over_critical_path` is the gap to it."""

from __future__ import annotations

import argparse
import json
import statistics

from common import local_aws, pro_writer, run_job
from narraforge.pipeline.estimate import CALL_OVERHEAD_SECONDS, MODEL_TOKENS_PER_SECOND
from timeline import Timeline, install_slow_provider

BRIEF = {"production_type": "novel", "genre": "mystery",
         "subject": "A lighthouse keeper's logbooks predict the wrecks of ships not yet built",
         "style_instructions": "Measured, atmospheric, precise", "character_count": 6}


def measure(words: int, concurrency: int, scale: float) -> dict[str, object]:
    timeline = Timeline()
    with local_aws({"SegmentMapConcurrency": concurrency, "LlmRetryIntervalSeconds": 1}):
        install_slow_provider(timeline, CALL_OVERHEAD_SECONDS, tokens_per_second=MODEL_TOKENS_PER_SECOND,
                              scale=1 / scale)
        current, project_id = pro_writer()
        result = run_job(current, project_id, {**BRIEF, "target_length": words}, timeout=3600)
    job = result["job"]
    wall = result["wall_seconds"]
    in_flight = timeline.in_flight_seconds()
    path = timeline.critical_path(concurrency)
    critical = sum(path.values())
    return {
        "target_words": words,
        "status": job.status,
        "error": job.error_message,
        "words": result["words"],
        "map_concurrency": concurrency,
        "scale": scale,
        "llm_calls": len(timeline.spans),
        "wall_seconds": wall,
        "scaled_wall_seconds": round(wall * scale, 1),
        "scaled_wall_minutes": round(wall * scale / 60, 2),
        "critical_path_seconds": round(critical, 1),
        "measured_over_critical_path": round(wall * scale / critical, 3),
        "in_flight_seconds": round(in_flight, 2),
        "overhead_seconds": round(wall - in_flight, 2),
        "serial_seconds": round(timeline.serial_seconds(), 1),
        "critical_path_by_phase_seconds": path,
        "parallel_state_branches_seconds": timeline.branches(concurrency),
        "llm_calls_per_stage": result["calls_per_stage"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--words", type=int, default=80000)
    parser.add_argument("--concurrency", type=int, default=40, help="SegmentMapConcurrency (template max 40)")
    parser.add_argument("--scale", type=float, default=1, help="sleeps are divided by this")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    runs = []
    for _ in range(args.runs):
        runs.append(measure(args.words, args.concurrency, args.scale))
        print(json.dumps(runs[-1]), flush=True)
    if args.runs > 1:
        print(json.dumps({
            "runs": args.runs,
            "median_scaled_wall_minutes": statistics.median(r["scaled_wall_minutes"] for r in runs),
            "median_critical_path_seconds": statistics.median(r["critical_path_seconds"] for r in runs),
            "median_measured_over_critical_path": statistics.median(r["measured_over_critical_path"] for r in runs),
        }), flush=True)


if __name__ == "__main__":
    main()
