"""Every function imports with no environment at all; API functions stay free of the LLM client and the
export libraries, and the stage runner free of the web stack (each is cold-start weight the other needs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
API_FUNCTIONS = sorted(p.parent.name for p in (REPO / "functions").glob("*/app.py") if p.parent.name != "stage_runner")

PROBE = """
import json, sys
sys.path[:0] = [{repo!r}, {layer!r}]
import functions.{name}.app as module
print(json.dumps({{"handler": callable(module.handler),
                   "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""
NOT_FOR_API = ("openai", "fpdf", "ebooklib", "docx", "moto")
NOT_FOR_RUNNER = ("fastapi", "starlette", "mangum", "moto")


def _import_report(name: str, heavy: tuple[str, ...]) -> dict:
    code = PROBE.format(repo=str(REPO), layer=str(REPO / "layers/common"), name=name, heavy=heavy)
    result = subprocess.run([sys.executable, "-c", code], env={"PATH": "/usr/bin:/bin"}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", API_FUNCTIONS)
def test_imports_with_an_empty_environment(name):
    assert _import_report(name, NOT_FOR_API) == {"handler": True, "heavy": []}


def test_stage_runner_imports_without_the_web_stack():
    assert _import_report("stage_runner", NOT_FOR_RUNNER) == {"handler": True, "heavy": []}
