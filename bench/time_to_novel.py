"""Time to a novel: an 80,000-word novel through the whole pipeline (real ASL on moto's interpreter, real
stage runner) with a provider whose latency is modelled as 0.5 s + completion_tokens / 50 per second,
every sleep scaled by 1/20 so the run takes minutes.

    .venv/bin/python bench/time_to_novel.py [--words 80000] [--concurrency 40] [--scale 20]

Prints one JSON line. `scaled_wall_seconds` = measured wall × scale is the headline figure, but only
the sleeps are scaled: moto, the stage code and the offline engine run at their real speed, so their
overhead is multiplied too. Hence also `modelled_critical_path_seconds` (the latency model alone on the
critical path, zero overhead, at real scale) and `overhead_seconds` (wall time with no call in flight,
unscaled), so the figure can be read both ways."""

from __future__ import annotations

import argparse
import json

from common import local_aws, pro_writer, run_job
from timeline import Timeline, install_slow_provider

BRIEF = {"production_type": "novel", "genre": "mystery",
         "subject": "A lighthouse keeper's logbooks predict the wrecks of ships not yet built",
         "style_instructions": "Measured, atmospheric, precise", "character_count": 6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--words", type=int, default=80000)
    parser.add_argument("--concurrency", type=int, default=40, help="SegmentMapConcurrency (template max 40)")
    parser.add_argument("--scale", type=float, default=20, help="sleeps are divided by this")
    args = parser.parse_args()
    timeline = Timeline()
    with local_aws({"SegmentMapConcurrency": args.concurrency, "LlmRetryIntervalSeconds": 1}):
        install_slow_provider(timeline, 0.5, tokens_per_second=50, scale=1 / args.scale)
        current, project_id = pro_writer()
        result = run_job(current, project_id, {**BRIEF, "target_length": args.words}, timeout=3600)
    job = result["job"]
    wall = result["wall_seconds"]
    in_flight = timeline.in_flight_seconds()
    path = timeline.critical_path(args.concurrency)
    print(json.dumps({
        "target_words": args.words,
        "status": job.status,
        "error": job.error_message,
        "words": result["words"],
        "map_concurrency": args.concurrency,
        "scale": args.scale,
        "llm_calls": len(timeline.spans),
        "wall_seconds": wall,
        "scaled_wall_seconds": round(wall * args.scale, 1),
        "scaled_wall_minutes": round(wall * args.scale / 60, 2),
        "in_flight_seconds": round(in_flight, 2),
        "overhead_seconds": round(wall - in_flight, 2),
        "modelled_critical_path_seconds": round(sum(path.values()), 1),
        "modelled_critical_path_minutes": round(sum(path.values()) / 60, 2),
        "modelled_latency_all_calls_seconds": round(sum(s.modelled for s in timeline.spans), 1),
        "critical_path_by_kind_seconds": path,
        "llm_calls_per_stage": result["calls_per_stage"],
    }), flush=True)


if __name__ == "__main__":
    main()
