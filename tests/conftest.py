"""Fixtures: an isolated HOME per test, a CLI runner, and synthetic two-version templates."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"

_spec = importlib.util.spec_from_file_location("release", ROOT / "scripts" / "release.py")
assert _spec and _spec.loader
release = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(release)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest -n, the generated projects' subprocesses share the cores: give each
    worker its share of OpenMP threads. scikit-learn's and PyTorch's pools spin-wait, and two
    projects each taking every core ran 10x slower (a test suite: 241 s against 21 s)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        share = str(max(1, (os.cpu_count() or 1) // workers))
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, share)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME with no git identity: what a new laptop or CI runner looks like."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("MLSCAFFOLD_SHIPPED_BUNDLE", raising=False)
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    # `mlscaffold new` runs `uv lock` (the package index) unless told not to: only the tests
    # of locking (tests/test_installs.py) lock
    monkeypatch.setenv("MLSCAFFOLD_NO_LOCK", "1")
    # one uv cache for the whole run, beside the environments it fills (uv hard-links from
    # it): a cache in each test's HOME unpacked PyTorch again per test, 6 GB each, and a CI
    # run died of a full disk
    from project_envs import ENVS

    monkeypatch.setenv("UV_CACHE_DIR", str(ENVS / ".uv-cache"))
    return home


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """`mlscaffold ...` as a real subprocess, stdin closed (as in scripts and CI)."""
    return subprocess.run(
        [sys.executable, "-m", "mlscaffold", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def new_project(dest: Path, kind: str = "sentiment-classifier", **answers: Any) -> Path:
    """Generate a project of `kind` in-process: defaults for what is not given, no git."""
    from mlscaffold.generate import NewRequest, generate

    generate(NewRequest(kind=kind, dest=dest, defaults=True, git=False, data=answers))
    return dest


def variant_id(kind: str, answers: dict[str, Any]) -> str:
    return kind + "".join(f"[{k}={v}]" for k, v in answers.items())


# The longest tests (minutes each on 2 cores), started first: under -n, a long test drawn
# last keeps one worker busy while the other has nothing left to do. With --dist worksteal
# (pyproject.toml) an idle worker takes half of the other's queue; with --dist load a queue
# handed out at the start stays where it was (one worker ran alone for the last 10 minutes)
LONGEST = (
    "test_answers_fuzz.py::test_any_answer_text_yields_valid_files",
    "test_grading_attacks.py::test_no_attack_scores_above_an_untouched_repository",
    "test_cohort.py::test_grade_is_fair_deterministic_and_survives_tampering_and_hangs",
    "test_demo.py::",
    "test_grading_fairness.py::",
    "test_serve_edges.py::",
    "test_generated_projects.py::test_variant_lints_tests_and_runs_on_the_sample",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The LONGEST first, in that order; the rest as collected (a stable sort: every xdist
    worker collects the same order)."""

    def rank(item: pytest.Item) -> int:
        where = item.nodeid.split("/")[-1]
        return next((i for i, name in enumerate(LONGEST) if where.startswith(name)), len(LONGEST))

    items.sort(key=rank)


def kind_marks(kind: Any) -> list[pytest.MarkDecorator]:
    """Heavy kinds (PyTorch) run where MLSCAFFOLD_FULL_MATRIX=1 (.ci/run sets it)."""
    marks = [pytest.mark.heavy] if kind.heavy else []
    if kind.heavy and not os.environ.get("MLSCAFFOLD_FULL_MATRIX"):
        marks.append(pytest.mark.skip(reason="heavy kind: set MLSCAFFOLD_FULL_MATRIX=1"))
    return marks


def kind_params() -> list[Any]:
    """One pytest row per kind of the catalogue."""
    from mlscaffold import catalog

    return [pytest.param(k.name, marks=kind_marks(k), id=k.name) for k in catalog.available()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`variant` is a (kind, answers) row of the catalogue's test matrix: a new kind or
    variant adds rows without new test code. Heavy kinds (PyTorch) run where
    MLSCAFFOLD_FULL_MATRIX=1 (.ci/run sets it), so the local loop stays quick."""
    from mlscaffold import catalog

    if "catalog_kind" in metafunc.fixturenames:  # one row per kind: a new kind adds a row
        metafunc.parametrize("catalog_kind", kind_params())
    if "variant" not in metafunc.fixturenames:
        return
    rows = []
    for kind in catalog.available():
        marks = kind_marks(kind)
        for answers in kind.variants:
            rows.append(
                pytest.param(
                    (kind.name, dict(answers)), marks=marks, id=variant_id(kind.name, answers)
                )
            )
    metafunc.parametrize("variant", rows)


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Student",
        "GIT_AUTHOR_EMAIL": "s@example.com",
        "GIT_COMMITTER_NAME": "Student",
        "GIT_COMMITTER_EMAIL": "s@example.com",
    }
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


APP_V1 = [f"setting_{i} = {i}" for i in range(1, 21)]
APP_V2 = [
    ("setting_3 = 'changed by template v2'" if i == 3 else line)
    for i, line in enumerate(APP_V1, start=1)
]

SYNTHETIC_COPIER = """\
_subdirectory: "{{ kind }}"
kind:
  type: str
  choices: [sentiment-classifier]
  default: sentiment-classifier
project_name:
  type: str
  default: Demo
"""


def _write_template(root: Path, version: int) -> None:
    kind = root / "sentiment-classifier"
    kind.mkdir(parents=True, exist_ok=True)
    (root / "copier.yml").write_text(SYNTHETIC_COPIER)
    (kind / "{{ _copier_conf.answers_file }}.jinja").write_text(
        "{{ _copier_answers | to_nice_yaml }}"
    )
    readme = "# {{ project_name }}\n\nIntro from the template.\n"
    if version >= 2:
        readme += "\n## Added in v2\n\nA new section.\n"
    (kind / "README.md.jinja").write_text(readme)
    (kind / "app.py").write_text("\n".join(APP_V1 if version == 1 else APP_V2) + "\n")
    (kind / "notes.txt").write_text("Notes shipped by the template.\n")
    removed = kind / "removed_in_v2.txt"
    if version == 1:
        removed.write_text("This file goes away in v2.\n")
    else:
        removed.unlink(missing_ok=True)
        (kind / "added_in_v2.txt").write_text("New in v2.\n")


@pytest.fixture
def synthetic_bundles(tmp_path: Path) -> Callable[[], tuple[Path, Path]]:
    """Two bundles made by the real release script: (v1 only, v1 + v2)."""

    built: list[tuple[Path, Path]] = []

    def build() -> tuple[Path, Path]:
        if built:
            return built[0]
        source = tmp_path / "template-src"
        bundle = tmp_path / "bundles" / "current.bundle"
        _write_template(source, 1)
        release.release("1.0.0", replace=False, bundle=bundle, templates=source)
        v1 = bundle.with_name("v1.bundle")
        v1.write_bytes(bundle.read_bytes())
        _write_template(source, 2)
        release.release("2.0.0", replace=False, bundle=bundle, templates=source)
        built.append((v1, bundle))
        return v1, bundle

    return build
