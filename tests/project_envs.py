"""Virtual environments built from a generated project's own dependencies.

A generated project must work with what its pyproject.toml asks for, not with whatever
mlscaffold's test extra happens to hold. Each distinct dependency set gets one environment
under .test-envs/ (git-ignored), built once and reused by every project that needs the same
set, in this test session and later ones (the key is a hash of the requirements).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: tests run one at a time there
    fcntl = None  # type: ignore[assignment]

ENVS = Path(__file__).resolve().parents[1] / ".test-envs"


def requirements(project: Path) -> list[str]:
    """Runtime and dev dependencies of a generated project (its pyproject.toml), plus the
    optional groups its tests exercise (mlflow; search: Optuna; spark: PySpark, with the
    machine's Java): what the whole suite needs."""
    import tomllib

    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = meta.get("optional-dependencies", {})
    wanted = meta["dependencies"] + extras.get("dev", [])
    for group in ("mlflow", "search", "spark"):
        wanted += extras.get(group, [])
    return sorted(wanted)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder per environment when tests run in parallel (pytest -n): the others wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def env_python(project: Path) -> Path:
    """The python of an environment holding exactly the project's requirements."""
    wanted = requirements(project)
    key = hashlib.sha256(("\n".join(wanted) + sys.version).encode()).hexdigest()[:12]
    env = ENVS / key
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if (env / ".ready").is_file():
        return python
    with _locked(ENVS / f"{key}.lock"):
        if not (env / ".ready").is_file():
            _build(env, python, wanted)
    return python


def _build(env: Path, python: Path, wanted: list[str]) -> None:
    shutil.rmtree(env, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"installing {wanted} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    (env / ".ready").write_text("\n".join(wanted) + "\n")
