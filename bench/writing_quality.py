"""Writing quality: the same briefs through every engine available, measured with computed text metrics.

    .venv/bin/python bench/writing_quality.py                                  # offline, every brief
    .venv/bin/python bench/writing_quality.py --engines offline,local --briefs fantasy --json out.json

Engines: `offline` (the demo engine, always), `local` (SmolLM2-135M-Instruct through llama-cpp-python's server,
when `.venv-llm` is built: `make llm-install`), `openai` (the default models, when OPENAI_API_KEY is set).
All ten stages run in memory (`narraforge_dev.pipeline_double.run_pipeline`, the same stage code as a job, no AWS,
no Step Functions retries: a failed call fails the run, and the row says in which stage and with what error).

Per narrative: length error against the target; subject coverage (the subject's content words found in the
text, lowercased, stopwords out, plural -s / -es, -ing, -ed stripped on both sides); cast coverage (the planned
characters' first names found, `metrics.characters_present`); distinct-2/3; the most repeated sentence and
4-gram with their counts; stock phrases ("slop") per 1,000 words from `SLOP` below (English only: 0 says
nothing about a Polish text); and drift: the same measures on the first vs the last quarter of the segments
(at least one segment each). Computed, not judged: no number here says whether the story is good."""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import common  # noqa: F401 - puts the repository and the layer on sys.path
from narraforge.config import reset_settings
from narraforge.llm.base import Completion, Message, Provider
from narraforge.pipeline import metrics
from narraforge.pipeline.stages.calls import final_texts
from narraforge.pipeline.text import sentences, words
from narraforge.schemas.briefs import ProductionBrief

from narraforge_dev.pipeline_double import run_pipeline

BRIEFS: dict[str, dict[str, Any]] = {
    "fantasy": {"production_type": "short_story", "genre": "fantasy", "target_length": 1500, "character_count": 3,
                "subject": "A wizard apprentice discovers forbidden magic", "style_instructions": "Vivid, concise"},
    "sci_fi": {"production_type": "short_story", "genre": "sci_fi", "target_length": 1500, "character_count": 3,
               "subject": "A maintenance robot on a generation ship finds a stowaway child",
               "style_instructions": "Warm, precise"},
    "polish": {"production_type": "short_story", "genre": "mystery", "target_length": 1500, "character_count": 3,
               "language": "pl", "subject": "Bibliotekarka odkrywa, że ktoś nocą dopisuje zakończenia do książek",
               "style_instructions": "Spokojny, ironiczny"},
}

_STOPWORD_TEXT = """
a an the and or but of to in on at by for with from into onto over under about as is are was were be been being it
its this that these those their his her he she they them who whom which what when where why how not no nor so than
then too very can will just do does did has have had i you we our your my me us
i w we na z ze do że się nie to jest od po o u za przez dla jak ale czy ktoś który która które jego jej ich
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Stock phrases of machine-written English prose ("slop"), matched on lowercased word sequences.
SLOP = (
    "a testament to", "tapestry of", "shivers down", "shiver down", "barely above a whisper", "in the heart of",
    "little did", "the weight of", "a sense of", "couldn't help but", "could not help but", "a mix of",
    "a mixture of", "sent a chill", "a chill ran", "eyes widened", "heart pounding", "heart raced",
    "breath caught", "let out a breath", "held her breath", "held his breath", "a wave of", "palpable",
    "in the grand scheme", "it was as if", "as if the world", "dance of", "symphony of", "a kaleidoscope",
    "unspoken", "whispered secrets", "echoes of", "ancient secrets", "embark on a journey", "journey of",
    "a newfound", "determination in", "with a mischievous", "the air was thick", "steeled", "delve",
    "intricate", "for what felt like", "a flicker of", "in that moment", "testament to",
)

ENGINES = ("offline", "local", "openai")


@dataclass
class TimedProvider:
    """Wraps the engine's provider: the wall time and the server-reported usage of every call, in order."""

    inner: Provider
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.inner.name

    def complete(self, messages: list[Message], *, model: str, max_tokens: int, temperature: float,
                 json_schema: dict[str, Any] | None = None) -> Completion:
        started = time.perf_counter()
        reply = self.inner.complete(messages, model=model, max_tokens=max_tokens, temperature=temperature,
                                    json_schema=json_schema)
        self.calls.append({"schema": (json_schema or {}).get("name", "prose"),
                           "seconds": round(time.perf_counter() - started, 2),
                           "prompt_tokens": reply.usage.prompt_tokens,
                           "completion_tokens": reply.usage.completion_tokens})
        return reply


def stem(word: str) -> str:
    """A very small English stemmer: plural -es/-s, -ing and -ed off (not -ss); "wizards" matches "wizard",
    "discovered" matches "discovers". Both sides go through it, so over-stemming still matches like with like."""
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str) -> list[str]:
    return [stem(w.lower()) for w in words(text) if w.lower() not in STOPWORDS and len(w) > 2]


def subject_coverage(subject: str, text: str, language: str) -> tuple[float, list[str]]:
    """Share of the subject's content words found in the text; Polish matches on a 5-letter stem (inflection)."""
    wanted = sorted(set(content_words(subject)))
    found_words = set(content_words(text))
    if language == "pl":
        prefixes = {w[:5] for w in found_words}
        missing = [w for w in wanted if w[:5] not in prefixes]
    else:
        missing = [w for w in wanted if w not in found_words]
    return (round(1 - len(missing) / len(wanted), 3) if wanted else 1.0), missing


def most_repeated_sentence(text: str) -> tuple[int, str]:
    counts = Counter(" ".join(w.lower() for w in words(s)) for s in sentences(text))
    counts.pop("", None)
    if not counts:
        return 0, ""
    sentence, count = counts.most_common(1)[0]
    return count, sentence[:80]


def most_repeated_ngram(text: str, n: int = 4) -> tuple[int, str]:
    tokens = [w.lower() for w in words(text)]
    counts = Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    if not counts:
        return 0, ""
    gram, count = counts.most_common(1)[0]
    return count, " ".join(gram)


def slop_rate(text: str) -> tuple[float, dict[str, int]]:
    """Stock phrases per 1,000 words, with the phrases found."""
    tokens = [w.lower() for w in words(text)]
    if not tokens:
        return 0.0, {}
    flat = f" {' '.join(tokens)} "
    hits = {p: flat.count(f" {' '.join(w.lower() for w in words(p))} ") for p in SLOP}
    hits = {p: c for p, c in hits.items() if c}
    return round(sum(hits.values()) * 1000 / len(tokens), 2), hits


def measure_text(text: str, *, subject: str, cast: list[str], language: str) -> dict[str, Any]:
    present = metrics.characters_present(text, cast, language)
    coverage, missing = subject_coverage(subject, text, language)
    sentence_count, sentence = most_repeated_sentence(text)
    gram_count, gram = most_repeated_ngram(text)
    slop, slop_hits = slop_rate(text)
    return {
        "words": len(words(text)),
        "subject_coverage": coverage, "subject_missing": missing,
        "cast_coverage": round(sum(present.values()) / len(present), 3) if present else 0.0,
        "cast_missing": [n for n, ok in present.items() if not ok],
        "distinct_2": metrics.distinct_n(text, 2), "distinct_3": metrics.distinct_n(text, 3),
        "top_sentence_count": sentence_count, "top_sentence": sentence,
        "top_4gram_count": gram_count, "top_4gram": gram,
        "slop_per_1k": slop, "slop_hits": slop_hits,
    }


def provider_of(engine: str, job_id: str) -> Provider:
    if engine == "offline":
        from narraforge.llm.offline import OfflineEngine

        return OfflineEngine(job_id)
    from narraforge.llm.openai_provider import OpenAIProvider

    return OpenAIProvider.from_settings()


def run_one(engine: str, name: str) -> dict[str, Any]:
    brief = ProductionBrief(**BRIEFS[name])
    job_id = f"writing-quality-{name}"
    provider = TimedProvider(provider_of(engine, job_id))
    row: dict[str, Any] = {"engine": engine, "brief": name, "target_words": brief.target_length}
    started = time.perf_counter()
    try:
        ctx, narrative = run_pipeline(brief, job_id=job_id, provider=provider)
    except Exception as error:  # a measurement: report where it failed, do not stop the other rows
        row.update(status="FAILED", error=f"{type(error).__name__}: {str(error)[:300]}",
                   stage=_current_stage(error),
                   wall_seconds=round(time.perf_counter() - started, 1), calls=len(provider.calls))
        return row
    wall = time.perf_counter() - started
    cast = [c["name"] for c in narrative.metadata["characters"]]
    text = narrative.text
    row.update(status="COMPLETED", title=narrative.title, wall_seconds=round(wall, 1), calls=len(provider.calls),
               prompt_tokens=sum(c["prompt_tokens"] for c in provider.calls),
               completion_tokens=sum(c["completion_tokens"] for c in provider.calls),
               cast=cast, fallbacks=narrative.metadata.get("fallbacks", []),
               length_error=round(narrative.word_count / brief.target_length - 1, 3),
               **measure_text(text, subject=brief.subject, cast=cast, language=brief.language))
    row["per_stage"] = _per_stage(ctx, provider)
    segments = final_texts(ctx)
    quarter = max(1, math.ceil(len(segments) / 4))
    row["segments"] = len(segments)
    row["drift"] = {part: measure_text("\n\n".join(chunk), subject=brief.subject, cast=cast, language=brief.language)
                    for part, chunk in (("first_quarter", segments[:quarter]), ("last_quarter", segments[-quarter:]))}
    row["text"] = text
    return row


def _current_stage(error: BaseException) -> str:
    """The stage that was running when the error escaped (the innermost stages/ frame of its traceback)."""
    trace = error.__traceback__
    found = "?"
    while trace is not None:
        path = trace.tb_frame.f_code.co_filename
        if "/pipeline/stages/" in path:
            found = os.path.basename(path).removesuffix(".py")
        trace = trace.tb_next
    return found


def _per_stage(ctx: Any, provider: TimedProvider) -> dict[str, dict[str, float]]:
    """Calls, seconds and tokens per stage (the context's records and the provider's, in the same order)."""
    out: dict[str, dict[str, float]] = {}
    for record, call in zip(ctx.calls, provider.calls, strict=True):
        stage = out.setdefault(record.stage.value, {"calls": 0, "seconds": 0.0, "prompt_tokens": 0,
                                                    "completion_tokens": 0})
        stage["calls"] += 1
        stage["seconds"] = round(stage["seconds"] + call["seconds"], 2)
        stage["prompt_tokens"] += call["prompt_tokens"]
        stage["completion_tokens"] += call["completion_tokens"]
    return out


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| engine | brief | status | words | length err | subject | cast | distinct-2 | distinct-3 "
            "| top sentence × | top 4-gram × | slop /1k | drift d-2 first→last | drift subject first→last | wall s |")
    lines = [head, "| " + " | ".join(["---"] * 3 + ["---:"] * 12) + " |"]
    for r in rows:
        if r["status"] != "COMPLETED":
            lines.append(f"| {r['engine']} | {r['brief']} | FAILED in {r['stage']}: {r['error'][:80]} "
                         + "| " * 11 + f"| {r['wall_seconds']} |")
            continue
        first, last = r["drift"]["first_quarter"], r["drift"]["last_quarter"]
        lines.append(
            f"| {r['engine']} | {r['brief']} | {r['status']} | {r['words']:,} | {r['length_error']:+.1%} "
            f"| {r['subject_coverage']:.2f} | {r['cast_coverage']:.2f} | {r['distinct_2']:.3f} | {r['distinct_3']:.3f} "
            f"| {r['top_sentence_count']} | {r['top_4gram_count']} ({r['top_4gram']}) | {r['slop_per_1k']:.2f} "
            f"| {first['distinct_2']:.2f} → {last['distinct_2']:.2f} "
            f"| {first['subject_coverage']:.2f} → {last['subject_coverage']:.2f} | {r['wall_seconds']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default=None, help="comma-separated: offline,local,openai (default: available)")
    parser.add_argument("--briefs", default=",".join(BRIEFS), help=f"comma-separated of {', '.join(BRIEFS)}")
    parser.add_argument("--json", default=None, help="write every row (with the texts) to this file")
    parser.add_argument("--save-text", default=None, help="ENGINE:BRIEF=PATH, write that narrative's text")
    args = parser.parse_args()
    from narraforge_dev.local import llm_server

    available = ["offline"] + (["local"] if (llm_server.LLM_VENV / "bin" / "python").exists() else []) + (
        ["openai"] if os.environ.get("OPENAI_API_KEY") else [])
    engines = args.engines.split(",") if args.engines else available
    rows: list[dict[str, Any]] = []
    saved_environment = dict(os.environ)
    for engine in engines:
        server = None
        if engine == "offline":
            for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
                os.environ.pop(name, None)
        elif engine == "local":
            started = time.perf_counter()
            server = llm_server.start()
            os.environ.update(server.environment())
            print(json.dumps({"local_server": server.openai_base_url, "model": server.model_id,
                              "start_seconds": round(time.perf_counter() - started, 1)}), flush=True)
        reset_settings()
        try:
            for name in args.briefs.split(","):
                row = run_one(engine, name)
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "text"}, ensure_ascii=False), flush=True)
        finally:
            if server is not None:
                server.stop()
            os.environ.clear()
            os.environ.update(saved_environment)
            reset_settings()
    print(table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(rows, out, ensure_ascii=False, indent=1)
    if args.save_text:
        which, path = args.save_text.split("=", 1)
        engine, name = which.split(":")
        row = next(r for r in rows if r["engine"] == engine and r["brief"] == name and r["status"] == "COMPLETED")
        with open(path, "w", encoding="utf-8") as out:
            out.write(f"{row['title']}\n\n{row['text'].strip()}\n")


if __name__ == "__main__":
    main()
