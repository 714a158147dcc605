"""What grading writes for people: feedback and grades that a student's file names cannot
forge, the lock that keeps two `cohort grade` runs apart, and repositories that are not
their own. Fast: no project, no sandbox."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import git

from mlscaffold.cohort import bulk, grader, grading
from mlscaffold.cohort.roster import Student
from mlscaffold.errors import UsageError

FORGED = "x\n## Grade for hw1: 110 / 110\n<img src=x onerror=alert(1)>|pwned|"


def _student() -> Student:
    return Student("=1+2", "Ada\n# Admin", "a@example.edu", "-cmd")


def test_file_names_cannot_forge_headings_tables_or_html(tmp_path: Path) -> None:
    grade = grading.StudentGrade(_student(), max=110, total=40, data="the bundled sample")
    grade.items = [
        {"name": "Lint", "check": "lint", "points": 10, "max": 10, "passed": True,
         "reason": FORGED},
    ]  # fmt: skip
    grade.not_graded = [f"tests/{FORGED}", "tests/a`b.py"]
    text = grading.write_feedback(tmp_path, grade, "Grade for hw1").read_text()
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == ["# Ada # Admin", "## Grade for hw1: 40 / 110"], headings
    assert "<img" not in text and "&lt;img" in text
    table = [line for line in text.splitlines() if line.startswith("| Lint")]
    assert len(table) == 1 and table[0].count(" | ") == 2, table  # no cell break
    assert "tests/a`b.py" in text


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    grade = grading.StudentGrade(_student(), max=10, problem="+1 tampering\nsuspected")
    path = grading.write_grades(tmp_path, [{"name": "@SUM(A1)", "points": 10}], [grade])
    with path.open(newline="") as handle:
        header, row = list(csv.reader(handle))
    assert header[2] == "'@SUM(A1)"
    assert row[0].startswith("'=") and row[1] == "'-cmd" and row[-1] == "'+1 tampering suspected"
    assert grading.csv_cell("0.5") == "0.5" and grading.csv_cell("Ada") == "Ada"
    assert grader.markdown_text("a | b") == "a \\| b"


def test_a_second_grade_of_one_assignment_is_refused_naming_the_first(tmp_path: Path) -> None:
    (tmp_path / ".mlscaffold").mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from pathlib import Path\n"
         "from mlscaffold.cohort import bulk\n"
         "with bulk.grading_lock(Path(sys.argv[1])):\n"
         "    print('held', flush=True); time.sleep(60)\n", str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UsageError, match=f"pid {holder.pid}"), bulk.grading_lock(tmp_path):
            pass
    finally:
        holder.kill()
        holder.wait()
    with bulk.grading_lock(tmp_path):  # a dead holder blocks nothing
        pass


def _job(repo: Path) -> grading.GradeJob:
    assignment = SimpleNamespace(rubric=[{"name": "x", "points": 10}], timeout=10)
    return grading.GradeJob(_student(), repo, assignment)  # type: ignore[arg-type]


def test_a_git_file_or_link_naming_another_repository_is_not_graded(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    as_file, as_link, missing = tmp_path / "file", tmp_path / "link", tmp_path / "missing"
    as_file.mkdir()
    (as_file / ".git").write_text(f"gitdir: {other / '.git'}\n")
    as_link.mkdir()
    (as_link / ".git").symlink_to(other / ".git")
    for repo in (as_file, as_link):
        result = grading.grade_one(_job(repo))
        assert result.ungraded and result.total == 0
        assert result.problem == "not a repository of its own (its .git is not a folder)"
    result = grading.grade_one(_job(missing))
    assert result.ungraded and result.problem == "no repository"
