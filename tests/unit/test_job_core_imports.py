"""The job core (`narraforge/domain/`) sits below both wings: the pipeline, the job core and llm never import
services, the job core imports no wing at all, and no chain of imports comes back to where it started — lazy
imports inside functions counted, since those are how circles used to be hidden."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

PACKAGE = REPO / "layers" / "common" / "narraforge"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(path): path for path in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Every narraforge module the file imports, wherever the import sits (module level, function, TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("narraforge"):
            module = node.module or ""
            found |= {f"{module}.{alias.name}" if f"{module}.{alias.name}" in MODULES else module
                      for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("narraforge")}
    return found


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _importers_of(prefix: str, within: tuple[str, ...]) -> list[str]:
    return sorted(f"{name} -> {target}" for name, targets in GRAPH.items() for target in targets
                  if name.startswith(within) and (target == prefix or target.startswith(f"{prefix}.")))


def test_the_pipeline_the_job_core_and_llm_never_import_services():
    assert _importers_of("narraforge.services", ("narraforge.pipeline", "narraforge.domain", "narraforge.llm")) == []


def test_the_job_core_imports_neither_wing_nor_the_model_providers():
    """Below services and pipeline: it may use data, schemas, config, enums, errors, observability only."""
    assert [edge for wing in ("narraforge.services", "narraforge.pipeline", "narraforge.api", "narraforge.llm")
            for edge in _importers_of(wing, ("narraforge.domain",))] == []


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def test_no_chain_of_imports_comes_back_to_where_it_started():
    assert _cycles() == []
