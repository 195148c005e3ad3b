"""A 200,000-word epic saga through the real state machine (moto's interpreter) and stage runner on the offline
engine, against Step Functions' hard limits: 25,000 events in one execution's history and 256 KB for any state's
input or output.

    .venv/bin/python bench/saga.py [--words 200000] [--concurrency 40]

Prints one JSON line: the job's status and words, the execution's history events (all of them, paged), the
events per state type, and the largest payload any event carries (state input and output, task parameters and
results), each against half its limit (the goal). A Distributed Map (works beyond DISTRIBUTED_MAP_SEGMENTS
segments, pipeline/layout.py) runs each item as a child execution with a history of its own: their events are not
in the parent's (`distributed_map_runs` counts the Maps that ran that way). moto keeps no child histories; a child
holds one item: 7 events, 3 more per retry attempt."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any

from common import local_aws, pro_writer, run_job

from narraforge_dev.local.history import execution_history

BRIEF = {"production_type": "epic_saga", "genre": "fantasy",
         "subject": "Three rival houses inherit a dying empire's last working lighthouse network",
         "style_instructions": "Sweeping but exact", "character_count": 8}
HISTORY_LIMIT = 25_000
PAYLOAD_LIMIT = 256 * 1024
PAYLOAD_FIELDS = ("input", "output", "parameters", "result")


def largest_payload(events: list[dict[str, Any]]) -> tuple[int, str]:
    """Bytes of the largest input/output/parameters/result string any event carries, and its event type."""
    best = (0, "")
    for event in events:
        for key, details in event.items():
            if not key.endswith("EventDetails") or not isinstance(details, dict):
                continue
            for name in PAYLOAD_FIELDS:
                value = details.get(name)
                if isinstance(value, str) and len(value.encode()) > best[0]:
                    best = (len(value.encode()), event["type"])
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--words", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=40)
    args = parser.parse_args()
    with local_aws({"SegmentMapConcurrency": args.concurrency, "LlmRetryIntervalSeconds": 1}):
        current, project_id = pro_writer()
        result = run_job(current, project_id, {**BRIEF, "target_length": args.words}, timeout=3600)
        job = result["job"]
        events = execution_history(job.execution_arn)
    size, carrier = largest_payload(events)
    kinds = Counter(e["type"] for e in events)
    print(json.dumps({
        "target_words": args.words,
        "status": job.status,
        "error": job.error_message,
        "words": result["words"],
        "segments": int(job.segments_total or 0),
        "wall_seconds": result["wall_seconds"],
        "history_events": len(events),
        "history_events_over_half_limit": round(len(events) / (HISTORY_LIMIT / 2), 3),
        "largest_payload_bytes": size,
        "largest_payload_event": carrier,
        "largest_payload_over_half_limit": round(size / (PAYLOAD_LIMIT / 2), 3),
        "distributed_map_runs": kinds.get("MapRunStarted", 0),
        "events_by_type": dict(kinds.most_common()),
        "llm_calls_per_stage": result["calls_per_stage"],
    }), flush=True)


if __name__ == "__main__":
    main()
