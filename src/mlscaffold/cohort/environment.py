"""The grading environment: a virtual environment with a project's own dependencies.

Built once from the reference project's pyproject.toml (runtime, dev and the optional groups
its tests exercise), keyed by those requirements and the Python version, and reused by every
later grading run; it is mounted read-only into every sandbox, so no student can change the
interpreter another student is graded with. The project itself is not installed into it:
each sandbox imports the graded tree's own `src/`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from mlscaffold.errors import MlscaffoldError

try:
    import fcntl
except ImportError:  # Windows: one builder at a time there
    fcntl = None  # type: ignore[assignment]

# optional groups a generated project's tests exercise (MLflow logging, Optuna, PySpark, the
# FastAPI server, the Gradio demo)
TESTED_GROUPS = ("dev", "mlflow", "search", "spark", "serve", "demo")
CACHE_ENV = "MLSCAFFOLD_ENV_CACHE"


def cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlscaffold" / "envs"


def requirements(project: Path, groups: tuple[str, ...] = TESTED_GROUPS) -> list[str]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = meta.get("optional-dependencies", {})
    wanted = list(meta["dependencies"])
    for group in groups:
        wanted += extras.get(group, [])
    return sorted(wanted)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder per environment; others (parallel tests, a second grader) wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def python_for(
    project: Path,
    root: Path | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> Path:
    """The python of an environment holding exactly the project's requirements."""
    wanted = requirements(project)
    key = hashlib.sha256(("\n".join(wanted) + sys.version).encode()).hexdigest()[:12]
    env = (root or cache_root()) / key
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if (env / ".ready").is_file():
        return python
    with _locked(env.with_name(f"{key}.lock")):
        if not (env / ".ready").is_file():
            progress(f"building the grading environment in {env} (once; a few minutes)")
            _build(env, python, wanted)
    return python


# pip's settings that decide where packages come from, as uv's options of the same meaning
_PIP_TO_UV = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "constraint": "--constraint",
}


def _pip_sources() -> list[str]:
    """pip's configuration (pip.conf, PIP_* variables) as uv options, so that uv installs
    from the same indexes, links and constraints as pip would on this machine."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    )
    pairs: dict[tuple[str, str], None] = {}  # in order, once (pip.conf and PIP_* repeat)
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        flag = _PIP_TO_UV.get(key.rsplit(".", 1)[-1])
        for item in value.strip().strip("'\"").split() if flag else []:
            pairs[(flag, item)] = None
    return [part for pair in pairs for part in pair]


def _build_with_uv(env: Path, python: Path, wanted: list[str]) -> bool:
    """uv builds the environment several times faster than pip; False where it cannot."""
    from mlscaffold.uvlock import uv_binary

    uv = uv_binary()
    if uv is None:
        return False
    quiet = {"capture_output": True, "text": True, "timeout": 1800}
    made = subprocess.run(
        [uv, "venv", "--seed", "--quiet", "--python", sys.executable, str(env)], **quiet
    )
    # pip's resolution: the best version across every index, not the first index's;
    # bytecode compiled now, as pip does: uv skips it, and where .pyc cannot be written (the
    # grading sandbox, PYTHONDONTWRITEBYTECODE) every process recompiled scikit-learn, SciPy
    # and pandas from source: 10-20 s per `python -m <package>` on a loaded 2-core machine
    install = [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python)]
    sources = [*_pip_sources(), "--index-strategy", "unsafe-best-match"]
    if (
        made.returncode == 0
        and subprocess.run([*install, *sources, *wanted], **quiet).returncode == 0
    ):
        # what `--seed` put there (setuptools' _distutils_hack, imported by every process)
        # is not compiled by uv: compile it now, or the first host-side run writes .pyc files
        # into an environment that must not change once built
        subprocess.run([str(python), "-m", "compileall", "-q", str(env / "lib")], **quiet)
        return True
    shutil.rmtree(env, ignore_errors=True)
    return False


def _settle(env: Path) -> None:
    """What a package writes into itself on first import, written now: an environment must
    not change once built (the sandbox mounts it read-only; a test run shares it between
    processes). Gradio keeps a random hash seed beside its code."""
    for package in env.glob("lib/python*/site-packages/gradio"):
        seed = package / "hash_seed.txt"
        if not seed.exists():
            seed.write_text(uuid.uuid4().hex)


def _build(env: Path, python: Path, wanted: list[str]) -> None:
    shutil.rmtree(env, ignore_errors=True)
    if _build_with_uv(env, python, wanted):
        _settle(env)
        (env / ".ready").write_text("\n".join(wanted) + "\n")
        return
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise MlscaffoldError(
            f"cannot build the grading environment: {last}",
            "check the network to the package index, or pass --python with a ready one",
        )
    _settle(env)
    (env / ".ready").write_text("\n".join(wanted) + "\n")
