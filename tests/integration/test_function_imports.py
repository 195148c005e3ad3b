"""Every function imports with no environment at all, and API functions stay free of heavy libraries."""

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
                   "heavy": sorted(m for m in ("openai", "fpdf", "ebooklib", "docx", "moto") if m in sys.modules)}}))
"""


@pytest.mark.parametrize("name", API_FUNCTIONS)
def test_imports_with_an_empty_environment(name):
    code = PROBE.format(repo=str(REPO), layer=str(REPO / "layers/common"), name=name)
    result = subprocess.run([sys.executable, "-c", code], env={"PATH": "/usr/bin:/bin"}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"handler": True, "heavy": []}
