"""Every pinned runtime dependency installs on the Lambda runtime the template names.

`sam build` resolves layers/common/requirements.txt with the local Python of the runtime's version, then needs a
wheel of each resolved version for the runtime's platform. A version with no wheel the runtime can load (pillow
13.0.0 on python3.11: manylinux_2_28 wheels only, Amazon Linux 2 has glibc 2.26) makes the stack undeployable
while every local test passes. This does the same two steps with pip's dry run, which installs nothing and reads
only metadata from the index; like `sam build`, it accepts a package published only as an sdist when that builds
a pure-Python wheel.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from narraforge_dev.local.template import load_template

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "layers/common/requirements.txt"

# glibc of each Lambda Python runtime's OS: Amazon Linux 2 (2.26) up to python3.11, Amazon Linux 2023 (2.34) after.
RUNTIME_GLIBC = {"python3.9": 26, "python3.10": 26, "python3.11": 26, "python3.12": 34, "python3.13": 34,
                 "python3.14": 34}
LAMBDA_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}


def runtime_and_arch() -> tuple[str, str]:
    function_globals = load_template()["Globals"]["Function"]
    (architecture,) = function_globals["Architectures"]
    return function_globals["Runtime"], LAMBDA_ARCH[architecture]


def manylinux_platforms(glibc_minor: int, arch: str) -> list[str]:
    """Every manylinux tag a glibc 2.<glibc_minor> system loads (pip does not expand them by itself)."""
    platforms = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc_minor, 16, -1)]
    return [*platforms, f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"],
                          capture_output=True, text=True, timeout=300)


def resolved_versions(requirements: Path) -> list[str]:
    """`name==version` of the requirements and their dependencies, resolved here as `sam build` does."""
    result = _pip("install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-", "-r", str(requirements))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    return sorted(f"{item['metadata']['name']}=={item['metadata']['version']}" for item in report["install"])


def resolve_for_runtime(pins: Path, runtime: str, arch: str, find_links: Path) -> subprocess.CompletedProcess[str]:
    """pip's dry run of installing exactly these versions as wheels for the runtime's interpreter and platform."""
    version = runtime.removeprefix("python")
    platforms = [arg for tag in manylinux_platforms(RUNTIME_GLIBC[runtime], arch) for arg in ("--platform", tag)]
    return _pip("install", "--dry-run", "--ignore-installed", "--no-deps", "--only-binary=:all:",
                "--find-links", str(find_links), "--target", str(find_links / "target"),
                "--python-version", version, "--implementation", "cp", "--abi", "cp" + version.replace(".", ""),
                *platforms, "-r", str(pins))


def packages_without_wheel(result: subprocess.CompletedProcess[str]) -> list[str]:
    return re.findall(r"No matching distribution found for (\S+)", result.stderr)


def build_pure_python_wheel(requirement: str, wheels: Path) -> bool:
    """True when the package has no wheel at all and its sdist builds a py3-none-any wheel (loads anywhere)."""
    downloads = wheels / "downloads"
    if _pip("download", "--no-deps", "--dest", str(downloads), requirement).returncode != 0:
        return False
    (archive,) = [path for path in downloads.iterdir() if path.is_file()]
    try:
        if archive.suffix == ".whl":  # it has wheels, only none for the runtime's platform
            return False
        built = _pip("wheel", "--no-deps", "--wheel-dir", str(wheels), str(archive))
        return built.returncode == 0 and any(wheel.name.endswith("-none-any.whl") for wheel in wheels.glob("*.whl"))
    finally:
        archive.unlink()


def unloadable_requirements(requirements: Path, runtime: str, arch: str, workdir: Path
                            ) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """The resolved versions (pinned or transitive) with no wheel the runtime can load, and pip's last answer."""
    pins = workdir / "resolved.txt"
    pins.write_text("\n".join(resolved_versions(requirements)) + "\n")
    wheels = workdir / "pure-python-wheels"
    wheels.mkdir()
    accepted: set[str] = set()
    while True:
        result = resolve_for_runtime(pins, runtime, arch, wheels)
        missing = packages_without_wheel(result)
        if result.returncode == 0 or not missing or missing[0] in accepted:
            return missing, result
        if not build_pure_python_wheel(missing[0], wheels):
            return missing, result
        accepted.add(missing[0])


def failure_message(missing: list[str], result: subprocess.CompletedProcess[str], runtime: str, arch: str) -> str:
    return (f"no wheel the Lambda runtime {runtime}/{arch} can load for: {', '.join(missing) or '(see pip)'}\n"
            f"pin a version that ships one\n{result.stderr[-3000:]}")


def test_every_pinned_runtime_dependency_has_a_wheel_for_the_lambda_runtime(tmp_path):
    runtime, arch = runtime_and_arch()
    missing, result = unloadable_requirements(REQUIREMENTS, runtime, arch, tmp_path)
    assert result.returncode == 0, failure_message(missing, result, runtime, arch)
    assert "Would install" in result.stdout


def test_the_check_names_a_pin_the_runtime_cannot_load(tmp_path):
    """The deployment that failed: pillow 13.0.0 has no manylinux2014 (glibc <= 2.26) wheel for CPython 3.11."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("httpx==0.28.1\npillow==13.0.0\n")
    missing, result = unloadable_requirements(requirements, "python3.11", "x86_64", tmp_path)
    assert result.returncode != 0
    assert missing == ["pillow==13.0.0"]
    assert "pillow==13.0.0" in failure_message(missing, result, "python3.11", "x86_64")
