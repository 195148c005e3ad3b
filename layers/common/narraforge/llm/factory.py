"""Chooses the provider: the offline engine with no key (nor key parameter) and no base URL, the OpenAI
SDK otherwise."""

from __future__ import annotations

from narraforge.config import get_settings
from narraforge.llm.base import Provider


def is_offline() -> bool:
    settings = get_settings()
    return settings.openai_api_key is None and not settings.openai_api_key_param and not settings.openai_base_url


def provider_for(job_id: str) -> Provider:
    if is_offline():
        from narraforge.llm.offline import OfflineEngine

        return OfflineEngine(seed=job_id)
    from narraforge.llm.openai_provider import OpenAIProvider

    return OpenAIProvider.from_settings()
