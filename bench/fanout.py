"""Fan-out: how close a 20-segment job (~20,000 words, parallel drafting) at Map concurrency 8 comes to the ideal
speed-up of its call graph, through the real ASL (moto's interpreter) and stage runner, with a provider whose
latency is modelled as in bench/time_to_novel.py and pipeline/estimate.py (0.5 s + completion tokens / 50 per
second), or a fixed time a call with `--latency`.

    .venv/bin/python bench/fanout.py [--latency SECONDS] [--words 20000] [--runs 3] [--baseline]

Per run: `serial_seconds` is every call's latency one after another (the job on one worker, no overhead);
`critical_path_seconds` the same calls along the state machine's graph at the run's concurrency, still with no
overhead (bench/timeline.py). So `ideal_speed_up` = serial ÷ critical path is the most the graph allows,
`measured_speed_up` = serial ÷ measured wall is what the run got (against a baseline that pays no overhead at
all, so it understates), and `measured_over_ideal` = critical path ÷ wall. `--baseline` also runs the job at
Map concurrency 1 and prints wall(1) ÷ wall(8). With a short fixed latency (`--latency 0.2`) the figure
measures moto more than the graph: its own overhead (~75 ms of CPU an invocation under the GIL on 2 cores)
is a third of such a call, where a model call takes seconds (a 1,000-word draft ~27 s at 50 tokens/s)."""

from __future__ import annotations

import argparse
import json
import statistics

from common import local_aws, pro_writer, run_job
from narraforge.pipeline.estimate import CALL_OVERHEAD_SECONDS, MODEL_TOKENS_PER_SECOND
from timeline import Timeline, install_slow_provider

BRIEF = {"production_type": "short_story", "genre": "fantasy",
         "subject": "A cartographer discovers that her maps change the land they describe",
         "style_instructions": "Lyrical but clear", "character_count": 4}


def measure(concurrency: int, latency: float | None, words: int) -> dict[str, object]:
    timeline = Timeline()
    with local_aws({"SegmentMapConcurrency": concurrency, "LlmRetryIntervalSeconds": 1}):
        if latency is None:
            install_slow_provider(timeline, CALL_OVERHEAD_SECONDS, tokens_per_second=MODEL_TOKENS_PER_SECOND)
        else:
            install_slow_provider(timeline, latency)
        current, project_id = pro_writer()
        result = run_job(current, project_id, {**BRIEF, "target_length": words})
    job = result["job"]
    wall = result["wall_seconds"]
    path = timeline.critical_path(concurrency)
    critical = sum(path.values())
    serial = timeline.serial_seconds()
    return {
        "map_concurrency": concurrency,
        "latency": f"{latency} s a call" if latency is not None else
                   f"{CALL_OVERHEAD_SECONDS} s + completion tokens / {MODEL_TOKENS_PER_SECOND:g} per second",
        "status": job.status,
        "error": job.error_message,
        "words": result["words"],
        "llm_calls": len(timeline.spans),
        "segments": 1 + max(s.item for s in timeline.spans if s.kind == "draft" and s.item is not None),
        "wall_seconds": wall,
        "serial_seconds": round(serial, 2),
        "critical_path_seconds": round(critical, 2),
        "ideal_speed_up": round(serial / critical, 2),
        "measured_speed_up": round(serial / wall, 2),
        "measured_over_ideal": round(critical / wall, 3),
        "in_flight_seconds": round(timeline.in_flight_seconds(), 2),
        "critical_path_by_phase_seconds": path,
        "llm_calls_per_stage": result["calls_per_stage"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=None, help="fixed seconds per call (default: the model)")
    parser.add_argument("--words", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--baseline", action="store_true", help="also run at Map concurrency 1")
    args = parser.parse_args()
    runs = []
    for _ in range(args.runs):
        runs.append(measure(args.concurrency, args.latency, args.words))
        print(json.dumps(runs[-1]), flush=True)
    summary: dict[str, object] = {
        "runs": args.runs,
        "ideal_speed_up": statistics.median(r["ideal_speed_up"] for r in runs),
        "median_measured_speed_up": statistics.median(r["measured_speed_up"] for r in runs),
        "median_measured_over_ideal": statistics.median(r["measured_over_ideal"] for r in runs),
    }
    if args.baseline:
        one = measure(1, args.latency, args.words)
        print(json.dumps(one), flush=True)
        summary["speed_up_vs_concurrency_1"] = round(one["wall_seconds"] / statistics.median(
            r["wall_seconds"] for r in runs), 2)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
