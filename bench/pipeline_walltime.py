"""Wall time of whole jobs on the offline engine through the real ASL (moto's interpreter) and the
real stage runner, and the provider call count per stage.

    make bench-pipeline          (or: .venv/bin/python bench/pipeline_walltime.py [--runs 3])

Prints one JSON line per target length with the median wall time over the runs."""

from __future__ import annotations

import argparse
import json
import statistics

from common import local_aws, pro_writer, run_job

BRIEF = {"production_type": "short_story", "genre": "fantasy",
         "subject": "A cartographer discovers that her maps change the land they describe",
         "style_instructions": "Lyrical but clear", "character_count": 4}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8, help="SegmentMapConcurrency")
    args = parser.parse_args()
    with local_aws({"SegmentMapConcurrency": args.concurrency, "LlmRetryIntervalSeconds": 1}):
        current, project_id = pro_writer()
        for target in (1500, 20000):
            results = [run_job(current, project_id, {**BRIEF, "target_length": target}) for _ in range(args.runs)]
            last = results[-1]
            print(json.dumps({
                "target_words": target,
                "status": last["job"].status,
                "runs": args.runs,
                "median_wall_seconds": statistics.median(r["wall_seconds"] for r in results),
                "wall_seconds": [r["wall_seconds"] for r in results],
                "llm_calls_per_stage": last["calls_per_stage"],
                "llm_calls_total": sum(last["calls_per_stage"].values()),
                "tokens_used": int(last["job"].tokens_used),
            }), flush=True)


if __name__ == "__main__":
    main()
