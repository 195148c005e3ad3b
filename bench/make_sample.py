"""Writes the offline engine's sample story to bench/samples/, so anyone can read what it writes.

    .venv/bin/python bench/make_sample.py

All ten stages run in memory (`narraforge_dev.pipeline_double.run_pipeline`, the same stage code as a job) on
the offline engine, seeded by the job id below: the output is the same on every machine."""

from __future__ import annotations

import json
from pathlib import Path

import common  # noqa: F401 - puts the repository and the layer on sys.path
from narraforge.pipeline import metrics
from narraforge.schemas.briefs import ProductionBrief

from narraforge_dev.pipeline_double import run_pipeline

JOB_ID = "sample-fantasy-2000"
BRIEF = {"production_type": "short_story", "genre": "fantasy", "target_length": 2000, "character_count": 4,
         "subject": "A cartographer discovers that her maps change the land they describe",
         "style_instructions": "Lyrical but clear"}
OUT = Path(__file__).resolve().parent / "samples" / "short_story_fantasy_2000.txt"


def main() -> None:
    _, narrative = run_pipeline(ProductionBrief(**BRIEF), job_id=JOB_ID)
    OUT.write_text(f"{narrative.title}\n\n{narrative.text.strip()}\n", encoding="utf-8")
    text = narrative.text
    print(json.dumps({"file": str(OUT.relative_to(OUT.parents[2])), "title": narrative.title,
                      "words": narrative.word_count, "distinct_2": metrics.distinct_n(text, 2),
                      "repetition_rate": metrics.repetition_rate(text),
                      "max_sentence_repeats": metrics.max_sentence_repeats(text),
                      "dialogue_ratio": round(metrics.dialogue_ratio(text), 3)}))


if __name__ == "__main__":
    main()
