"""Generated projects really work: lint clean, their own tests pass, the pipeline runs offline.

Every row of the catalogue's test matrix (kind x variant) is generated and checked in an
environment built from the project's own dependencies (tests/project_envs.py). These take
seconds each; `-m "not slow"` skips them for a quick loop.
"""

from __future__ import annotations

import json
import lzma
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import new_project
from project_envs import env_python

from mlscaffold import catalog

pytestmark = pytest.mark.slow
tomllib = pytest.importorskip("tomllib")


def _run(args: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _new(tmp_path: Path, kind: str = "sentiment-classifier", **answers: Any) -> Path:
    return new_project(tmp_path / "project", kind, **{"package_name": "generated", **answers})


def test_variant_lints_tests_and_runs_on_the_sample(
    tmp_path: Path, variant: tuple[str, dict]
) -> None:
    kind, answers = variant
    root = _new(tmp_path, kind, **answers)
    python = str(env_python(root))
    for check in (["check", "."], ["format", "--check", "."]):
        done = _run([python, "-m", "ruff", *check], root)
        assert done.returncode == 0, done.stdout + done.stderr
    # a kind's Spark tests (a JVM start, about 20 s) run in its first row: the other rows
    # change the data, not the engine
    spark = [] if answers == catalog.get(kind).variants[0] else ["-m", "not spark"]
    done = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *spark], root)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and " failed" not in summary, summary
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    if not spark and shutil.which("java"):  # Spark needs Java (.ci/run installs it)
        assert not [line for line in skipped if "spark" in line.lower()], skipped

    done = _run([python, "-m", "generated", "all", "--sample"], root)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((root / "reports" / "metrics.json").read_text())
    assert report["data"]["sample"] is True and report["data"]["checksum"].startswith("sha256:")
    probe = "from generated import steps; print(steps.HEADLINE, steps.HIGHER_IS_BETTER)"
    headline, higher = _run([python, "-c", probe], root).stdout.split()
    model, baseline = report["model"][headline], report["baseline"][headline]
    assert (model > baseline) if higher == "True" else (model < baseline), (model, baseline)
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "**Sample data" in readme and "Not run yet" not in readme
    assert "not a real result" in (root / "MODEL_CARD.md").read_text(encoding="utf-8")
    done = _run(["make", "help"], root)
    assert done.returncode == 0 and "train" in done.stdout
    assert "\033[" not in done.stdout, "no colour codes when not on a terminal"


def test_ci_badge_names_the_repository_folder(tmp_path: Path) -> None:
    root = new_project(tmp_path / "my-sentiment-repo", github_user="octocat")
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "github.com/octocat/my-sentiment-repo/actions/workflows/ci.yml" in readme


@pytest.mark.parametrize("python_version", ["3.10", "3.12", "3.13"])
def test_every_python_version_lints_clean(tmp_path: Path, python_version: str) -> None:
    root = _new(tmp_path, python_version=python_version, sentiment_dataset="uci")
    assert f'requires-python = ">={python_version}"' in (root / "pyproject.toml").read_text()
    for check in (["check", "."], ["format", "--check", "."]):
        done = _run([sys.executable, "-m", "ruff", *check], root)
        assert done.returncode == 0, done.stdout + done.stderr


def test_license_choices(tmp_path: Path) -> None:
    texts = {"MIT": "MIT License", "Apache-2.0": "Apache License", "BSD-3-Clause": "BSD 3-Clause"}
    for license_id, marker in texts.items():
        root = _new(tmp_path / license_id, license=license_id, author_name="Ada Lovelace")
        assert marker in (root / "LICENSE").read_text()
        assert f'license = "{license_id}"' in (root / "pyproject.toml").read_text()
    root = _new(tmp_path / "none", license="none")
    assert not (root / "LICENSE").exists()
    assert "license" not in (root / "pyproject.toml").read_text().split("[project.optional")[0]


def test_workflows_pass_actionlint_and_a_long_package_name_lints(
    tmp_path: Path, variant: tuple[str, dict]
) -> None:
    """The workflows pass actionlint; with the longest package name the project's lines
    (imports, commands) still lint clean."""
    actionlint = shutil.which("actionlint") or shutil.which(
        "actionlint", path=os.path.dirname(sys.executable)
    )
    assert actionlint, "actionlint is a test dependency (pip install -e '.[test]')"
    kind, answers = variant
    longest = {"package_name": "p" * 40}
    for index, extra in enumerate([longest, {"python_version": "3.13", "github_user": "octocat"}]):
        root = _new(tmp_path / str(index), kind, **answers, **extra)
        if extra is longest:
            for check in (["check", "."], ["format", "--check", "."]):
                done = _run([sys.executable, "-m", "ruff", *check], root)
                assert done.returncode == 0, done.stdout + done.stderr
        workflows = sorted((root / ".github" / "workflows").glob("*.yml"))
        assert [w.name for w in workflows] == ["ci.yml", "space.yml"]
        done = subprocess.run(
            [actionlint, "-no-color", *map(str, workflows)],
            capture_output=True,
            text=True,
            cwd=root,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "make all SAMPLE=1" in workflows[0].read_text()
        space = workflows[1].read_text()
        owner = "'octocat'" if "github_user" in extra else "github.repository_owner"
        package = extra.get("package_name", "generated")  # hf_user: github_user
        assert f"format('{{0}}/{{1}}', {owner}, '{package}')" in space and "make space" in space


@pytest.mark.skipif(
    not os.environ.get("MLSCAFFOLD_INSTALL_TEST"),
    reason="installs from PyPI: set MLSCAFFOLD_INSTALL_TEST=1 (CI does)",
)
def test_make_install_then_pipeline(tmp_path: Path) -> None:
    """What a user runs: `new` commits the lock shipped for this template version, `make
    install` syncs from it with uv (--locked: the lock still matches pyproject.toml) from the
    real index, then the pipeline on the sample."""
    from mlscaffold import uvlock
    from mlscaffold.generate import NewRequest, generate

    root = tmp_path / "project"
    result = generate(
        NewRequest(
            kind="sentiment-classifier",
            dest=root,
            defaults=True,
            data={"package_name": "generated"},
            lock=True,
        )
    )
    assert result.locked and result.committed, result.notes
    shipped = lzma.decompress(uvlock.shipped_lock("sentiment-classifier").read_bytes()).decode()
    expected = shipped.replace(f'"{uvlock.PLACEHOLDER}"', '"generated"')
    assert (root / "uv.lock").read_text(encoding="utf-8") == expected
    assert "uv.lock" in _run(["git", "ls-files"], root).stdout.split()
    uv = uvlock.uv_binary()
    assert uv, "uv is a dependency of mlscaffold"
    path = f"{os.path.dirname(uv)}{os.pathsep}{os.environ['PATH']}"
    done = subprocess.run(
        ["make", "install"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PATH": path},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "install: uv sync --locked --extra dev --extra serve into .venv" in done.stdout
    assert _run(["git", "status", "--porcelain"], root).stdout == ""  # the lock is unchanged
    venv_python = root / ".venv" / "bin" / "python"
    done = subprocess.run(
        ["make", "lint", "all", "SAMPLE=1"], cwd=root, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    done = subprocess.run(
        [str(venv_python), "-m", "generated", "predict", "Loved it, wonderful."],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.split("\t")[0] in ("positive", "negative")
