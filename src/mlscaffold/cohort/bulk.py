"""The bulk operations behind `mlscaffold cohort ...`: one call per command, results to print."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from mlscaffold import source
from mlscaffold.cohort import grader, grading, parallel, repos, roster
from mlscaffold.cohort import preset as presets

Progress = Callable[[str], None]


def init(folder: Path, kind: str, answers: dict, version: str | None) -> presets.Preset:
    from mlscaffold.generate import own_version

    folder.mkdir(parents=True, exist_ok=True)
    pinned = str(source.resolve(version or own_version(), source.shipped_bundle()))
    return presets.init(folder, kind, answers, pinned)


def new(
    assignment: Path,
    roster_path: Path,
    out: Path,
    remote: str | None,
    jobs: int,
    progress: Progress,
) -> list[parallel.Outcome]:
    preset = presets.read(assignment)
    students = roster.read(roster_path)
    out.mkdir(parents=True, exist_ok=True)
    todo = [
        repos.NewJob(assignment.resolve(), preset, s, (out / preset.repo_name(s)).resolve(), remote)
        for s in students
    ]
    progress(f"{len(todo)} student repositories of {preset.assignment} in {out}")
    return parallel.run_all(
        todo,
        repos.create_one,
        jobs=jobs,
        label=lambda job: job.dest.name,
        describe=str,
        progress=progress,
        processes=True,
    )


def status(folder: Path, assignment: Path | None) -> list[repos.RepoStatus]:
    preset = presets.read(assignment) if assignment else None
    return [repos.status_of(repo, preset) for repo in repos.student_repos(folder)]


def grade(
    assignment: Path,
    folder: Path,
    jobs: int,
    timeout: float,
    python: str | None,
    progress: Progress,
) -> tuple[list[grading.StudentGrade], Path]:
    preset = presets.read(assignment)
    rubric = grader.load_rubric(assignment / presets.GRADING / presets.RUBRIC)
    students = roster.read(assignment / presets.ROSTER)
    progress(f"preparing the instructor's tests (template {preset.version})")
    reference = grading.reference_project(assignment, preset)
    python = python or sys.executable
    grading.check_python(python, reference, str(preset.answers["package_name"]))
    todo = [
        grading.GradeJob(
            s,
            (folder / preset.repo_name(s)).resolve(),
            assignment.resolve(),
            reference,
            python,
            timeout,
            max(1, (os.cpu_count() or 1) // jobs),
        )
        for s in students
    ]
    outcomes = parallel.run_all(
        todo,
        grading.grade_one,
        jobs=jobs,
        label=lambda job: job.repo.name,
        describe=lambda g: g.problem or f"{g.total:g} / {g.max:g}",
        progress=progress,
        stop=grading.stop_all,
    )
    grades = []
    for outcome in outcomes:
        result = outcome.result or grading.StudentGrade(outcome.item.student, problem=outcome.error)
        grades.append(result)
        grading.write_feedback(assignment, result, f"Grade for {preset.assignment}")
    return grades, grading.write_grades(assignment, rubric, grades)


def update(
    folder: Path, to: str, branch: str | None, push: bool, jobs: int, progress: Progress
) -> list[parallel.Outcome]:
    version = source.resolve(to, source.shipped_bundle())
    todo = [
        repos.UpdateJob(repo.resolve(), str(version), branch or f"template-{version}", push)
        for repo in repos.student_repos(folder)
    ]
    return parallel.run_all(
        todo,
        repos.update_one,
        jobs=jobs,
        label=lambda job: job.repo.name,
        describe=lambda o: o.state + (f": {', '.join(o.detail)}" if o.detail else ""),
        progress=progress,
        processes=True,
    )
