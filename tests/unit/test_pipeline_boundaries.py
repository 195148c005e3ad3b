"""Stage 10 at home: publishing is the pipeline's (the runner dispatches it through the stage registry), the
API services reach nothing inside the pipeline, and checkpoints are queried and built in two places only —
`data/checkpoints.py` (raw reads and writes) and `pipeline/checkpoints.py` (the stage's commit). Imports are
read from the source, lazy ones inside functions and TYPE_CHECKING blocks included."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

from narraforge.domain.stages import STAGE_WEIGHTS, progress_before, progress_through
from narraforge.enums import Stage
from narraforge.pipeline.stages import STAGES

from tests.helpers import REPO

PACKAGE = REPO / "layers" / "common" / "narraforge"
# What services may use of the pipeline: its cost estimate, the pipeline's plan offered to the API.
PIPELINE_API = {"narraforge.pipeline.estimate"}
CHECKPOINT_HOMES = {PACKAGE / "data" / "checkpoints.py", PACKAGE / "pipeline" / "checkpoints.py"}


def _trees(folder: str) -> dict[Path, ast.AST]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted((PACKAGE / folder).rglob("*.py"))}


def _imported(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_services_reach_nothing_inside_the_pipeline():
    reached = sorted(f"{path.name} -> {name}" for path, tree in _trees("services").items()
                     for name in _imported(tree)
                     if name.startswith("narraforge.pipeline") and not any(name.startswith(api) for api in PIPELINE_API)
                     and name not in {"narraforge.pipeline"})
    assert reached == []


def test_checkpoints_are_queried_and_built_only_in_their_two_homes():
    uses = []
    for folder in ("api", "data", "domain", "pipeline", "services"):
        for path, tree in _trees(folder).items():
            if path in CHECKPOINT_HOMES:
                continue
            for node in ast.walk(tree):
                queried = (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                           and node.value.id == "CheckpointItem" and node.attr in ("get", "query", "count", "scan"))
                built = (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                         and node.func.id == "CheckpointItem")
                if queried or built:
                    uses.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert uses == []


def test_stage_ten_is_a_registered_stage_that_publishes():
    publishing = [stage for stage, spec in STAGES.items() if spec.publishes]
    assert publishing == [Stage.OUTPUT_PROCESSING]
    assert STAGES[Stage.OUTPUT_PROCESSING].run is not None


def test_progress_before_a_stage_is_progress_through_the_one_before_it():
    stages = list(Stage)
    assert sum(STAGE_WEIGHTS.values()) == 100
    assert progress_before(stages[0]) == 0 and progress_through(stages[-1]) == 100
    for earlier, later in itertools.pairwise(stages):
        assert progress_before(later) == progress_through(earlier)
