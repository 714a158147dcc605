"""Honest students never lose a point: an untouched repository of every kind, graded in
the sandbox, gets every visible point (the project's own tests, lint, the pipeline, the
baseline) that the reference project gets in its own repository, with and without the
instructor's grading/data/. Offline; needs bubblewrap (`.ci/run` installs it)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import run_cli

from mlscaffold.cohort.preset import DEFAULT_RUBRIC

VISIBLE = [item for item in yaml.safe_load(DEFAULT_RUBRIC)["items"] if not item.get("hidden")]
FULL = sum(item["points"] for item in VISIBLE)


def _assignment(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    assignment = tmp_path / "hw1"
    done = run_cli("cohort", "init", str(assignment), "--kind", kind)
    assert done.returncode == 0, done.stderr
    rubric = assignment / "grading" / "rubric.yml"
    rubric.write_text(yaml.safe_dump({"items": VISIBLE}, sort_keys=False))
    with (assignment / "roster.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "name", "email", "github_user"])
        writer.writerow(["s1", "Untouched", "s1@example.edu", "untouched"])
    repos = tmp_path / "repos"
    made = run_cli(
        "cohort", "new", str(assignment), "--roster", str(assignment / "roster.csv"),
        "--out", str(repos), timeout=600,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr[-2000:]
    return assignment, repos


def _grade(assignment: Path, repos: Path) -> dict[str, str]:
    from project_envs import env_python

    python = str(env_python(repos / "hw1-untouched"))
    done = run_cli(
        "cohort", "grade", str(assignment), str(repos), "--jobs", "1", "--python", python,
        timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    with (assignment / "grades.csv").open(newline="", encoding="utf-8") as handle:
        return next(csv.DictReader(handle))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_an_untouched_repository_gets_every_visible_point(
    tmp_path: Path, catalog_kind: str
) -> None:
    assignment, repos = _assignment(tmp_path, catalog_kind)
    row = _grade(assignment, repos)
    assert row["total"] == f"{FULL:g}", row  # sentiment lost 20 here: its tests on the split
    # the instructor's own data in the sample's layout: the project's tests still see the
    # bundled sample they were written for (the run above showed them passing; they are left
    # out here to halve the cost), the pipeline sees the instructor's data
    rest = [item for item in VISIBLE if item["check"] != "pytest"]
    rubric = assignment / "grading" / "rubric.yml"
    rubric.write_text(yaml.safe_dump({"items": rest}, sort_keys=False))
    sample = repos / "hw1-untouched" / "data" / "sample"
    data = assignment / "grading" / "data"
    for path in sample.iterdir():
        target = data / path.name
        if path.is_dir():
            shutil.copytree(path, target)
        else:
            shutil.copy(path, target)
    row = _grade(assignment, repos)
    assert row["total"] == f"{sum(item['points'] for item in rest):g}", row
    assert "instructor" in (assignment / "feedback" / "s1.md").read_text()
