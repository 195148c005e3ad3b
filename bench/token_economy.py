"""Token economy: what a job spends in tokens and USD against what it delivers, at 2,000 / 20,000 / 80,000
words, with the default models and the price table, as if every call had been billed by OpenAI.

    .venv/bin/python bench/token_economy.py

The offline engine writes the text; a wrapper recounts every call in o200k_base tokens (tiktoken, see
providers.py) plus the chat format's per-message overhead, and the pipeline prices each call from the
price table (`cost_of(model, usage, provider="openai")`). All ten stages run in memory
(`narraforge_dev.pipeline_double.run_pipeline`, the same stage code as the ASL path without AWS), Map stages one
segment after another — token counts do not depend on the Map's concurrency.

Prints one JSON line per length, then a summary line with the goals: spent_over_text ≤ 4 at 20k and 80k,
estimate within ±30 % of actual, largest prompt at 80k ≤ 1.5 × at 2k, prompt tokens linear in length.

    .venv/bin/python bench/token_economy.py --engine local [--lengths 2000,5000]

runs the same briefs against a real model instead: SmolLM2-135M-Instruct through llama-cpp-python's server
(`.venv-llm`, `make llm-install`), started and stopped here. Spent tokens are the usage the server reports
(its own tokenizer, continuations and re-asks included); the delivered text is counted by the same server
(`/extras/tokenize/count`), so spent ÷ delivered compares like with like, and in o200k as well. Each length
prints its local row next to the offline engine's row for the same brief (offline in o200k, as above)."""

from __future__ import annotations

import argparse
import json
import os
import time
import urllib.request
from typing import Any

import common  # noqa: F401 - puts the repository and the layer on sys.path
from narraforge.config import get_settings, reset_settings
from narraforge.llm.pricing import cost_of
from narraforge.pipeline.estimate import estimate_job_cost
from narraforge.schemas.briefs import ProductionBrief
from providers import TOKENIZER, BilledOfflineEngine, count_tokens

from narraforge_dev.pipeline_double import run_pipeline

BRIEF = {"genre": "fantasy", "subject": "A cartographer discovers that her maps change the land they describe",
         "style_instructions": "Lyrical but clear", "character_count": 4}
LENGTHS = {2000: "short_story", 20000: "short_story", 80000: "novel"}


def measure(target: int, production_type: str) -> dict[str, object]:
    brief = ProductionBrief(**BRIEF, production_type=production_type, target_length=target)
    job_id = f"token-economy-{target}"
    provider = BilledOfflineEngine(job_id)
    ctx, narrative = run_pipeline(brief, job_id=job_id, provider=provider)
    prompt = sum(c.prompt_tokens for c in ctx.calls)
    completion = sum(c.completion_tokens for c in ctx.calls)
    text_tokens = count_tokens(narrative.text)
    actual = sum(cost_of(call.model, call.usage, provider="openai") for call in provider.calls)
    estimated = estimate_job_cost(brief, offline=False)
    return {
        "target_words": target,
        "production_type": production_type,
        "words": narrative.word_count,
        "llm_calls": len(ctx.calls),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "max_prompt_tokens": max(c.prompt_tokens for c in ctx.calls),
        "text_tokens": text_tokens,
        "spent_over_text": round((prompt + completion) / text_tokens, 2),
        "estimated_cost_usd": round(estimated, 4),
        "actual_cost_usd": round(actual, 4),
        "estimate_error": round(estimated / actual - 1, 3),
    }


def server_token_count(base_url: str, text: str) -> int:
    """Tokens of `text` in the served model's own tokenizer (llama-cpp-python's extras endpoint)."""
    request = urllib.request.Request(f"{base_url}/extras/tokenize/count", data=json.dumps({"input": text}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(json.load(response)["count"])


def measure_local(target: int, production_type: str, base_url: str) -> dict[str, Any]:
    from narraforge.llm.openai_provider import OpenAIProvider

    brief = ProductionBrief(**BRIEF, production_type=production_type, target_length=target)
    started = time.perf_counter()
    provider = OpenAIProvider.from_settings()
    ctx, narrative = run_pipeline(brief, job_id=f"token-economy-local-{target}", provider=provider)
    prompt = sum(c.prompt_tokens for c in ctx.calls)
    completion = sum(c.completion_tokens for c in ctx.calls)
    text_tokens = server_token_count(base_url, narrative.text)
    per_stage: dict[str, list[int]] = {}
    for call in ctx.calls:
        totals = per_stage.setdefault(call.stage.value, [0, 0, 0])
        totals[0] += 1
        totals[1] += call.prompt_tokens
        totals[2] += call.completion_tokens
    return {
        "engine": "local", "target_words": target, "production_type": production_type,
        "words": narrative.word_count, "wall_seconds": round(time.perf_counter() - started, 1),
        "llm_calls": len(ctx.calls), "prompt_tokens": prompt, "completion_tokens": completion,
        "max_prompt_tokens": max(c.prompt_tokens for c in ctx.calls),
        "text_tokens": text_tokens, "spent_over_text": round((prompt + completion) / text_tokens, 2),
        "text_tokens_o200k": count_tokens(narrative.text),
        "completion_over_text": round(completion / text_tokens, 2),
        "calls_prompt_completion_per_stage": per_stage,
    }


def main_local(lengths: list[int]) -> None:
    from narraforge_dev.local import llm_server

    # The offline rows first, under the offline settings (the server's settings would price SmolLM2: unknown).
    offline = {target: measure(target, "short_story") for target in lengths}
    server = llm_server.start()
    saved = dict(os.environ)
    os.environ.update(server.environment())
    reset_settings()
    print(json.dumps({"engine": "local", "model": server.model_id, "tokenizer_local": "the server's (SmolLM2 BPE)",
                      "tokenizer_offline": TOKENIZER}), flush=True)
    try:
        for target in lengths:
            try:
                print(json.dumps(measure_local(target, "short_story", server.base_url)), flush=True)
            except Exception as error:  # a measurement: say where it failed, go on with the next length
                print(json.dumps({"engine": "local", "target_words": target, "status": "FAILED",
                                  "error": f"{type(error).__name__}: {str(error)[:300]}"}), flush=True)
            print(json.dumps({"engine": "offline", **offline[target]}), flush=True)
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()


def main() -> None:
    parser = argparse.ArgumentParser(description="Tokens spent against tokens delivered.")
    parser.add_argument("--engine", choices=("offline", "local"), default="offline")
    parser.add_argument("--lengths", default="2000,5000", help="with --engine local: target words, comma-separated")
    args = parser.parse_args()
    if args.engine == "local":
        main_local([int(n) for n in args.lengths.split(",")])
        return
    settings = get_settings()
    print(json.dumps({"tokenizer": TOKENIZER, "models": {"planning": settings.planning_model,
                                                         "prose": settings.prose_model,
                                                         "judging": settings.judging_model}}), flush=True)
    rows = {}
    for target, production_type in LENGTHS.items():
        rows[target] = measure(target, production_type)
        print(json.dumps(rows[target]), flush=True)
    per_word = {t: r["prompt_tokens"] / t for t, r in rows.items()}
    print(json.dumps({
        "spent_over_text_ok": all(rows[t]["spent_over_text"] <= 4 for t in (20000, 80000)),
        "estimate_within_30pct": all(abs(r["estimate_error"]) <= 0.3 for r in rows.values()),
        "max_prompt_80k_over_2k": round(rows[80000]["max_prompt_tokens"] / rows[2000]["max_prompt_tokens"], 2),
        "prompt_tokens_per_word": {t: round(v, 2) for t, v in per_word.items()},
        "prompt_per_word_80k_over_20k": round(per_word[80000] / per_word[20000], 2),
    }), flush=True)


if __name__ == "__main__":
    main()
