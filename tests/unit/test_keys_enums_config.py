"""Key patterns, enums and settings."""

from __future__ import annotations

from narraforge.config import Settings
from narraforge.data import keys
from narraforge.enums import Genre, JobStatus, ProductionType, Stage


def test_key_patterns_match_the_design():
    assert keys.user_pk("U") == "USER#U"
    assert keys.email_pk("  Ada@Example.COM ") == "EMAIL#ada@example.com"
    assert keys.project_sk("P") == "PROJECT#P"
    assert keys.job_status_gsi2pk("U", "RUNNING") == "USER#U#JOB#RUNNING"
    assert keys.stage_sk(3) == "STAGE#03"
    assert keys.version_sk(12) == "VER#000012"
    assert keys.usage_log_pk("U", "2026-11") == "USAGELOG#U#2026-11"
    assert keys.refresh_token_pk("abc") == "RT#abc"


def test_ulids_sort_by_creation():
    ids = [keys.new_id() for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(len(i) == 26 for i in ids)
    assert ids[0] <= ids[-1]


def test_enums_parse_any_case_and_answer_canonically():
    assert ProductionType("SHORT_STORY") is ProductionType.SHORT_STORY
    assert Genre("Sci_Fi").value == "sci_fi"
    assert JobStatus("running") is JobStatus.RUNNING
    assert [s.number for s in Stage] == list(range(1, 11))


def test_settings_read_lists_and_defaults(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    settings = Settings.from_environ()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.access_token_ttl_seconds == 1800


def test_models_per_role_and_per_stage(monkeypatch):
    monkeypatch.setenv("NARRAFORGE_PROSE_MODEL", "gpt-4.1")
    monkeypatch.setenv("NARRAFORGE_STAGE_MODELS", '{"language_stylization": "gpt-4.1-mini"}')
    settings = Settings.from_environ()
    assert settings.model_for("prose", "segment_generation") == "gpt-4.1"
    assert settings.model_for("prose", "language_stylization") == "gpt-4.1-mini"
    assert settings.model_for("planning", "world_architecture") == "gpt-4.1-mini"


def test_the_estimate_follows_the_configured_models(monkeypatch):
    from narraforge.config import reset_settings
    from narraforge.pipeline.estimate import estimate_job_cost
    from narraforge.schemas.briefs import ProductionBrief

    brief = ProductionBrief(production_type="short_story", genre="drama", subject="A family reunion goes wrong",
                            target_length=5000, character_count=3)
    reset_settings()
    default = estimate_job_cost(brief, offline=False)
    monkeypatch.setenv("NARRAFORGE_STAGE_MODELS", '{"segment_generation": "gpt-4o-mini"}')
    reset_settings()
    cheaper = estimate_job_cost(brief, offline=False)
    reset_settings()
    assert 0 < cheaper < default
    assert estimate_job_cost(brief, offline=True) == 0.0
