"""Time to first result, as a new user meets it: install the tool, generate, install, run.

    python benchmarks/bench_first_result.py [--kinds sentiment-classifier recommender ...]
                                            [--compare-pip] [--shipped] [--tool-installer uv]

Per kind, in a fresh HOME with empty pip and uv caches (a temporary folder, removed after):
`pip install` of mlscaffold's wheel into a fresh virtual environment (the wheel is built
once beforehand, untimed: a user downloads it), `mlscaffold new KIND --defaults` (the
shipped lock where it fits, else `uv lock`), `make install` (uv sync --locked, with the uv
that came with mlscaffold on PATH as in an activated environment) and `make all SAMPLE=1`.
Goals: <= 20 s for sentiment, recommender and Kaggle; <= 60 s for the image kind (it
installs PyTorch).

--compare-pip also times, back to back with empty caches, the same project's dependencies
installed by `pip install -e ".[dev,serve]"` against `uv sync --locked`.

Caches are empty but the package index is whatever this machine reaches (a registry mirror
on a build machine is faster than a laptop's link to PyPI); pip also reads the machine's
pip.conf. By default the project comes from templates/ as they are now (cut into a
temporary bundle); --shipped uses the bundle inside the wheel.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIGHT = ("sentiment-classifier", "recommender", "kaggle-entry")
GOALS = {"image-classifier": 60.0}
STEPS = ("tool install", "new", "make install", "make all SAMPLE=1")


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 1800) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def fresh_env(tmp: Path) -> dict[str, str]:
    """A new user's environment: empty HOME and caches, no git identity, no venv active, and
    Python writing bytecode as it does by default (this machine's shell sets
    PYTHONDONTWRITEBYTECODE, which made every step compile pandas and scikit-learn again)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLSCAFFOLD_", "UV_", "VIRTUAL_ENV", "GIT_", "PYTHONDONTWRITE"))
    }
    home = tmp / "home"
    home.mkdir(parents=True)
    return {
        **env,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(tmp / "cache"),
        "UV_CACHE_DIR": str(tmp / "cache" / "uv"),
        "PIP_CACHE_DIR": str(tmp / "cache" / "pip"),
        "NO_COLOR": "1",
    }


def build_wheel(out: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(ROOT)], ROOT, env)
    return next(out.glob("mlscaffold_cli-*.whl"))


def current_bundle(out: Path) -> Path:
    """The shipped bundle with its newest version re-cut from templates/ as they are now."""
    spec = importlib.util.spec_from_file_location("release", ROOT / "scripts" / "release.py")
    assert spec and spec.loader
    release = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(release)
    bundle = out / "templates.bundle"
    shutil.copyfile(ROOT / "src" / "mlscaffold" / "data" / "templates.bundle", bundle)
    release.release(
        release.package_version(), replace=True, bundle=bundle, templates=ROOT / "templates"
    )
    return bundle


def install_tool(tool: Path, wheel: Path, installer: str, tmp: Path, env: dict[str, str]) -> float:
    """Seconds to install the tool into a new virtual environment, as the README says (pip)
    or as a uv user does (`uv venv` + `uv pip install`; uv from PATH, else beside this Python)."""
    if installer == "uv":
        uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
        if uv is None:
            sys.exit("--tool-installer uv: no uv on PATH or beside this Python")
        make = run([uv, "venv", "--quiet", "--python", sys.executable, str(tool)], tmp, env)
        python = str(tool / "bin" / "python")
        return make + run(
            [uv, "pip", "install", "--quiet", "--python", python, str(wheel)], tmp, env
        )
    subprocess.run([sys.executable, "-m", "venv", str(tool)], check=True)
    python = str(tool / "bin" / "python")
    return run([python, "-m", "pip", "install", "--quiet", str(wheel)], tmp, env)


def first_result(
    kind: str, wheel: Path, bundle: Path | None, installer: str = "pip"
) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="first-result-"))
    try:
        env = fresh_env(tmp)
        tool = tmp / "tool"
        times = {"tool install": install_tool(tool, wheel, installer, tmp, env)}
        env["PATH"] = f"{tool / 'bin'}{os.pathsep}{env['PATH']}"  # as in an activated venv
        if bundle is not None:
            env["MLSCAFFOLD_SHIPPED_BUNDLE"] = str(bundle)
        times["new"] = run(
            [str(tool / "bin" / "mlscaffold"), "new", kind, "p", "--defaults"], tmp, env
        )
        project = tmp / "p"
        if not (project / "uv.lock").is_file():
            sys.exit(f"{kind}: mlscaffold new wrote no uv.lock")
        times["make install"] = run(["make", "install"], project, env)
        times["make all SAMPLE=1"] = run(["make", "all", "SAMPLE=1"], project, env)
        return times
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compare_pip(kind: str, wheel: Path, bundle: Path | None) -> tuple[float, float]:
    """(pip, uv) seconds to install one project's dependencies, empty caches each time."""
    tmp = Path(tempfile.mkdtemp(prefix="pip-vs-uv-"))
    try:
        env = fresh_env(tmp)
        tool = tmp / "tool"
        subprocess.run([sys.executable, "-m", "venv", str(tool)], check=True)
        run([str(tool / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], tmp, env)
        env["PATH"] = f"{tool / 'bin'}{os.pathsep}{env['PATH']}"
        if bundle is not None:
            env["MLSCAFFOLD_SHIPPED_BUNDLE"] = str(bundle)
        run([str(tool / "bin" / "mlscaffold"), "new", kind, "p", "--defaults"], tmp, env)
        project = tmp / "p"
        subprocess.run([sys.executable, "-m", "venv", str(project / "pipvenv")], check=True)
        pip = run(
            [
                str(project / "pipvenv" / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "-e",
                ".[dev,serve]",
            ],
            project,
            env,
        )
        shutil.rmtree(tmp / "cache", ignore_errors=True)
        uv = run(["uv", "sync", "--locked", "--extra", "dev", "--extra", "serve"], project, env)
        return pip, uv
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kinds", nargs="+", default=list(LIGHT))
    parser.add_argument("--compare-pip", action="store_true")
    parser.add_argument("--shipped", action="store_true", help="use the wheel's own bundle")
    parser.add_argument(
        "--tool-installer",
        choices=("pip", "uv"),
        default="pip",
        help="install the tool with pip (the README's command) or uv pip",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-first-"))
    try:
        wheel = build_wheel(work)
        bundle = None if args.shipped else current_bundle(work)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"{os.cpu_count()} cores, load average {load:.1f} at the start, "
            f"tool installed with {args.tool_installer}"
        )
        print(f"{'kind':22}" + "".join(f"{s:>19}" for s in STEPS) + f"{'total':>9}{'goal':>7}")
        for kind in args.kinds:
            times = first_result(kind, wheel, bundle, args.tool_installer)
            total, goal = sum(times.values()), GOALS.get(kind, 20.0)
            mark = "ok" if total <= goal else "over"
            cells = "".join(f"{times[s]:>17.1f} s" for s in STEPS)
            print(f"{kind:22}{cells}{total:>7.1f} s{goal:>5.0f} s {mark}", flush=True)
        if args.compare_pip:
            for kind in args.kinds:
                pip, uv = compare_pip(kind, wheel, bundle)
                print(
                    f"{kind}: pip install -e .[dev,serve] {pip:.1f} s, uv sync --locked "
                    f"{uv:.1f} s: uv {pip / uv:.1f}x faster",
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
