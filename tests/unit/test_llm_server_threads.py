"""How many threads the local model server gets: fewer than the cores, so the stack beside it never starves it."""

from __future__ import annotations

import pytest

from narraforge_dev.local import llm_server


@pytest.mark.parametrize(("cores", "said", "threads"), [
    (2, "", 1), (8, "", 7), (1, "", 1), (None, "", 1), (2, "2", 2), (2, "0", 1), (2, "many", 1),
])
def test_the_server_leaves_a_core_to_the_stack_unless_told(monkeypatch, cores, said, threads):
    monkeypatch.setattr(llm_server.os, "cpu_count", lambda: cores)
    monkeypatch.setenv("NARRAFORGE_LLM_THREADS", said)
    assert llm_server.server_threads() == threads
