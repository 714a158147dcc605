"""Grade every student repository the same way, on throwaway copies.

For each repository: clone its last commit into a scratch folder; put back the instructor's
tests (the template's, at the assignment's version) and rubric, whatever the student did to
them; add the hidden tests and, when there is some, the evaluation data; run the grader with
a time limit, a HOME and temp folder of its own and none of the instructor's credentials in
its environment. The grader runs the pipeline itself, so metrics come from this run, never
from a committed metrics.json. A crash or timeout is a zero with the reason.

Not a security sandbox: student code runs as you. For untrusted code, run `cohort grade`
inside a container (see the README).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscaffold import git
from mlscaffold.cohort import grader, repos
from mlscaffold.cohort import preset as presets
from mlscaffold.cohort.roster import Student
from mlscaffold.errors import UsageError

KEEP_ENV = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")  # everything else is left behind


@dataclass(frozen=True)
class GradeJob:
    student: Student
    repo: Path
    assignment: Path
    reference: Path
    python: str
    timeout: float
    threads: int = 1  # per repository: the cores divided by --jobs


@dataclass
class StudentGrade:
    student: Student
    items: list[dict[str, Any]] = field(default_factory=list)
    total: float = 0
    max: float = 0
    data: str = ""
    problem: str | None = None  # why the grade is zero (no repository, timeout, crash)


def reference_project(assignment: Path, preset: presets.Preset) -> Path:
    """The project as the template makes it at the assignment's version: the source of the
    instructor's tests. Made once per version, under the assignment folder."""
    from mlscaffold.generate import NewRequest, generate

    target = assignment / ".reference" / preset.version
    if not (target / ".copier-answers.yml").is_file():
        shutil.rmtree(target, ignore_errors=True)
        answers = {**preset.answers, "author_name": "Instructor"}
        generate(
            NewRequest(
                preset.kind, target, answers, defaults=True, version=preset.version, git=False
            )
        )
    return target


def check_python(python: str, reference: Path, package: str) -> None:
    """Fail once, clearly, when the grading interpreter lacks the projects' dependencies
    (else every student would get zeros for the instructor's setup)."""
    probe = f"import {package}.pipeline, {package}.steps"
    done = subprocess.run(
        [python, "-c", probe],
        cwd=reference,
        env={**os.environ, "PYTHONPATH": str(reference / "src")},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["it does not run"])[-1]
        raise UsageError(
            f"{python} cannot run the projects ({last})",
            f"pass --python with an environment where `pip install -e '{reference}[dev]'` ran",
        )


def _scrubbed_env(scratch: Path, threads: int) -> dict[str, str]:
    home, tmp = scratch / "home", scratch / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {key: os.environ[key] for key in KEEP_ENV if key in os.environ}
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        TEMP=str(tmp),
        TMP=str(tmp),
        NO_COLOR="1",
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        GIT_CONFIG_NOSYSTEM="1",
        # OpenMP pools (scikit-learn, PyTorch) spin-wait: two repositories each taking every
        # core made grading 10x slower (241 s against 21 s for one project's tests)
        OMP_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
    )
    return env


def _prepare_copy(job: GradeJob, copy: Path) -> str:
    """The student's last commit with the instructor's tests, rubric, hidden tests and data."""
    git.run("clone", "--quiet", "--no-hardlinks", str(job.repo), str(copy))
    shutil.rmtree(copy / ".git")
    shutil.rmtree(copy / "tests", ignore_errors=True)
    shutil.copytree(job.reference / "tests", copy / "tests")
    grading = job.assignment / presets.GRADING
    shutil.rmtree(copy / "grading", ignore_errors=True)
    (copy / "grading").mkdir()
    shutil.copy(grading / presets.RUBRIC, copy / "grading" / presets.RUBRIC)
    (copy / "grading" / "grade.py").write_text(repos.grader_source(), encoding="utf-8")
    hidden = grading / "tests"
    if hidden.is_dir() and any(hidden.glob("test_*.py")):
        shutil.copytree(hidden, copy / grader.HIDDEN_TESTS)
    data = grading / "data"
    files = (
        [p for p in data.rglob("*") if p.is_file() and p.name != "README.md"]
        if data.is_dir()
        else []
    )
    for stale in ("data/processed", "data/raw", "models", "runs", "reports/metrics.json"):
        target = copy / stale
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(
            missing_ok=True
        )
    if files:
        shutil.rmtree(copy / "data" / "sample", ignore_errors=True)
        shutil.copytree(data, copy / "data" / "sample", ignore=shutil.ignore_patterns("README.md"))
        return "the instructor's evaluation data"
    return "the bundled sample"


RUNNING: set[subprocess.Popen] = set()  # graders in flight, stopped on Ctrl-C or SIGTERM


def _start(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group: a timeout kills all it started
    )
    RUNNING.add(process)
    return process


def _kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the student's code and all it started
    process.communicate()


def stop_all() -> None:
    for process in list(RUNNING):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def grade_one(job: GradeJob) -> StudentGrade:
    result = StudentGrade(job.student)
    if not (job.repo / ".git").is_dir():
        result.problem = "no repository"
        return result
    with tempfile.TemporaryDirectory(prefix="mlscaffold-grade-") as tmp:
        scratch = Path(tmp)
        copy = scratch / "project"
        data = _prepare_copy(job, copy)
        out = scratch / "grade.json"
        command = [
            job.python,
            str(copy / "grading" / "grade.py"),
            "--project",
            str(copy),
            "--rubric",
            str(copy / "grading" / presets.RUBRIC),
            "--out",
            str(out),
            "--hidden",
            "--data",
            data,
        ]
        process = _start(
            command,
            copy,
            _scrubbed_env(scratch, job.threads),
        )
        try:
            _, stderr = process.communicate(timeout=job.timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            result.problem = f"timed out after {job.timeout:g} s"
            return result
        finally:
            RUNNING.discard(process)
        if process.returncode != 0 or not out.is_file():
            tail = (stderr or "").strip().splitlines()[-1:] or ["no output"]
            result.problem = f"the grader failed: {tail[0][:200]}"
            return result
        report = json.loads(out.read_text(encoding="utf-8"))
    result.items, result.total, result.max = report["items"], report["total"], report["max"]
    result.data = report["data"]
    return result


def write_grades(
    assignment: Path, rubric: list[dict[str, Any]], grades: list[StudentGrade]
) -> Path:
    names = [item["name"] for item in rubric]
    path = assignment / "grades.csv"
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "github_user", *names, "total", "note"])
        for grade in grades:
            points = {row["name"]: row["points"] for row in grade.items}
            writer.writerow(
                [
                    grade.student.student_id,
                    grade.student.github_user,
                    *[f"{points.get(name, 0):g}" for name in names],
                    f"{grade.total:g}",
                    grade.problem or "",
                ]
            )
    tmp.replace(path)
    return path


def write_feedback(assignment: Path, grade: StudentGrade, title: str) -> Path:
    folder = assignment / "feedback"
    folder.mkdir(exist_ok=True)
    path = folder / f"{grade.student.student_id}.md"
    if grade.problem:
        text = f"## {title}: 0\n\n{grade.problem}: no points could be given.\n"
    else:
        report = {"total": grade.total, "max": grade.max, "data": grade.data, "items": grade.items}
        text = grader.markdown(report, title)
    path.write_text(f"# {grade.student.name}\n\n{text}", encoding="utf-8")
    return path
