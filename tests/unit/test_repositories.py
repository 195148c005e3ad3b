"""The data-access layer holds: services and the job core speak to repositories (`narraforge/data/<aggregate>.py`)
in domain terms, and never build items, keys or key conditions themselves — so they import neither the PynamoDB
entities (`data/models.py`) nor the key patterns (`data/keys.py`); and no key prefix is spelled out anywhere but
`data/keys.py`. Read from the source: imports inside functions and TYPE_CHECKING blocks count too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import REPO

PACKAGE = REPO / "layers" / "common" / "narraforge"
FORBIDDEN = {"narraforge.data.models", "narraforge.data.keys"}
# Modules still allowed to use them, each with its reason. Keep it short: an entry is a debt.
EXCEPTIONS = {
    "services/worlds.py": "world documents (issue 14), built alongside this renovation: its items move to "
                          "data/worlds.py next",
}
PREFIX = re.compile(r"(?<![A-Za-z])(USER|PROJECT|JOB|STAGE|SEG|NARR|VER|SESSION|RT|OAUTH|OAUTHSTATE|USAGE|USAGELOG|"
                    r"IDEMP|DELETED|RATE|CONN|JOBSUBS|BILL|EMAIL)#")


def _uses_of_the_schema(tree: ast.AST) -> list[str]:
    """`narraforge.data.models`/`keys` imported in any form (`from narraforge.data import keys` included)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
            found += [f"line {node.lineno}: {name}" for name in sorted(names & FORBIDDEN)]
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: {alias.name}" for alias in node.names
                      if any(alias.name == f or alias.name.startswith(f"{f}.") for f in FORBIDDEN)]
    return found


def _checked_modules() -> dict[str, Path]:
    return {str(path.relative_to(PACKAGE)): path for folder in ("services", "domain")
            for path in sorted((PACKAGE / folder).rglob("*.py"))}


def test_services_and_the_job_core_never_touch_items_or_keys():
    offenders = {name: uses for name, path in _checked_modules().items() if name not in EXCEPTIONS
                 and (uses := _uses_of_the_schema(ast.parse(path.read_text(encoding="utf-8"))))}
    assert offenders == {}


def test_the_check_sees_every_form_of_the_import():
    """The rule must be able to fail: each way of reaching the schema is caught."""
    sources = ["from narraforge.data.models import JobItem", "from narraforge.data import keys",
               "import narraforge.data.models", "def f():\n    from narraforge.data import models\n"]
    assert all(_uses_of_the_schema(ast.parse(source)) for source in sources)
    assert _uses_of_the_schema(ast.parse("from narraforge.data import jobs as jobs_repo")) == []


def _docstrings(tree: ast.AST) -> set[int]:
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, owners) and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)}


def test_key_prefixes_are_spelled_only_in_data_keys():
    """Docstrings may name the key patterns; code builds them through `data/keys.py` only."""
    spelled = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "data" / "keys.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        spelled += [f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                    if isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docstrings and PREFIX.search(node.value)]
    assert spelled == []
