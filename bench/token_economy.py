"""Token economy: what a job spends in tokens and USD against what it delivers, at 2,000 / 20,000 / 80,000
words, with the default models and the price table, as if every call had been billed by OpenAI.

    .venv/bin/python bench/token_economy.py

The offline engine writes the text; a wrapper recounts every call in o200k_base tokens (tiktoken, see
providers.py) plus the chat format's per-message overhead, and the pipeline prices each call from the
price table (`cost_of(model, usage, provider="openai")`). All ten stages run in memory
(`tests.fakes.run_pipeline`, the same stage code as the ASL path without AWS), Map stages one segment after
another — token counts do not depend on the Map's concurrency.

Prints one JSON line per length, then a summary line with the goals: spent_over_text ≤ 4 at 20k and 80k,
estimate within ±30 % of actual, largest prompt at 80k ≤ 1.5 × at 2k, prompt tokens linear in length."""

from __future__ import annotations

import json

import common  # noqa: F401 - puts the repository and the layer on sys.path
from narraforge.config import get_settings
from narraforge.llm.pricing import cost_of, estimate_job_cost
from narraforge.schemas.briefs import ProductionBrief
from providers import TOKENIZER, BilledOfflineEngine, count_tokens

from tests.fakes import run_pipeline

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


def main() -> None:
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
