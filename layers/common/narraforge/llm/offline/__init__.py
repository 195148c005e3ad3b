"""The offline engine: a deterministic provider that needs no network and no key, seeded by the job id.

`provider` answers calls, `plans` builds the structured replies, `prose` writes text with `grammar`, and
`subject` reads the brief; the words they use are data files in `data/`, loaded by `vocab`.
"""

from narraforge.llm.offline.provider import OfflineEngine, approx_tokens, context_of

__all__ = ["OfflineEngine", "approx_tokens", "context_of"]
