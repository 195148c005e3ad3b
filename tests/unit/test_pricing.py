"""The price table: current models priced, snapshots priced as their alias, an unknown model's cost unknown (not
zero) while it still counts 0 toward caps."""

from __future__ import annotations

import pytest
from narraforge.config import Settings, reset_settings
from narraforge.llm.base import Usage
from narraforge.llm.pricing import PRICES, Price, cost_of, known_cost, price_of, unpriced_models
from narraforge.pipeline.estimate import estimate_job_cost
from narraforge.schemas.briefs import ProductionBrief

MILLION = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000)
BRIEF = ProductionBrief(production_type="short_story", genre="drama", subject="A farm must be sold by spring",
                        target_length=2000)


def test_current_families_are_priced_and_snapshots_cost_their_alias():
    assert price_of("gpt-5.4-mini") == Price(0.75, 4.50)
    assert price_of("gpt-5.4-mini-2026-03-17") == PRICES["gpt-5.4-mini"]
    assert known_cost("gpt-4.1-2025-04-14", MILLION) == pytest.approx(2.00 + 8.00)
    assert {"gpt-5.5", "gpt-5.4", "gpt-5.4-nano", "gpt-5", "gpt-5-mini", "gpt-4.1", "gpt-4.1-mini"} <= set(PRICES)


@pytest.mark.parametrize("model", ["gpt-5-pro", "gpt-4.1-mini-tts", "SmolLM2-135M-Instruct", "llama3.2:1b"])
def test_an_unknown_model_has_an_unknown_cost_and_counts_zero_toward_caps(model):
    assert price_of(model) is None  # gpt-5-pro is not priced as gpt-5 by prefix
    assert known_cost(model, MILLION) is None
    assert cost_of(model, MILLION) == 0.0
    assert known_cost(model, MILLION, provider="offline") == 0.0


def test_the_default_models_are_priced(monkeypatch):
    for name in ("NARRAFORGE_PLANNING_MODEL", "NARRAFORGE_PROSE_MODEL", "NARRAFORGE_JUDGING_MODEL",
                 "NARRAFORGE_STAGE_MODELS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_environ()
    for model in (settings.planning_model, settings.prose_model, settings.judging_model):
        assert price_of(model) is not None, model


def test_unpriced_models_names_the_configured_models_without_a_price(monkeypatch):
    monkeypatch.delenv("NARRAFORGE_STAGE_MODELS", raising=False)
    monkeypatch.setenv("NARRAFORGE_PLANNING_MODEL", "gpt-4.1-mini")
    monkeypatch.setenv("NARRAFORGE_JUDGING_MODEL", "gpt-4.1-mini")
    monkeypatch.setenv("NARRAFORGE_PROSE_MODEL", "gpt-4.1")
    reset_settings()
    assert unpriced_models() == []
    known = estimate_job_cost(BRIEF, offline=False)
    monkeypatch.setenv("NARRAFORGE_PROSE_MODEL", "SmolLM2-135M-Instruct")
    monkeypatch.setenv("NARRAFORGE_STAGE_MODELS", '{"editorial_review": "gpt-5-pro"}')
    reset_settings()
    assert unpriced_models() == ["SmolLM2-135M-Instruct", "gpt-5-pro"]
    assert 0 < estimate_job_cost(BRIEF, offline=False) < known  # only the priced calls count toward the quota
    reset_settings()
