"""Memory and size: peak RSS of the stage runner assembling an 80,000-word novel and of each export built
from it, and the unzipped size of every function plus the common layer as `sam build` packages them.

    .venv/bin/python bench/memory.py [--runs 3] [--skip-size]

Every memory figure comes from a fresh interpreter that starts while this parent is still small, so no
page of another run counts (on Linux a child's ru_maxrss can inherit the high-water mark of the process
it was spawned from). A first child runs stages 1-9 in memory (`narraforge_dev.pipeline_double.run_pipeline`,
offline engine) and writes their outputs one JSON object per file, as the runner keeps them in S3. The assembly child
imports what the stage runner's stage-10 invocation has loaded (its `app`, the narrative publisher, the
OpenAI provider that `provider_for` builds in production, an S3 client), then reads and parses the stored
outputs one object at a time as the runner's S3-backed context does, runs `assemble` and encodes the text
and metadata as `s3.put_text` / `put_json` would. Each export child imports the narratives API function
(where exports are built) and runs `build_document` + `build` as `services.exports._build` does; its time
includes the format library's first import, which every cold export pays.

The layer is built as SAM's python3.12 builder does: the requirements installed as CPython 3.12 x86_64 wheels
for glibc 2.34 (Amazon Linux 2023: manylinux_2_34 down to manylinux2014), then `layers/common/` copied under
`python/` minus SAM's excluded files. Sizes are the sum of file sizes, compared with Lambda's 262,144,000-byte
(250 MB) limit on a function plus its layers.

Prints one JSON line per measurement and a last line with the goals: assembly ≤ 256 MB, every export
≤ 512 MB and ≤ 10 s, every function + layer ≤ 250 MB."""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import common  # puts the repository and the layer on sys.path, sets the AWS/env variables
from narraforge.enums import Stage  # a leaf module: the parent stays small for the children it spawns

REPO = common.REPO
LAYER = REPO / "layers" / "common"
TEMPLATE = REPO / "template.yaml"
FORMATS = ["txt", "md", "pdf", "epub", "docx"]
BRIEF = {"production_type": "novel", "target_length": 80_000, "genre": "fantasy", "character_count": 4,
         "subject": "A cartographer discovers that her maps change the land they describe",
         "style_instructions": "Lyrical but clear"}
JOB_ID = "memory-80k"
ASSEMBLY_GOAL_MIB = 256
EXPORT_GOAL_MIB = 512
EXPORT_GOAL_SECONDS = 10
LAMBDA_UNZIPPED_LIMIT = 262_144_000
# Lambda gives a function one full vCPU at 1,769 MB and a proportional share below it.
FULL_VCPU_MB = 1769
# aws-lambda-builders' PythonPipWorkflow.EXCLUDED_FILES: what `sam build` leaves out of copied sources.
SAM_EXCLUDED = (".aws-sam", ".chalice", ".git", ".gitignore", "*.pyc", "__pycache__", "*.so", ".Python",
                "*.egg-info", "*.egg", "pip-log.txt", "pip-delete-this-directory.txt", "htmlcov", ".tox",
                ".nox", ".coverage", ".cache", ".pytest_cache", ".python-version", ".mypy_cache",
                ".dmypy.json", ".pyre", ".env", ".venv", "venv", "venv.bak", "env.bak", "ENV", "env",
                ".vscode", ".idea")
CHILD_TIMEOUT = 300
AWS_SDK = {"boto3", "botocore", "s3transfer"}
# What a stage-10 invocation has loaded: the function's app (Lambda's init phase), the OpenAI provider that
# `provider_for` builds before every stage in production, and stage 10's publisher.
STAGE_RUNNER_MODULES = ("functions.stage_runner.app", "narraforge.llm.openai_provider",
                        "narraforge.pipeline.publish")
EXPORT_MODULES = ("functions.narratives.app",)  # the API function that builds exports


def encode_json(value: Any) -> bytes:
    """The bytes `s3.put_json` stores."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def rss() -> dict[str, float]:
    """ru_maxrss (what the brief asks for) and the kernel's VmHWM/VmRSS of this process's own memory, MiB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {"ru_maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "vm_hwm_mib": round(int(status["VmHWM"].split()[0]) / 1024, 1),
            "vm_rss_mib": round(int(status["VmRSS"].split()[0]) / 1024, 1)}


# --- children -------------------------------------------------------------------------------------------


def child_prepare(root: Path, words: str) -> dict[str, Any]:
    """Stages 1-9 (and the pipeline's own stage 10) in memory; their outputs written as the runner stores them.
    Its peak RSS bounds any single stage's, all ten having run in one process (with the offline engine)."""
    from narraforge.schemas.briefs import ProductionBrief

    from narraforge_dev.pipeline_double import run_pipeline

    started = time.perf_counter()
    brief = ProductionBrief(**{**BRIEF, "target_length": int(words)})
    ctx, narrative = run_pipeline(brief, job_id=JOB_ID)
    (root / "brief.json").write_text(brief.model_dump_json())
    for stage, output in ctx.outputs.items():
        if stage is not Stage.OUTPUT_PROCESSING:
            (root / f"{stage.value}.json").write_bytes(encode_json(output))
    for stage, outputs in ctx.segments.items():
        (root / stage.value).mkdir()
        for index, output in outputs.items():
            (root / stage.value / f"{index}.json").write_bytes(encode_json(output))
    (root / "narrative.txt").write_bytes(narrative.text.encode("utf-8"))
    (root / "metadata.json").write_bytes(encode_json(narrative.metadata))
    (root / "head.json").write_bytes(encode_json({"title": narrative.title, "word_count": narrative.word_count}))
    return {"words": narrative.word_count, "segments": len(ctx.output_of(Stage.SEGMENT_PLANNING)["segments"]),
            "text_bytes": len(narrative.text.encode("utf-8")), "seconds": round(time.perf_counter() - started, 2),
            "whole_pipeline_peak": rss()}


@dataclass
class StoredOutputs:
    """The StageContext stage 10 sees: earlier outputs read and parsed one object at a time, stage outputs
    cached, as the runner's S3-backed `JobStageContext` does; stage 10 makes no LLM call."""

    root: Path
    brief: Any  # a ProductionBrief, imported by the child only
    job_id: str = JOB_ID
    stage: Stage = Stage.OUTPUT_PROCESSING
    segment: int | None = None
    instructions: str | None = None
    cache: dict[Stage, dict[str, Any]] = field(default_factory=dict)

    def output_of(self, stage: Stage) -> dict[str, Any]:
        if stage not in self.cache:
            self.cache[stage] = json.loads((self.root / f"{stage.value}.json").read_bytes())
        return self.cache[stage]

    def segment_output(self, stage: Stage, index: int) -> dict[str, Any] | None:
        path = self.root / stage.value / f"{index}.json"
        return json.loads(path.read_bytes()) if path.exists() else None

    def segment_outputs(self, stage: Stage) -> list[dict[str, Any]]:
        count = len(self.output_of(Stage.SEGMENT_PLANNING)["segments"])
        return [json.loads((self.root / stage.value / f"{i}.json").read_bytes()) for i in range(count)]

    def complete(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("stage 10 makes no LLM call")


def child_assemble(root: Path) -> dict[str, Any]:
    for name in STAGE_RUNNER_MODULES:
        import_module(name)
    from narraforge.data.aws import client
    from narraforge.pipeline.stages.output_processing import assemble
    from narraforge.schemas.briefs import ProductionBrief

    client("s3")
    baseline = rss()
    started = time.perf_counter()
    ctx = StoredOutputs(root, ProductionBrief.model_validate_json((root / "brief.json").read_bytes()))
    narrative = assemble(ctx)
    bodies = [narrative.text.encode("utf-8"), encode_json(narrative.metadata)]
    seconds = time.perf_counter() - started
    return {"baseline": baseline, "peak": rss(), "seconds": round(seconds, 3), "words": narrative.word_count,
            "text_bytes": len(bodies[0]), "metadata_bytes": len(bodies[1])}


def child_export(root: Path, fmt: str) -> dict[str, Any]:
    for name in EXPORT_MODULES:
        import_module(name)
    from narraforge.enums import ExportFormat
    from narraforge.exports import build
    from narraforge.exports.document import build_document

    head = json.loads((root / "head.json").read_bytes())
    brief = json.loads((root / "brief.json").read_bytes())
    baseline = rss()
    started = time.perf_counter()
    doc = build_document(
        (root / "narrative.txt").read_bytes().decode("utf-8"), json.loads((root / "metadata.json").read_bytes()),
        narrative_id=JOB_ID, version=1, title=head["title"], genre=brief["genre"],
        production_type=brief["production_type"], word_count=head["word_count"],
    )
    body = build(doc, ExportFormat(fmt))
    seconds = time.perf_counter() - started
    return {"baseline": baseline, "peak": rss(), "seconds": round(seconds, 3), "bytes": len(body)}


CHILDREN = {"prepare": child_prepare, "assemble": child_assemble, "export": child_export}


def spawn(*args: str) -> dict[str, Any]:
    """Runs this script as a child and returns the JSON of its last line."""
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT, cwd=REPO)
    if done.returncode:
        raise RuntimeError(f"child {args} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- template and package sizes ----------------------------------------------------------------------------


def template_functions() -> dict[str, dict[str, Any]]:
    """Every AWS::Serverless::Function with its CodeUri and MemorySize (Globals' when it sets none)."""
    text = TEMPLATE.read_text()
    default = int(re.search(r"^Globals:.*?^    MemorySize: (\d+)", text, re.M | re.S).group(1))  # type: ignore[union-attr]
    found = {}
    for match in re.finditer(r"^  (\w+):\n    Type: AWS::Serverless::Function\n(.*?)(?=^  \w+:\n|\Z)", text,
                             re.M | re.S):
        block = match.group(2)
        memory = re.search(r"^      MemorySize: (\d+)", block, re.M)
        found[match.group(1)] = {"code_uri": re.search(r"^      CodeUri: (\S+)", block, re.M).group(1),  # type: ignore[union-attr]
                                 "memory_mb": int(memory.group(1)) if memory else default}
    return found


def excluded(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in SAM_EXCLUDED)


def copy_sources(source: Path, target: Path) -> None:
    """What SAM's CopySourceAction copies: the folder minus its excluded names, at any depth."""
    shutil.copytree(source, target, ignore=lambda _, names: [n for n in names if excluded(n)], dirs_exist_ok=True)


def tree_size(path: Path) -> tuple[int, int]:
    """(bytes, files) of the regular files under `path`."""
    total = files = 0
    for folder, _, names in os.walk(path):
        for name in names:
            file = Path(folder, name)
            if file.is_file() and not file.is_symlink():
                total += file.stat().st_size
                files += 1
    return total, files


# Every manylinux tag the python3.12 runtime's glibc (2.34) loads; pip does not expand them from the newest.
LAMBDA_PLATFORMS = [arg for minor in range(34, 16, -1) for arg in ("--platform", f"manylinux_2_{minor}_x86_64")]
LAMBDA_PLATFORMS += ["--platform", "manylinux2014_x86_64"]


def build_layer(target: Path) -> None:
    """The layer as `sam build` lays it out: dependencies for the Lambda platform, then the sources, under python/."""
    site = target / "python"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
         "--requirement", str(LAYER / "requirements.txt"), "--target", str(site),
         *LAMBDA_PLATFORMS, "--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp"],
        capture_output=True, text=True, timeout=CHILD_TIMEOUT,
    )
    if done.returncode:
        raise RuntimeError(f"pip could not build the layer:\n{done.stderr[-4000:]}")
    copy_sources(LAYER, site)


def measure_sizes() -> list[dict[str, Any]]:
    """The layer, then every function with the layer added (Lambda's limit counts both, unzipped)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="narraforge-layer-") as tmp:
        build_layer(Path(tmp))
        site = Path(tmp) / "python"
        layer_bytes, layer_files = tree_size(Path(tmp))
        largest = sorted(((tree_size(p)[0], p.name) for p in site.iterdir() if p.is_dir()), reverse=True)[:8]
        # The runtime has its own boto3/botocore; a copy in the layer comes first on sys.path and shadows it.
        sdk = sorted(p.name.removesuffix(".dist-info") for p in site.glob("*.dist-info")
                     if p.name.split("-")[0].lower() in AWS_SDK)
        rows.append({"measurement": "size", "package": "CommonLayer", "bytes": layer_bytes, "files": layer_files,
                     "mib": round(layer_bytes / 2**20, 1),
                     "narraforge_mib": round(tree_size(site / "narraforge")[0] / 2**20, 2),
                     "largest_mib": {name: round(size / 2**20, 1) for size, name in largest},
                     "bundled_aws_sdk": sdk})
    for name, spec in template_functions().items():
        with tempfile.TemporaryDirectory(prefix="narraforge-fn-") as tmp:
            copy_sources(REPO / spec["code_uri"], Path(tmp))
            code_bytes, _ = tree_size(Path(tmp))
        total = code_bytes + layer_bytes
        rows.append({"measurement": "size", "package": name, "code_uri": spec["code_uri"], "code_bytes": code_bytes,
                     "with_layer_bytes": total, "with_layer_mib": round(total / 2**20, 1),
                     "limit_bytes": LAMBDA_UNZIPPED_LIMIT, "within_limit": total <= LAMBDA_UNZIPPED_LIMIT,
                     "headroom_mib": round((LAMBDA_UNZIPPED_LIMIT - total) / 2**20, 1)})
    return rows


# --- the parent ----------------------------------------------------------------------------------------------


def emit(row: dict[str, Any]) -> None:
    print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per export format (median time)")
    parser.add_argument("--words", type=int, default=BRIEF["target_length"],
                        help="target length of the novel (30,000-200,000)")
    parser.add_argument("--skip-size", action="store_true", help="skip the layer build (needs PyPI)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, root, *rest = args.child
        print(json.dumps(CHILDREN[kind](Path(root), *rest)), flush=True)
        return

    functions = template_functions()
    runner_mb = functions["StageRunnerFunction"]["memory_mb"]
    export_mb = functions["NarrativesFunction"]["memory_mb"]
    goals: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="narraforge-memory-") as tmp:
        brief = {**BRIEF, "target_length": args.words}
        emit({"measurement": "prepare", "brief": brief, **spawn("prepare", tmp, str(args.words))})
        assembled = spawn("assemble", tmp)
        emit({"measurement": "assemble", "function": "StageRunnerFunction", "memory_mb": runner_mb, **assembled})
        goals["assemble_peak_le_256mib"] = assembled["peak"]["ru_maxrss_mib"] <= ASSEMBLY_GOAL_MIB
        for fmt in FORMATS:
            runs = [spawn("export", tmp, fmt) for _ in range(args.runs)]
            seconds = statistics.median(r["seconds"] for r in runs)
            peak = max(r["peak"]["ru_maxrss_mib"] for r in runs)
            emit({"measurement": "export", "format": fmt, "function": "NarrativesFunction", "memory_mb": export_mb,
                  "bytes": runs[0]["bytes"],
                  "baseline_ru_maxrss_mib": max(r["baseline"]["ru_maxrss_mib"] for r in runs),
                  "peak_ru_maxrss_mib": peak, "peak_vm_hwm_mib": max(r["peak"]["vm_hwm_mib"] for r in runs),
                  "median_seconds": seconds, "runs_seconds": [r["seconds"] for r in runs],
                  "lambda_cpu_share": round(min(1.0, export_mb / FULL_VCPU_MB), 2),
                  "lambda_estimate_seconds": round(seconds * max(1.0, FULL_VCPU_MB / export_mb), 2)})
            goals[f"export_{fmt}_peak_le_512mib"] = peak <= EXPORT_GOAL_MIB
            goals[f"export_{fmt}_le_10s"] = seconds <= EXPORT_GOAL_SECONDS
    if not args.skip_size:
        for row in measure_sizes():
            emit(row)
            if "within_limit" in row:
                goals[f"size_{row['package']}_le_250mb"] = row["within_limit"]
    emit({"goals": goals, "all_met": all(goals.values())})


if __name__ == "__main__":
    main()
