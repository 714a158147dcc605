"""The bulk operations behind `mlscaffold cohort ...`: one call per command, results to print."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from mlscaffold import source
from mlscaffold.cohort import (
    environment,
    evidence,
    grading,
    overlay,
    parallel,
    repos,
    roster,
    sandbox,
)
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
    lock: bool = True,
) -> list[parallel.Outcome]:
    preset = presets.read(assignment)
    students = roster.read(roster_path)
    out.mkdir(parents=True, exist_ok=True)
    presets.record_roster(assignment, roster_path)  # `grade` grades this roster
    root = assignment.resolve()
    todo = [
        repos.NewJob(root, preset, s, (out / preset.repo_name(s)).resolve(), remote, lock)
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
    options: grading.Options,
    progress: Progress,
) -> tuple[list[grading.StudentGrade], Path, list[str]]:
    """Grade the roster `cohort new` used; also names repositories that are not on it."""
    assignment, folder = assignment.resolve(), folder.resolve()
    preset = presets.read(assignment)
    rubric = grading.read_rubric(assignment / presets.GRADING / presets.RUBRIC)
    students = roster.read(presets.roster_used(assignment))
    box = sandbox.choose(options.container, options.image, options.unsafe)
    progress(f"preparing the reference project (template {preset.version})")
    reference = grading.reference_project(assignment, preset)
    grading.check_data(assignment, preset.kind, reference)
    package = str(preset.answers["package_name"])
    if box.container:
        interpreter = sandbox.IN_IMAGE  # the image brings Python and the dependencies
    else:
        python = options.python or str(environment.python_for(reference, progress=progress))
        interpreter = grading.check_python(python, reference, package)
    shared = grading.Assignment(
        folder=assignment,
        preset=preset,
        reference=reference,
        rubric=rubric,
        python=interpreter,
        box=box,
        patterns=preset.student_files or overlay.default_patterns(reference, package),
        secrets=evidence.Secrets.gather(
            [assignment / presets.GRADING / "tests", assignment / presets.GRADING / "data"],
            reference,
        ),
        timeout=options.timeout,
        threads=max(1, (os.cpu_count() or 1) // options.jobs),
        seed=presets.secret_seed(assignment),
        visible_names=frozenset(evidence.test_functions(reference / "tests")),
    )
    _, described = grading.data_source(assignment, reference)
    if "bundled sample" in described and any(
        item["check"] in ("metric", "beats_baseline") for item in rubric
    ):
        progress(
            "warning: metric items are scored on the bundled sample, whose labels every "
            f"student has: put private labelled data in {assignment / presets.GRADING / 'data'}"
        )
    expected = {preset.repo_name(s) for s in students}
    strangers = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and p.name.startswith(f"{preset.assignment}-") and p.name not in expected
    )
    if strangers:
        progress(f"not on the roster (not graded): {', '.join(strangers)}")
    if box.name == "unsafe":
        progress("warning: --unsafe: student code runs without a sandbox, as you")
    todo = [grading.GradeJob(s, folder / preset.repo_name(s), shared) for s in students]
    outcomes = parallel.run_all(
        todo,
        grading.grade_one,
        jobs=options.jobs,
        label=lambda job: job.repo.name,
        describe=lambda g: g.problem or f"{g.total:g} / {g.max:g}",
        progress=progress,
        stop=box.stop_all,
    )
    grades = [o.result or grading.StudentGrade(o.item.student, problem=o.error) for o in outcomes]
    # written once, after every sandbox has ended: nothing a student ran is still alive
    for result in grades:
        grading.write_feedback(assignment, result, f"Grade for {preset.assignment}")
    timed_out = sum(g.timed_out for g in grades)
    if timed_out and options.jobs > 1:  # a busy machine slows honest code too: say so
        progress(
            f"{timed_out} timed out with {options.jobs} repositories sharing the cores; if the "
            "machine was busy, re-grade with --jobs 1 or a longer --timeout"
        )
    return grades, grading.write_grades(assignment, rubric, grades), strangers


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
