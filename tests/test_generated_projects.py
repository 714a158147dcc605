"""Generated projects really work: lint clean, their own tests pass, the pipeline runs offline.

These run each project's suite (seconds each); `-m "not slow"` skips them for a quick loop.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import new_project

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _new(tmp_path: Path, **answers: str) -> Path:
    return new_project(tmp_path / "project", **{"package_name": "reviews", **answers})


@pytest.mark.parametrize("dataset", ["imdb", "sst2", "uci", "csv"])
def test_sentiment_project_lints_tests_and_runs(tmp_path: Path, dataset: str) -> None:
    root = _new(tmp_path, sentiment_dataset=dataset)
    for check in (["check", "."], ["format", "--check", "."]):
        done = _run([sys.executable, "-m", "ruff", *check], root)
        assert done.returncode == 0, done.stdout + done.stderr
    done = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout

    done = _run([sys.executable, "-m", "reviews", "all", "--sample"], root)
    assert done.returncode == 0, done.stderr
    report = json.loads((root / "reports" / "metrics.json").read_text())
    assert report["model"]["accuracy"] >= report["baseline"]["accuracy"] + 0.2
    expected_classes = 3 if dataset == "csv" else 2
    assert len(report["classes"]) == expected_classes
    assert "| majority-class baseline |" in (root / "README.md").read_text()


@pytest.mark.parametrize("python_version", ["3.10", "3.12", "3.13"])
def test_every_python_version_lints_clean(tmp_path: Path, python_version: str) -> None:
    root = _new(tmp_path, python_version=python_version, sentiment_dataset="uci")
    assert f'requires-python = ">={python_version}"' in (root / "pyproject.toml").read_text()
    for check in (["check", "."], ["format", "--check", "."]):
        done = _run([sys.executable, "-m", "ruff", *check], root)
        assert done.returncode == 0, done.stdout + done.stderr


def test_suite_environment_has_what_generated_projects_need(tmp_path: Path) -> None:
    """Our [test] extra must install every package a generated project's tests import."""
    import importlib.metadata
    import re

    tomllib = pytest.importorskip("tomllib")

    project = tomllib.loads((_new(tmp_path) / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    names = {re.split(r"[<>=!~; \[]", spec)[0] for spec in wanted} - {"pre-commit"}
    missing = []
    for name in sorted(names):
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    assert missing == [], f"add to [project.optional-dependencies] test: {missing}"


def test_license_choices(tmp_path: Path) -> None:
    texts = {"MIT": "MIT License", "Apache-2.0": "Apache License", "BSD-3-Clause": "BSD 3-Clause"}
    for license_id, marker in texts.items():
        root = _new(tmp_path / license_id, license=license_id, author_name="Ada Lovelace")
        assert marker in (root / "LICENSE").read_text()
        assert f'license = "{license_id}"' in (root / "pyproject.toml").read_text()
    root = _new(tmp_path / "none", license="none")
    assert not (root / "LICENSE").exists()
    assert "license" not in (root / "pyproject.toml").read_text().split("[project.optional")[0]


def test_workflows_pass_actionlint(tmp_path: Path) -> None:
    actionlint = shutil.which("actionlint") or shutil.which(
        "actionlint", path=os.path.dirname(sys.executable)
    )
    assert actionlint, "actionlint is a test dependency (pip install -e '.[test]')"
    variants = [
        {},
        {"python_version": "3.13", "github_user": "octocat"},
        {"python_version": "3.10", "sentiment_dataset": "csv"},
    ]
    for index, answers in enumerate(variants):
        root = _new(tmp_path / str(index), **answers)
        workflow = root / ".github" / "workflows" / "ci.yml"
        done = subprocess.run(
            [actionlint, "-no-color", str(workflow)], capture_output=True, text=True, cwd=root
        )
        assert done.returncode == 0, done.stdout + done.stderr
    text = workflow.read_text()
    assert '"3.10", "3.13"' in text and "make all SAMPLE=1" in text


@pytest.mark.skipif(
    not os.environ.get("MLSCAFFOLD_INSTALL_TEST"),
    reason="installs from PyPI: set MLSCAFFOLD_INSTALL_TEST=1 (CI does)",
)
def test_make_install_then_pipeline(tmp_path: Path) -> None:
    root = _new(tmp_path)
    done = subprocess.run(
        ["make", "install"], cwd=root, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    venv_python = root / ".venv" / "bin" / "python"
    done = subprocess.run(
        ["make", "lint", "all", "SAMPLE=1"], cwd=root, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    done = subprocess.run(
        [str(venv_python), "-m", "reviews", "predict", "Loved it, wonderful."],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.startswith("positive"), done.stderr
