"""A three-story series in one project (issue 14): each story a sequel of the one before, through the real
services, the real ASL under moto and the world update after each story.

    .venv/bin/python bench/series.py                  # the offline engine (seconds)
    .venv/bin/python bench/series.py --engine local   # SmolLM2 via llama.cpp (make llm-install first; ~30 min)

Printed per story, one JSON line each: the cast and places it reused by name from the world as it stood before
it; whether the character killed after story 1 acts alive in its text (the continuity check's own detector run
on the final text) or is cast; the world's entries after its world update; its largest prompt (tokens as the
engine counts them, from the job's call journal) beside the world's size; the continuity violations found and
fixed (the narrative's `continuity_violations`).

Who dies: the offline engine never decides a death (a plan does not say so in a form a rule can read), so the
writer kills a character of story 1 with a PATCH of the world after it, as a writer would in the Studio. With
the local model, a death its world update recorded is used when there is one; the line says which it was.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from common import local_aws, pro_writer, run_job

STORIES = [
    "A lighthouse keeper's apprentice finds the lamp has been lit by someone else every night",
    "The apprentice follows the stranger's boat to an island that is on no chart",
    "On the island the apprentice learns who has kept the coast safe, and at what price",
]
BRIEF = {"production_type": "short_story", "genre": "mystery", "target_length": 1200, "character_count": 3,
         "style_instructions": "Quiet, precise, salt-worn", "setting_period": "1900s northern coast"}


def world_of(current: Any, project_id: str) -> dict[str, Any]:
    from narraforge.services import worlds

    read = worlds.get(current.id, project_id)
    return read.document.model_dump(mode="json") | {"version": read.version}


def names(entries: list[dict[str, Any]]) -> set[str]:
    return {str(e["name"]).casefold() for e in entries}


def largest_prompt(job_id: str) -> int:
    from narraforge.config import get_settings
    from narraforge.data.aws import client

    bucket, s3 = get_settings().bucket_name, client("s3")
    largest = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"jobs/{job_id}/calls/"):
        for item in page.get("Contents", []):
            entry = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            largest = max(largest, int(entry["prompt_tokens"]))
    return largest


def kill_one(current: Any, project_id: str, cast: list[str]) -> tuple[str, str]:
    """(who is dead after story 1, how): a death the story's world update recorded, else the writer's edit of
    the second of story 1's cast (the first leads the sequels)."""
    from narraforge.services import worlds
    from narraforge.services.worlds import Preconditions

    world = world_of(current, project_id)
    dead = [c["name"] for c in world["characters"] if c.get("status") == "dead" and c["name"] in cast]
    if dead:
        return dead[0], "the story (its world update)"
    victim = cast[1]
    body = {"characters": [c | {"status": "dead"} if c["name"] == victim else c for c in world["characters"]]}
    worlds.patch(current.id, project_id, json.dumps(body).encode(), "application/merge-patch+json",
                 Preconditions(if_match=frozenset({int(world["version"])})))
    return victim, "the writer's PATCH of the world after story 1"


def acts_alive(text: str, dead: str, cast: list[str], places: list[str], language: str) -> list[str]:
    from narraforge.pipeline import continuity

    known = continuity.world_facts({"characters": [{"name": dead, "status": "dead"}]},
                                   [{"name": n} for n in cast if n != dead], [{"name": p} for p in places])
    return [f.evidence for f in continuity.check([text], known, language) if f.kind == continuity.DEAD_ACTS]


def series() -> list[dict[str, Any]]:
    from narraforge.data import s3
    from narraforge.data.models import NarrativeItem

    current, project_id = pro_writer()
    rows: list[dict[str, Any]] = []
    previous: str | None = None
    dead: tuple[str, str] | None = None
    for number, subject in enumerate(STORIES, start=1):
        before = world_of(current, project_id) if number > 1 else {"characters": [], "places": [], "version": 0}
        brief = {**BRIEF, "subject": subject} | ({"sequel_of": previous} if previous else {})
        result = run_job(current, project_id, brief)
        job = result["job"]
        head = NarrativeItem.get(*NarrativeItem.key(current.id, job.narrative_id))
        metadata = s3.get_json(s3.narrative_metadata_key(job.narrative_id, int(head.version)))
        text = s3.get_bytes(s3.narrative_text_key(job.narrative_id, int(head.version))).decode()
        cast = [c["name"] for c in metadata["characters"]]
        places = [p["name"] for p in metadata["world"]["places"]]
        after = world_of(current, project_id)
        row: dict[str, Any] = {
            "story": number, "status": job.status, "words": result["words"],
            "wall_seconds": result["wall_seconds"], "sequel_of_previous": bool(previous),
            "cast": cast,
            "cast_reused": sorted(n for n in cast if n.casefold() in names(before["characters"])),
            "places_reused": sorted(p for p in places if p.casefold() in names(before["places"])),
            "world_entries_before": sum(len(before.get(s) or []) for s in ("places", "rules", "history", "factions",
                                                                            "glossary", "characters")),
            "world_entries_after": metadata.get("world_update", {}).get("status") and sum(
                len(after.get(s) or []) for s in ("places", "rules", "history", "factions", "glossary",
                                                  "characters")),
            "world_version_after": after["version"],
            "largest_prompt_tokens": largest_prompt(job.job_id),
            "continuity_violations": {k: (metadata.get("continuity_violations") or {}).get(k)
                                      for k in ("checked", "found", "fixed")},
        }
        if dead:
            row["dead"] = dead[0]
            row["dead_is_cast"] = dead[0] in cast
            row["dead_acts_alive"] = acts_alive(text, dead[0], cast, places, BRIEF.get("language", "en"))
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        if number == 1:
            dead = kill_one(current, project_id, cast)
            print(json.dumps({"killed": dead[0], "by": dead[1]}), flush=True)
        previous = job.narrative_id
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("offline", "local"), default="offline")
    args = parser.parse_args()
    server = None
    if args.engine == "local":
        from narraforge_dev.local import llm_server

        server = llm_server.start()
        os.environ.update(server.environment())
        os.environ["LLM_TIMEOUT_SECONDS"] = "900"
    try:
        with local_aws({"LlmRetryIntervalSeconds": 1}):
            print(json.dumps({"engine": args.engine, "stories": len(STORIES), "target_words": BRIEF["target_length"]}),
                  flush=True)
            series()
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
