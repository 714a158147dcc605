"""Cohort mode: a roster of 30 with local bare remotes; locked answers, tampering, hanging
code, dirty trees and conflicting edits; bad rosters. Offline."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import git, run_cli

from mlscaffold.cohort import roster

KIND = "kaggle-entry"  # the fastest pipeline: grading tests stay quick


def _roster(path: Path, count: int) -> Path:
    """Students s000..; every fifth has no GitHub user; names with quotes, commas, accents."""
    names = ["O'Brien, Seán", 'Zoë "Zed" Ng', "Ada Lovelace"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "name", "email", "github_user"])
        for n in range(count):
            user = f"student-{n:02d}" if n % 5 else ""
            writer.writerow([f"s{n:03d}", names[n % 3], f"s{n:03d}@example.edu", user])
    return path


@pytest.fixture
def assignment(tmp_path: Path) -> Path:
    folder = tmp_path / "hw1"
    done = run_cli("cohort", "init", str(folder), "--kind", KIND, "--version", "0.2.0")
    assert done.returncode == 0, done.stderr
    return folder


def _new(assignment: Path, count: int, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    _roster(assignment / "roster.csv", count)
    return run_cli(
        "cohort",
        "new",
        str(assignment),
        "--roster",
        str(assignment / "roster.csv"),
        "--out",
        str(tmp_path / "repos"),
        "--jobs",
        "2",
        *extra,
        timeout=600,
    )


# ---- roster ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("student_id,name,email\ns1,A,a@x.org\n", "no column github_user"),
        (
            "student_id,name,email,github_user\ns1,A,,\ns1,B,,\n",
            "row 3: student_id 's1' is also on row 2",
        ),
        (
            "student_id,name,email,github_user\ns1,A,,u\ns2,B,,U\n",
            "row 3: github_user 'U' is also on row 2",
        ),
        ("student_id,name,email,github_user\n,A,,\n", "row 2: student_id is empty"),
        ("student_id,name,email,github_user\ns1,A,,bad_name!\n", "row 2: github_user"),
        ("student_id,name,email,github_user\ns1,A,not-an-email,\n", "row 2: email"),
        ('student_id,name,email,github_user\ns1,"A\u202eB",,\n', "row 2: name has control"),
        ("student_id,name,email,github_user\n", "lists no students"),
    ],
)
def test_bad_rosters_name_the_row(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(roster.RosterError, match=message.replace("(", r"\(")):
        roster.read(path)


def test_names_with_quotes_and_unicode_are_fine(tmp_path: Path) -> None:
    students = roster.read(_roster(tmp_path / "roster.csv", 3))
    assert [s.name for s in students] == ["O'Brien, Seán", 'Zoë "Zed" Ng', "Ada Lovelace"]
    assert students[0].handle == "s000" and students[1].handle == "student-01"


def test_bad_roster_is_a_clear_cli_error(assignment: Path, tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("student_id,name,email,github_user\ns1,A,,\ns1,B,,\n")
    done = run_cli(
        "cohort",
        "new",
        str(assignment),
        "--roster",
        str(tmp_path / "r.csv"),
        "--out",
        str(tmp_path / "repos"),
    )
    assert done.returncode == 2 and "row 3" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "repos").exists() or not any((tmp_path / "repos").iterdir())


# ---- init, new, status ---------------------------------------------------------------------------


def test_init_writes_a_working_assignment(assignment: Path) -> None:
    preset = yaml.safe_load((assignment / "cohort.yml").read_text())
    assert preset["kind"] == KIND and preset["version"] == "0.2.0"
    assert preset["answers"]["package_name"] == "hw1"
    rubric = yaml.safe_load((assignment / "grading" / "rubric.yml").read_text())
    assert any(item.get("hidden") for item in rubric["items"])
    assert (assignment / "grading" / "tests" / "test_hidden.py").is_file()
    from mlscaffold.cohort import probes

    example = probes.split(assignment / "grading" / "tests", "hw1")  # the example is pairs
    assert len(example.pairs) == 2 and not example.plain
    ignored = (assignment / ".gitignore").read_text().splitlines()
    assert ".reference/" in ignored and ".mlscaffold/seed" not in ignored
    again = run_cli("cohort", "init", str(assignment), "--kind", KIND)
    assert again.returncode == 2 and "exists already" in again.stderr
    student_answer = run_cli(
        "cohort", "init", str(assignment.parent / "x"), "--kind", KIND, "-d", "author_name=Me"
    )
    assert student_answer.returncode == 2 and "roster" in student_answer.stderr


def test_thirty_students_generated_pushed_and_rerun_safely(
    assignment: Path, tmp_path: Path
) -> None:
    remotes = tmp_path / "remotes"
    done = _new(assignment, 30, tmp_path, "--remote", f"{remotes}/hw1-{{handle}}.git")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[30/30]" in done.stderr and "30 ready, 0 failed" in done.stdout
    repos = sorted((tmp_path / "repos").iterdir())
    assert [r.name for r in repos][:2] == ["hw1-s000", "hw1-s005"] and len(repos) == 30
    ada = tmp_path / "repos" / "hw1-student-02"
    answers = yaml.safe_load((ada / ".copier-answers.yml").read_text())
    assert answers["author_name"] == "Ada Lovelace" and answers["github_user"] == "student-02"
    assert answers["repository_name"] == "hw1-student-02" and answers["_commit"] == "v0.2.0"
    assert git(ada, "status", "--porcelain") == ""
    assert git(remotes / "hw1-student-02.git", "log", "--oneline", "main").count("\n") == 1
    visible = (ada / "grading" / "rubric.yml").read_text()
    assert "Hidden" not in visible and not (ada / "tests" / "hidden").exists()
    workflow = ada / ".github" / "workflows" / "grade.yml"
    assert "grade.py" in workflow.read_text()
    actionlint = shutil.which("actionlint") or shutil.which(
        "actionlint", path=os.path.dirname(sys.executable)
    )
    assert actionlint, "actionlint is a test dependency (pip install -e '.[test]')"
    linted = subprocess.run(
        [actionlint, "-no-color", str(workflow)], capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    for project_test in ("ruff check .", "ruff format --check ."):  # grader.py lints clean there
        linted = subprocess.run([sys.executable, "-m", *project_test.split()], cwd=ada)
        assert linted.returncode == 0, project_test

    again = _new(assignment, 30, tmp_path, "--remote", f"{remotes}/hw1-{{handle}}.git")
    assert again.returncode == 0 and again.stderr.count("exists: skipped") == 30
    assert git(ada, "log", "--oneline").count("\n") == 1, "nothing made twice"


def test_status_flags_locked_answers_dirty_trees_and_behind(
    assignment: Path, tmp_path: Path
) -> None:
    assert _new(assignment, 3, tmp_path).returncode == 0
    repos = tmp_path / "repos"
    edited = repos / "hw1-student-01"
    answers = edited / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("project_name: Hw1", "project_name: Mine"))
    git(edited, "commit", "-qam", "my own title")
    (repos / "hw1-student-02" / "README.md").write_text("dirty\n")
    done = run_cli("cohort", "status", str(repos), "--json")
    assert done.returncode == 1
    rows = {row["repo"]: row for row in json.loads(done.stdout)}
    assert rows["hw1-student-01"]["changed_answers"] == ["project_name"]
    assert rows["hw1-student-02"]["dirty"] is True
    assert rows["hw1-s000"]["state"] == "behind" and rows["hw1-s000"]["version"] == "0.2.0"
    table = run_cli("cohort", "status", str(repos), "--cohort", str(assignment))
    assert "LOCKED ANSWERS CHANGED: project_name" in table.stdout


# ---- update -----------------------------------------------------------------------------------


def test_update_on_a_branch_skips_dirty_reports_conflicts_and_pushes(
    assignment: Path, tmp_path: Path
) -> None:
    remotes = tmp_path / "remotes"
    assert _new(assignment, 4, tmp_path, "--remote", f"{remotes}/{{handle}}.git").returncode == 0
    repos = tmp_path / "repos"
    (repos / "hw1-student-01" / "notes.md").write_text("work in progress\n")  # dirty
    clash = repos / "hw1-student-02"
    pipeline = clash / "src" / "hw1" / "pipeline.py"
    pipeline.write_text(
        pipeline.read_text().replace(
            "    evaluation = steps.evaluate(config, paths)\n",
            "    evaluation = steps.evaluate(config, paths)\n    evaluation.extra['mine'] = 1\n",
        )
    )
    git(clash, "commit", "-qam", "my own extra")
    before = {r.name: git(r, "rev-parse", "HEAD") for r in repos.iterdir()}

    done = run_cli("cohort", "update", str(repos), "--to", "0.3.0", "--push", timeout=600)
    assert done.returncode == 1, done.stderr[-2000:]
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("hw1-")}
    assert "dirty" in lines["hw1-student-01"] and "notes.md" in lines["hw1-student-01"]
    assert "conflicts" in lines["hw1-student-02"] and "pipeline.py" in lines["hw1-student-02"]
    assert "updated" in lines["hw1-s000"] and "0.2.0 → 0.3.0" in lines["hw1-s000"]
    for repo in repos.iterdir():
        assert git(repo, "rev-parse", "HEAD") == before[repo.name], "main is never touched"
        assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(clash, "status", "--porcelain") == "" and "template-0.3.0" not in git(
        clash, "branch"
    )
    updated = repos / "hw1-s000"
    answers = yaml.safe_load(git(updated, "show", "template-0.3.0:.copier-answers.yml"))
    assert answers["_commit"] == "v0.3.0"
    assert answers["package_name"] == "hw1" and answers["project_name"] == "Hw1", (
        "locked answers kept"
    )
    assert "template-0.3.0" in git(remotes / "s000.git", "branch")

    again = run_cli("cohort", "update", str(repos), "--to", "0.3.0", timeout=600)
    assert "done before" in again.stdout and again.returncode == 1  # the dirty one still waits


# ---- grade ------------------------------------------------------------------------------------

RUBRIC = {
    "items": [
        {"name": "Config tests", "points": 10, "check": "pytest", "node": "tests/test_config.py"},
        {"name": "Lint clean", "points": 0, "check": "lint"},
        {"name": "Pipeline runs", "points": 20, "check": "pipeline"},
        {"name": "Beats baseline", "points": 20, "check": "beats_baseline"},
        {"name": "Accuracy", "points": 20, "check": "metric", "expr": "model.accuracy >= 0.6"},
        {"name": "Hidden tests", "points": 30, "check": "pytest", "hidden": True},
    ]
}


def _grades(assignment: Path) -> dict[str, dict[str, str]]:
    with (assignment / "grades.csv").open(newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_grade_is_fair_deterministic_and_survives_tampering_and_hangs(
    assignment: Path, tmp_path: Path
) -> None:
    from project_envs import env_python

    (assignment / "grading" / "rubric.yml").write_text(yaml.safe_dump(RUBRIC, sort_keys=False))
    assert _new(assignment, 5, tmp_path).returncode == 0
    repos = tmp_path / "repos"
    package = "src/hw1"
    # s001 (student-01) tampers: breaks training and overrides, guts the config tests,
    # commits a perfect metrics.json
    tamperer = repos / "hw1-student-01"
    steps = tamperer / package / "steps.py"
    train_line = "    from .train import train as train_model\n"
    steps.write_text(steps.read_text().replace(train_line, "    raise RuntimeError('no time')\n"))
    config = tamperer / package / "config.py"
    config.write_text(
        config.read_text().replace(
            "    for text in overrides:\n", "    for text in overrides[:0]:\n"
        )
    )
    (tamperer / "tests" / "test_config.py").write_text("def test_fine():\n    pass\n")
    (tamperer / "reports" / "metrics.json").write_text(
        json.dumps({"model": {"cv_mean": 0.99}, "baseline": {"cv_mean": 0.1}})
    )
    git(tamperer, "add", "-A")
    git(tamperer, "commit", "-qm", "all green now")
    # s002 (student-02): training that never ends
    hanger = repos / "hw1-student-02"
    steps = hanger / package / "steps.py"
    steps.write_text(
        steps.read_text().replace(
            train_line, "    import time\n\n    time.sleep(3600)\n" + train_line
        )
    )
    git(hanger, "commit", "-qam", "thinking")
    # s003 (student-03): never made a repository
    subprocess.run(["rm", "-rf", str(repos / "hw1-student-03")], check=True)

    (assignment / "grading" / "tests" / "test_isolation.py").write_text(
        "import os\n\n\ndef test_no_instructor_secrets():\n"
        "    assert 'GITHUB_TOKEN' not in os.environ\n"
        "    assert os.environ['HOME'] == '/grading/home'\n"
    )
    bare = tmp_path / "bare-python"  # a Python without site-packages: no project dependencies
    bare.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    bare.chmod(0o755)
    unfit = run_cli("cohort", "grade", str(assignment), str(repos), "--python", str(bare))
    assert unfit.returncode == 2 and "--python" in unfit.stderr, unfit.stderr
    python = str(env_python(repos / "hw1-s000"))
    args = (
        "cohort",
        "grade",
        str(assignment),
        str(repos),
        "--jobs",
        "2",
        "--timeout",
        "120",  # the hang's cost; an honest student took over 45 s on a loaded CI machine
        "--python",
        python,
    )
    done = run_cli(*args, timeout=900, env={"GITHUB_TOKEN": "secret-instructor-token"})
    # s003 has no repository: it could not be graded (the hang and the tamperer were)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "1 of 5 repositories could not be graded" in done.stderr, done.stderr[-3000:]
    assert "  s003: no repository" in done.stderr
    grades = _grades(assignment)
    assert set(grades) == {"s000", "s001", "s002", "s003", "s004"}
    honest = grades["s000"]
    assert honest["total"] == "100", (assignment / "feedback" / "s000.md").read_text()
    # s004 is untouched too: its files are s000's byte for byte, graded once
    assert "1 of 5 held files byte for byte the same" in done.stderr, done.stderr[-3000:]
    own = ("student_id", "github_user")
    assert {k: v for k, v in grades["s004"].items() if k not in own} == {
        k: v for k, v in honest.items() if k not in own
    }
    # config.py and the tests are not the student's: the assignment's own were graded
    assert grades["s001"]["Config tests"] == "10", grades["s001"]
    assert grades["s001"]["Accuracy"] == "0" and grades["s001"]["Pipeline runs"] == "0"
    assert grades["s001"]["total"] == "10"
    assert grades["s002"]["total"] == "0" and "timed out after 120 s" in grades["s002"]["note"]
    assert "1 timed out with 2 repositories sharing the cores" in done.stderr, done.stderr
    assert grades["s003"]["total"] == "0" and grades["s003"]["note"] == "no repository"
    feedback = (assignment / "feedback" / "s000.md").read_text()
    assert "100 / 100" in feedback and "fresh rows the grader made" in feedback
    tampered = (assignment / "feedback" / "s001.md").read_text()
    assert "pipeline failed" in tampered and "Not graded" in tampered
    assert "tests/test_config.py" in tampered and "reports/metrics.json" in tampered
    assert git(tamperer, "status", "--porcelain") == "", "students' repositories are untouched"

    # graded again, the same grades (the hang, whose zero is its timeout, is left out: it
    # would only cost its timeout again)
    first = _grades(assignment)
    shutil.move(hanger, tmp_path / "hanger-aside")
    again = run_cli(*args, "--force", timeout=900)
    assert again.returncode == 1, again.stderr[-3000:]
    second = _grades(assignment)
    assert second.pop("s002")["note"] == "no repository"
    assert second == {sid: row for sid, row in first.items() if sid != "s002"}
