"""Sharded grading: stable disjoint slices, partial results, a merge that writes exactly what
one machine writes (byte for byte) and refuses what does not fit; re-grading only what
changed, --before a deadline, the summary. Offline; the real grading needs bubblewrap."""

from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

import pytest
import yaml
from conftest import git, run_cli

from mlscaffold.cohort import grading, roster, shards
from mlscaffold.cohort import preset as presets
from mlscaffold.errors import UsageError

KIND = "kaggle-entry"  # the fastest pipeline


def _students(count: int) -> list[roster.Student]:
    return [roster.Student(f"s{n:03d}", f"Student {n}", "", "") for n in range(count)]


# ---- slicing and the engines' variables ------------------------------------------------------


def test_shards_are_disjoint_complete_and_stable() -> None:
    students = _students(200)
    for count in (1, 2, 7):
        slices = [shards.select(students, shards.Shard(k, count)) for k in range(count)]
        ids = [s.student_id for part in slices for s in part]
        assert sorted(ids) == sorted(s.student_id for s in students)  # each exactly once
        assert all(slices), "no shard is empty for 200 students"
    # a student's shard does not depend on who else is on the roster, nor on the order
    before = {s.student_id: shards.shard_of(s.student_id, 7) for s in students[:50]}
    bigger = [roster.Student("new-one", "N", "", ""), *reversed(students)]
    after = {s.student_id: shards.shard_of(s.student_id, 7) for s in bigger}
    assert all(after[sid] == shard for sid, shard in before.items())


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MLSCAFFOLD_SHARD": "2/5"}, (2, 5)),
        ({"JOB_COMPLETION_INDEX": "3", "MLSCAFFOLD_SHARDS": "4"}, (3, 4)),
        ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "3"}, (0, 3)),
        (  # sbatch --array=1-8: tasks numbered from 1
            {
                "SLURM_ARRAY_TASK_ID": "8",
                "SLURM_ARRAY_TASK_MIN": "1",
                "SLURM_ARRAY_TASK_COUNT": "8",
            },
            (7, 8),
        ),
    ],
)
def test_shard_auto_reads_the_engines_variables(
    env: dict[str, str], expected: tuple[int, int]
) -> None:
    found = shards.from_environment(env)
    assert (found.index, found.count) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "found no shard"),
        ({"JOB_COMPLETION_INDEX": "1"}, "MLSCAFFOLD_SHARDS"),
        ({"MLSCAFFOLD_SHARD": "4/4"}, "0 <= K < N"),
        ({"MLSCAFFOLD_SHARD": "a/b"}, "0 <= K < N"),
        ({"SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_COUNT": "3"}, "contiguous"),
    ],
)
def test_shard_auto_without_a_shard_is_a_clear_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        shards.from_environment(env)


def test_the_seed_is_never_in_a_manifest_nor_a_plain_hash_of_it() -> None:
    import hashlib

    found = shards.seed_hash(12345)
    assert found != hashlib.sha256(b"12345").hexdigest() and "12345" not in found
    assert found == shards.seed_hash(12345) != shards.seed_hash(12346)


def test_a_grade_is_reused_only_for_the_same_commit_and_assignment(tmp_path: Path) -> None:
    (tmp_path / ".mlscaffold").mkdir()
    ada, bob = _students(2)
    kept = grading.StudentGrade(ada, [{"name": "x", "points": 3}], total=3, max=5, commit="a1")
    slow = grading.StudentGrade(bob, total=0, max=5, commit="b1", timed_out=True, problem="t")
    wanted = shards.key("digest-1", 900.0)
    shards.update_record(tmp_path, [kept, slow], wanted)
    record = shards.read_record(tmp_path)
    renamed = roster.Student(ada.student_id, "Ada L.", "", "")  # a roster fix is carried
    again = shards.reusable(record, renamed, "a1", wanted)
    assert again is not None and again.reused and again.total == 3 and again.student == renamed
    assert shards.reusable(record, ada, "a2", wanted) is None  # a new commit
    assert shards.reusable(record, ada, "a1", shards.key("digest-2", 900.0)) is None
    assert shards.reusable(record, ada, "a1", shards.key("digest-1", 60.0)) is None
    assert shards.reusable(record, bob, "b1", wanted) is None  # a timeout is re-run


def test_before_picks_the_last_commit_before_the_deadline(tmp_path: Path) -> None:
    from mlscaffold.cohort import overlay

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    shas = []
    for day in ("01", "02"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("GIT_COMMITTER_DATE", f"2026-01-{day}T10:00:00+00:00")
            git(repo, "commit", "-q", "--allow-empty", "-m", day)
        shas.append(git(repo, "rev-parse", "HEAD").strip())
    assert overlay.commit(repo) == shas[1]
    assert overlay.commit(repo, "2026-01-02T09:30:00+00:00") == shas[0]
    assert overlay.commit(repo, "2026-01-02T10:30:00+01:00") == shas[0]  # 09:30 UTC
    assert overlay.commit(repo, "2026-01-02T10:30:00+00:00") == shas[1]
    assert overlay.commit(repo, "2025-12-31T00:00:00+00:00") is None


# ---- merge, without grading: partials made from known rows -----------------------------------


@pytest.fixture
def assignment(tmp_path: Path) -> Path:
    folder = tmp_path / "hw1"
    done = run_cli("cohort", "init", str(folder), "--kind", KIND, "--version", "0.2.0")
    assert done.returncode == 0, done.stderr
    with (folder / "roster.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(roster.COLUMNS)
        for student in _students(6):
            writer.writerow([student.student_id, f'Zoë "{student.name}", Jr', "", ""])
    presets.secret_seed(folder)
    return folder


def _rows(assignment: Path) -> list[grading.StudentGrade]:
    rubric = grading.read_rubric(assignment / "grading" / "rubric.yml")
    grades = []
    for n, student in enumerate(roster.read(assignment / "roster.csv")):
        items = [
            {
                "name": item["name"],
                "check": item["check"],
                "points": item["points"] if (n + k) % 3 else 0,
                "max": item["points"],
                "passed": bool((n + k) % 3),
                "reason": f"reason {n}.{k} | <b>",
            }
            for k, item in enumerate(rubric)
        ]
        grade = grading.StudentGrade(student, items, max=100, data="the bundled sample")
        # 0.1 + 0.2: a float that must come back from JSON exactly
        grade.total = sum(row["points"] for row in items) + (0.1 + 0.2 if n == 1 else 0)
        if n == 4:
            grade.problem, grade.items, grade.total = "timed out after 9 s", [], 0
            grade.timed_out = True
        if n == 5:
            grade.problem, grade.items, grade.ungraded = "no repository", [], True
        grade.not_graded = ["tests/test_x.py"] if n == 2 else []
        grade.seconds = float(n)
        if n in (0, 1):
            grade.steps = [
                {"step": "ruff check .", "inside": 1.0, "host": 0.5},
                {"step": "python -m hw1 all", "inside": 2.0 * (n + 1), "host": 0.2},
            ]
        grades.append(grade)
    return grades


def _partials(assignment: Path, count: int, out: Path) -> list[Path]:
    preset = presets.read(assignment)
    found = shards.parts(assignment, preset, presets.secret_seed(assignment))
    grades = _rows(assignment)
    folders = []
    for k in range(count):
        shard = shards.Shard(k, count)
        mine = [g for g in grades if shards.shard_of(g.student.student_id, count) == k]
        manifest = shards.Manifest(
            preset.assignment,
            shards.digest(found),
            found,
            shards.roster_hash(roster.read(assignment / "roster.csv")),
            str(shard),
            [g.student.student_id for g in mine],
            {"timeout": 900.0, "before": None},
            shards.now(),
            shards.now(),
        )
        folders.append(shards.write_partial(out / f"part-{k}", manifest, mine, "Grade for hw1"))
    return folders


def _merge(assignment: Path, *parts: Path) -> tuple[int, str]:
    done = run_cli("cohort", "merge", str(assignment), *map(str, parts))
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout + done.stderr


def test_merge_writes_what_one_machine_writes(assignment: Path, tmp_path: Path) -> None:
    grades = _rows(assignment)
    rubric = grading.read_rubric(assignment / "grading" / "rubric.yml")
    alone = tmp_path / "alone"
    alone.mkdir()
    for grade in grades:
        grading.write_feedback(alone, grade, "Grade for hw1")
    grading.write_grades(alone, rubric, grades)

    parts = _partials(assignment, 3, tmp_path)
    code, output = _merge(assignment, *reversed(parts))  # any order of the partials
    assert code == 1, output  # s005 has no repository: could not be graded
    assert "s005: no repository" in output
    assert (assignment / "grades.csv").read_bytes() == (alone / "grades.csv").read_bytes()
    order = [row[0] for row in csv.reader((assignment / "grades.csv").open())][1:]
    assert order == [g.student.student_id for g in grades]  # the roster's order
    for grade in grades:
        name = f"{grade.student.student_id}.md"
        assert (assignment / "feedback" / name).read_bytes() == (
            alone / "feedback" / name
        ).read_bytes(), name
    page = (assignment / "summary.md").read_text()
    assert "6 students" in page and "- s005: no repository" in page
    assert "timed out after 9 s" in page and "| s004 |" in page  # the slowest first
    assert page.index("| s004 |") < page.index("| s003 |")
    # step by step, the mean of the two repositories that have a profile
    assert "## Where the time went (mean of 2 repositories)" in page
    assert "| python -m hw1 all | 3.0 | 0.2 |" in page and "| ruff check . | 1.0 | 0.5 |" in page
    assert "| all steps | 4.0 | 0.7 |" in page
    assert (assignment / "summary.png").is_file() == _has_matplotlib()
    manifest = (parts[0] / "manifest.json").read_text()
    seed = (assignment / ".mlscaffold" / "seed").read_text().strip()
    assert f'"{seed}"' not in manifest and f": {seed}" not in manifest


def _has_matplotlib() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def test_merge_refuses_a_missing_shard_a_repeat_and_another_assignment(
    assignment: Path, tmp_path: Path
) -> None:
    parts = _partials(assignment, 3, tmp_path)
    code, output = _merge(assignment, parts[0], parts[2])
    assert code == 2 and "shard 1/3 is missing" in output, output
    code, output = _merge(assignment, parts[0], parts[1], parts[0], parts[2])
    assert code == 2 and "shard 0/3 is given twice" in output, output
    # a student's row copied into another partial
    rows = json.loads((parts[1] / "rows.json").read_text())
    stolen = json.loads((parts[0] / "rows.json").read_text())[0]
    (parts[1] / "rows.json").write_text(json.dumps([*rows, stolen]))
    code, output = _merge(assignment, *parts)
    assert code == 2 and f"student {stolen['student']['student_id']} is graded twice" in output
    (parts[1] / "rows.json").write_text(json.dumps(rows))
    # partials graded with another N
    other = _partials(assignment, 2, tmp_path / "other")
    code, output = _merge(assignment, parts[0], other[1])
    assert code == 2 and "split the class differently" in output, output
    # the local rubric changed since the shards were graded
    rubric = assignment / "grading" / "rubric.yml"
    kept = rubric.read_text()
    rubric.write_text(kept.replace("points: 10", "points: 15"))
    code, output = _merge(assignment, *parts)
    assert code == 2 and "another rubric" in output, output
    rubric.write_text(kept)
    # one shard graded with another secret seed (a fresh copy of the assignment)
    manifest = json.loads((parts[2] / "manifest.json").read_text())
    manifest["parts"]["seed"] = shards.seed_hash(1)
    (parts[2] / "manifest.json").write_text(json.dumps(manifest))
    code, output = _merge(assignment, *parts)
    assert code == 2 and "another secret seed" in output and str(parts[2]) in output, output
    assert not (assignment / "grades.csv").exists(), "nothing written when a merge is refused"
    code, output = _merge(assignment, tmp_path)  # not a partial at all
    assert code == 2 and "not a complete partial result" in output, output


def test_shard_and_out_go_together(assignment: Path, tmp_path: Path) -> None:
    (tmp_path / "repos").mkdir()
    base = ("cohort", "grade", str(assignment), str(tmp_path / "repos"))
    done = run_cli(*base, "--shard", "0/2")
    assert done.returncode == 2 and "--shard and --out go together" in done.stderr
    done = run_cli(*base, "--shard", "auto", "--out", str(tmp_path / "p"), env={})
    assert done.returncode == 2 and "found no shard" in done.stderr, done.stderr
    done = run_cli(*base, "--before", "next friday")
    assert done.returncode == 2 and "ISO 8601" in done.stderr, done.stderr
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    done = run_cli(*base, "--shard", "0/2", "--out", str(tmp_path / "busy"))
    assert done.returncode == 2 and "is not a partial result" in done.stderr, done.stderr


# ---- real grading: one process against two shards, reuse, --before ---------------------------

RUBRIC = {
    "items": [
        {"name": "Config tests", "points": 10, "check": "pytest", "node": "tests/test_config.py"},
        {"name": "Pipeline runs", "points": 20, "check": "pipeline"},
        {"name": "Accuracy", "points": 40, "check": "metric", "expr": "model.accuracy >= 0.6"},
        {"name": "Hidden tests", "points": 30, "check": "pytest", "hidden": True},
    ]
}
TRAIN_LINE = "    from .train import train as train_model\n"


def _break_training(repo: Path, message: str, date: str | None = None) -> None:
    """A commit that scores 10 (training raises); `date`: its committer date (git's --before
    reads that one)."""
    steps = repo / "src" / "hw1" / "steps.py"
    steps.write_text(steps.read_text().replace(TRAIN_LINE, "    raise RuntimeError('no')\n"))
    env = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        git(repo, "commit", "-qam", message)


def _outputs(assignment: Path) -> dict[str, bytes]:
    found = {"grades.csv": (assignment / "grades.csv").read_bytes()}
    for path in sorted((assignment / "feedback").glob("*.md")):
        found[path.name] = path.read_bytes()
    return found


def _totals(assignment: Path) -> dict[str, str]:
    with (assignment / "grades.csv").open(newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row["total"] for row in csv.DictReader(handle)}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_sharded_grading_equals_one_machine_and_only_changes_are_regraded(
    tmp_path: Path,
) -> None:
    from project_envs import env_python

    hw1 = tmp_path / "hw1"
    assert run_cli("cohort", "init", str(hw1), "--kind", KIND, "--version", "0.2.0").returncode == 0
    (hw1 / "grading" / "rubric.yml").write_text(yaml.safe_dump(RUBRIC, sort_keys=False))
    with (hw1 / "roster.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(roster.COLUMNS)
        for student in _students(4):
            writer.writerow([student.student_id, student.name, "", ""])
    repos = tmp_path / "repos"
    made = run_cli(
        "cohort", "new", str(hw1), "--roster", str(hw1 / "roster.csv"), "--out", str(repos),
        timeout=600,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr[-2000:]
    _break_training(repos / "hw1-s001", "no training")  # a different grade, in shard 0
    python = str(env_python(repos / "hw1-s000"))
    grade = ("cohort", "grade", str(hw1), str(repos), "--python", python, "--timeout", "300")

    started = time.monotonic()
    alone = run_cli(*grade, "--jobs", "2", timeout=900)
    one_process = time.monotonic() - started
    assert alone.returncode == 0, alone.stderr[-3000:]
    single = _outputs(hw1)
    assert _totals(hw1) == {"s000": "100", "s001": "10", "s002": "100", "s003": "100"}
    assert "summary.md" in alone.stdout and (hw1 / "summary.md").is_file()

    # the same class as two shards (one through --shard auto), forced: nothing reused
    for name in ("grades.csv", "feedback", "summary.md"):
        path = hw1 / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    started = time.monotonic()
    forced = (*grade, "--jobs", "2", "--force")
    first = run_cli(*forced, "--shard", "0/2", "--out", str(tmp_path / "p0"), timeout=900)
    second = run_cli(
        *forced, "--shard", "auto", "--out", str(tmp_path / "p1"),
        env={"MLSCAFFOLD_SHARD": "1/2"}, timeout=900,
    )  # fmt: skip
    two_shards = time.monotonic() - started
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "reused" not in first.stdout + second.stdout
    assert not (hw1 / "grades.csv").exists(), "a shard writes only its partial result"
    held = [json.loads((tmp_path / p / "manifest.json").read_text()) for p in ("p0", "p1")]
    assert [m["shard"] for m in held] == ["0/2", "1/2"]
    assert sorted(held[0]["students"] + held[1]["students"]) == ["s000", "s001", "s002", "s003"]
    merged = run_cli("cohort", "merge", str(hw1), str(tmp_path / "p1"), str(tmp_path / "p0"))
    assert merged.returncode == 0, merged.stderr[-3000:]
    assert _outputs(hw1) == single  # byte for byte, every feedback file and grades.csv
    print(f"\none process (--jobs 2): {one_process:.1f} s; two shards one after the other "
          f"(--jobs 2 each): {two_shards:.1f} s")  # fmt: skip

    # nothing changed: every row reused, nothing runs
    again = run_cli(*grade, "--jobs", "2", timeout=600)
    assert again.returncode == 0 and "4 of 4 reused" in again.stdout, again.stdout
    assert _outputs(hw1) == single
    # s002 pushes a broken commit after the deadline: only s002 is graded again
    _break_training(repos / "hw1-s002", "late", date="2030-01-01T12:00:00+00:00")
    late = run_cli(*grade, "--jobs", "2", timeout=600)
    assert late.returncode == 0 and "3 of 4 reused" in late.stdout, late.stdout
    assert _totals(hw1)["s002"] == "10"
    # graded as of the deadline: s002's commit before it, which scored 100
    deadline = run_cli(*grade, "--jobs", "2", "--before", "2029-12-31T23:00:00-02:00",
                       timeout=600)  # fmt: skip
    assert deadline.returncode == 0 and "3 of 4 reused" in deadline.stdout, deadline.stdout
    assert _outputs(hw1) == single
    assert not any(p.name.startswith(".mlscaffold") for p in (repos / "hw1-s000").iterdir())
