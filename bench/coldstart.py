"""Cold-start import cost of each Lambda function, against the unavoidable dependencies alone.

    .venv/bin/python bench/coldstart.py [--runs 5]

Each figure is the median over fresh interpreter processes of the time to import the function's
`app` module (what Lambda's init phase pays) vs. importing fastapi, mangum, boto3 and pynamodb.
The stage runner's baseline is boto3 + pynamodb (it must not import fastapi)."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
API_FUNCTIONS = ["auth", "projects", "jobs", "narratives", "health"]
BASELINE_API = "import fastapi, mangum, boto3, pynamodb.models"
BASELINE_RUNNER = "import boto3, pynamodb.models"

PROBE = """
import sys, time
sys.path[:0] = [{repo!r}, {layer!r}]
started = time.perf_counter()
{statement}
elapsed = time.perf_counter() - started
heavy = sorted(m for m in ("openai", "fpdf", "ebooklib", "docx", "fastapi", "moto") if m in sys.modules)
print(elapsed, ",".join(heavy))
"""


def measure(statement: str, runs: int) -> tuple[float, str]:
    times, heavy = [], ""
    for _ in range(runs):
        code = PROBE.format(repo=str(REPO), layer=str(REPO / "layers/common"), statement=statement)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={"PATH": "/usr/bin:/bin"}).stdout.split()
        times.append(float(out[0]))
        heavy = out[1] if len(out) > 1 else ""
    return statistics.median(times), heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    api_base, _ = measure(BASELINE_API, args.runs)
    runner_base, _ = measure(BASELINE_RUNNER, args.runs)
    for name in [*API_FUNCTIONS, "stage_runner"]:
        seconds, heavy = measure(f"import functions.{name}.app", args.runs)
        base = runner_base if name == "stage_runner" else api_base
        print(json.dumps({"function": name, "import_ms": round(seconds * 1000, 1),
                          "dependencies_ms": round(base * 1000, 1), "ratio": round(seconds / base, 2),
                          "heavy_modules_loaded": heavy.split(",") if heavy else []}), flush=True)


if __name__ == "__main__":
    main()
