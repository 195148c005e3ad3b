"""The import contracts of pyproject.toml ([tool.importlinter], explained in ARCHITECTURE.md) hold, and they bite:
`make lint` runs `lint-imports` too, but `make test` is what everyone runs, so a forbidden import fails here.

The second half proves the contracts can fail: on a copy of the packages, one forbidden import added by the
test must break the contract that names it (and the untouched copy must keep them all, so the failure is the
import's and not the copy's)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# Where each root package of the contracts lives, relative to the repository (pyproject's packages.find).
PACKAGES = {"narraforge": "layers/common", "narraforge_dev": ".", "narraforge_cli": "cli", "functions": "."}


def _lint_imports(root: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the packages under `root`, with `root`'s pyproject.toml; no cache written anywhere."""
    python_path = os.pathsep.join(str(root / folder) for folder in dict.fromkeys(PACKAGES.values()))
    args = [str(LINT_IMPORTS), "--no-cache", "--no-logo", *(arg for c in contracts for arg in ("--contract", c))]
    return subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": python_path, "COLUMNS": "200"})


def test_the_repository_keeps_every_import_contract():
    result = _lint_imports(REPO)
    assert result.returncode == 0, f"lint-imports found a forbidden import:\n{result.stdout}\n{result.stderr}"
    assert "0 broken" in result.stdout, result.stdout


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The packages' Python files and pyproject.toml, laid out as in the repository."""
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    for package, folder in PACKAGES.items():
        shutil.copytree(REPO / folder / package, tmp_path / folder / package,
                        ignore=lambda _, names: [n for n in names if n == "__pycache__"
                                                 or (not n.endswith(".py") and "." in n)])
    return tmp_path


def test_the_untouched_copy_keeps_every_contract(copy):
    result = _lint_imports(copy)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"


# (file to add the import to, the import, the contracts it must break, the import as lint-imports names it)
VIOLATIONS = [
    ("layers/common/narraforge/data/keys.py", "from narraforge.services import jobs",
     ("layers", "data-floor"), "narraforge.data.keys -> narraforge.services.jobs"),
    ("layers/common/narraforge/data/keys.py", "from narraforge.security import tokens",
     ("data-floor",), "narraforge.data.keys -> narraforge.security.tokens"),
    ("layers/common/narraforge/pipeline/runner.py", "from narraforge.services import narratives",
     ("layers",), "narraforge.pipeline.runner -> narraforge.services.narratives"),
    ("layers/common/narraforge/services/projects.py", "from narraforge.pipeline import layout",
     ("layers",), "narraforge.services.projects -> narraforge.pipeline.layout"),
    ("layers/common/narraforge/pipeline/estimate.py", "from narraforge.pipeline import checkpoints",
     ("estimate-is-plain",), "narraforge.pipeline.estimate -> narraforge.pipeline.checkpoints"),
    ("layers/common/narraforge/llm/pricing.py", "from narraforge import errors",
     ("llm-adapter",), "narraforge.llm.pricing -> narraforge.errors"),
    ("layers/common/narraforge/errors.py", "from narraforge import config",
     ("errors-leaf",), "narraforge.errors -> narraforge.config"),
    ("layers/common/narraforge/config.py", "from narraforge.api import problems",
     ("layers",), "narraforge.config -> narraforge.api.problems"),
    ("layers/common/narraforge/pipeline/handler.py", "from narraforge_dev import pipeline_double",
     ("runtime-without-dev",), "narraforge.pipeline.handler -> narraforge_dev.pipeline_double"),
    ("cli/narraforge_cli/client.py", "from narraforge.schemas import jobs",
     ("cli-is-a-client",), "narraforge_cli.client -> narraforge.schemas.jobs"),
    ("functions/reconciler/app.py", "from functions.jobs import app",
     ("functions-are-wiring",), "functions.reconciler.app -> functions.jobs.app"),
    ("functions/stage_runner/app.py", "from narraforge_dev.local import lambda_bridge",
     ("functions-without-dev",), "functions.stage_runner.app -> narraforge_dev.local.lambda_bridge"),
    ("narraforge_dev/local/websocket.py", "from narraforge_dev.local import apigw",
     ("acyclic",), ".websocket -> .apigw"),
]


@pytest.mark.parametrize(("path", "statement", "contracts", "named"), VIOLATIONS,
                         ids=[f"{v[0].rsplit('/', 2)[-2]}/{v[0].rsplit('/', 1)[-1]}: {v[1]}" for v in VIOLATIONS])
def test_a_forbidden_import_breaks_its_contract(copy, path, statement, contracts, named):
    """Inside a function too: a lazy import is an import, and hiding a circle in one is how circles used to live."""
    target = copy / path
    target.write_text(target.read_text(encoding="utf-8") + f"\n\ndef _forbidden() -> None:\n    {statement}\n",
                      encoding="utf-8")
    for contract in contracts:
        result = _lint_imports(copy, contract)
        assert result.returncode == 1, f"contract {contract} kept:\n{result.stdout}\n{result.stderr}"
        assert "BROKEN" in result.stdout and named in result.stdout, result.stdout
