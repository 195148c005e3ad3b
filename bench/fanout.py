"""Fan-out of segment drafting: wall time of a 20-segment job (~20,000 words, parallel mode) through the
real ASL (moto's interpreter) and stage runner, with a provider that takes a fixed 200 ms a call, at
SegmentMapConcurrency 1 and 8.

    .venv/bin/python bench/fanout.py [--latency 0.2] [--words 20000]

Prints one JSON line per concurrency, then one with the speed-up. `in_flight_seconds` is the wall time
during which at least one call was waiting; `critical_path_seconds` is the modelled latency alone with
zero orchestration overhead (what a perfect orchestrator would take)."""

from __future__ import annotations

import argparse
import json

from common import local_aws, pro_writer, run_job
from timeline import Timeline, install_slow_provider

BRIEF = {"production_type": "short_story", "genre": "fantasy",
         "subject": "A cartographer discovers that her maps change the land they describe",
         "style_instructions": "Lyrical but clear", "character_count": 4}


def measure(concurrency: int, latency: float, words: int) -> dict[str, object]:
    timeline = Timeline()
    with local_aws({"SegmentMapConcurrency": concurrency, "LlmRetryIntervalSeconds": 1}):
        install_slow_provider(timeline, latency)
        current, project_id = pro_writer()
        result = run_job(current, project_id, {**BRIEF, "target_length": words})
    job = result["job"]
    return {
        "map_concurrency": concurrency,
        "status": job.status,
        "error": job.error_message,
        "words": result["words"],
        "wall_seconds": result["wall_seconds"],
        "llm_calls": len(timeline.spans),
        "segments": 1 + max(s.segment for s in timeline.spans if s.segment is not None),
        "in_flight_seconds": round(timeline.in_flight_seconds(), 2),
        "critical_path_seconds": round(sum(timeline.critical_path(concurrency).values()), 2),
        "llm_calls_per_stage": result["calls_per_stage"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per call")
    parser.add_argument("--words", type=int, default=20000)
    args = parser.parse_args()
    results = []
    for concurrency in (1, 8):
        results.append(measure(concurrency, args.latency, args.words))
        print(json.dumps(results[-1]), flush=True)
    print(json.dumps({
        "speed_up": round(results[0]["wall_seconds"] / results[1]["wall_seconds"], 2),
        "modelled_speed_up": round(results[0]["critical_path_seconds"] / results[1]["critical_path_seconds"], 2),
    }))


if __name__ == "__main__":
    main()
