"""The offline engine: determinism, token accounting, max_tokens, prose quality; and the price table."""

from __future__ import annotations

import json

import pytest
from narraforge.llm.base import LlmBadOutput, Message, Usage
from narraforge.llm.offline import OfflineEngine, approx_tokens
from narraforge.llm.pricing import PRICES, cost_of
from narraforge.pipeline import metrics
from narraforge.pipeline.estimate import estimate_job_cost
from narraforge.schemas.briefs import ProductionBrief

from narraforge_dev.pipeline_double import run_pipeline


def story(seed: str, **changes) -> str:
    fields = {
        "production_type": "short_story",
        "genre": "mystery",
        "target_length": 5000,
        "character_count": 4,
        "subject": "A retired inspector is called back to a village where the clocks all stopped",
    }
    return run_pipeline(ProductionBrief(**{**fields, **changes}), job_id=seed)[1].text


def prose_call(target: int = 400) -> list[Message]:
    facts = {
        "task": "draft",
        "language": "en",
        "genre": "horror",
        "format": "prose",
        "target_words": target,
        "segment_index": 0,
        "segment_count": 1,
        "segment": {
            "index": 0,
            "title": "Night",
            "place": "the Black Chapel",
            "characters": ["Ruth Marsh"],
            "beats": ["Ruth found a rusted key under the altar."],
        },
        "bible": {"cast": [{"name": "Ruth Marsh", "role": "protagonist", "pronouns": "she/her"}]},
    }
    return [Message("system", "Write."), Message("user", "Go.\n\nCONTEXT:\n```json\n" + json.dumps(facts) + "\n```")]


def test_same_seed_same_text_and_another_seed_another_text():
    first = story("seed-a", target_length=1500)
    assert first == story("seed-a", target_length=1500)
    assert first != story("seed-b", target_length=1500)


def test_five_thousand_words_read_without_repeats():
    text = story("quality")
    assert metrics.max_sentence_repeats(text) <= 2
    assert metrics.repetition_rate(text) < 0.03
    assert metrics.distinct_n(text, 2) >= 0.6
    assert "* * *" in text
    assert metrics.dialogue_ratio(text) > 0.1


@pytest.mark.parametrize("genre", ["fantasy", "sci_fi", "romance", "horror", "comedy", "dystopian"])
def test_distinct_bigrams_across_genres(genre):
    assert metrics.distinct_n(story(f"genre-{genre}", genre=genre), 2) >= 0.6


def test_polish_prose_does_not_repeat_itself():
    text = story("polski", language="pl")
    assert metrics.max_sentence_repeats(text) <= 2
    assert metrics.repetition_rate(text) < 0.05
    assert metrics.distinct_n(text, 2) >= 0.5
    assert "— " in text


def test_usage_model_and_label():
    engine = OfflineEngine("job")
    messages = prose_call()
    reply = engine.complete(messages, model="gpt-4o", max_tokens=4000, temperature=0.8)
    assert reply.model == "gpt-4o"
    assert reply.metadata == {"engine": "offline"}
    assert reply.finish_reason == "stop"
    assert reply.usage.completion_tokens == approx_tokens(reply.text)
    assert reply.usage.prompt_tokens >= sum(approx_tokens(m.content) for m in messages)
    assert 360 <= len(reply.text.split()) <= 520
    assert "Ruth" in reply.text and "rusted key" in reply.text


def test_max_tokens_cuts_the_reply_with_finish_reason_length():
    reply = OfflineEngine("job").complete(prose_call(800), model="m", max_tokens=100, temperature=0.8)
    assert reply.finish_reason == "length"
    assert reply.usage.completion_tokens <= 100
    assert len(reply.text.split()) <= 75


def test_unknown_schema_is_bad_output():
    with pytest.raises(LlmBadOutput):
        OfflineEngine("job").complete(
            prose_call(), model="m", max_tokens=100, temperature=0, json_schema={"name": "nope", "schema": {}}
        )


def test_approx_tokens():
    assert approx_tokens("") == 0
    assert approx_tokens("one two three") == 4
    assert approx_tokens("x" * 400) == 100


def test_cost_of_uses_the_price_table():
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000)
    assert cost_of("gpt-4o-mini", usage) == pytest.approx(0.15 + 0.60)
    assert cost_of("gpt-4o-2024-08-06", usage) == pytest.approx(sum(PRICES["gpt-4o"]))
    assert cost_of("gpt-4.1-mini-2025-04-14", usage) == pytest.approx(sum(PRICES["gpt-4.1-mini"]))
    assert cost_of("gpt-4o", usage, provider="offline") == 0.0
    assert cost_of("mystery-model", usage) == 0.0
    assert {
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
    } <= set(PRICES)


def test_estimate_grows_with_length_and_is_zero_offline():
    short = ProductionBrief(
        production_type="short_story", genre="drama", subject="A farm must be sold by spring", target_length=2000
    )
    novel = ProductionBrief(
        production_type="novel", genre="drama", subject="A farm must be sold by spring", target_length=80_000
    )
    assert estimate_job_cost(short, offline=True) == 0.0
    small, large = estimate_job_cost(short, offline=False), estimate_job_cost(novel, offline=False)
    assert 0 < small < large
    assert 25 < large / small < 60
