"""The bulk operations behind `mlscaffold cohort ...`: one call per command, results to print."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from mlscaffold import source
from mlscaffold.cohort import (
    environment,
    evidence,
    grading,
    overlay,
    parallel,
    probes,
    repos,
    roster,
    sandbox,
)
from mlscaffold.cohort import preset as presets
from mlscaffold.errors import UsageError

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


@contextlib.contextmanager
def grading_lock(assignment: Path) -> Iterator[None]:
    """One `cohort grade` per assignment: two would share the reference build and grades.csv.
    A `flock` dies with its holder, so the lock never goes stale."""
    try:
        import fcntl
    except ImportError:  # Windows: one grade at a time is up to the instructor
        yield
        return
    path = assignment / ".mlscaffold" / "grade.lock"
    path.parent.mkdir(exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise UsageError(
                f"another `cohort grade` (pid {holder}) is grading {assignment.name}",
                "wait for it to finish, or stop it, then grade again",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def hidden_suite(assignment: Path, rubric: list[dict], package: str) -> probes.HiddenSuite:
    """The hidden tests split once, before any student: a problem is the instructor's (exit 2)."""
    try:
        suite = probes.split(assignment / presets.GRADING / "tests", package)
    except probes.HiddenTestError as exc:
        raise UsageError(str(exc), "fix the hidden test (see README: hidden checks)") from None
    for item in rubric:
        if item["check"] != "pytest" or not item.get("hidden"):
            continue
        pairs, plain = suite.selected(str(item["node"]) if item.get("node") else None)
        if not pairs and not plain:
            raise UsageError(
                f"rubric item {item['name']!r}: no hidden test in grading/tests/ for it",
                "write a probe_/check_ pair there (see README: hidden checks)",
            )
    return suite


def grade(
    assignment: Path,
    folder: Path,
    options: grading.Options,
    progress: Progress,
) -> tuple[list[grading.StudentGrade], Path, list[str]]:
    """Grade the roster `cohort new` used; also names repositories that are not on it."""
    assignment, folder = assignment.resolve(), folder.resolve()
    presets.read(assignment)  # a clear error before any lock file is written
    with grading_lock(assignment):
        return _grade(assignment, folder, options, progress)


def _grade(
    assignment: Path,
    folder: Path,
    options: grading.Options,
    progress: Progress,
) -> tuple[list[grading.StudentGrade], Path, list[str]]:
    preset = presets.read(assignment)
    rubric = grading.read_rubric(assignment / presets.GRADING / presets.RUBRIC)
    suite = hidden_suite(assignment, rubric, str(preset.answers["package_name"]))
    for item in rubric:
        if item.get("hidden") and item["check"] == "pytest" and not item.get("inside"):
            _, plain = suite.selected(str(item["node"]) if item.get("node") else None)
            if plain:
                progress(
                    f"note: {item['name']!r} counts {len(plain)} pytest-style hidden tests, judged "
                    "inside the sandbox where student code can forge them: write them as "
                    "probe_/check_ pairs, or mark the item `inside: true`"
                )
    students = roster.read(presets.roster_used(assignment))
    box = sandbox.choose(options.container, options.image, options.unsafe)
    progress(f"preparing the reference project (template {preset.version})")
    reference = grading.reference_project(assignment, preset)
    seed = presets.secret_seed(assignment)
    grading.check_data(assignment, preset.kind, reference, seed)
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
        seed=seed,
        visible_names=frozenset(evidence.test_functions(reference / "tests")),
        hidden=suite,
    )
    _, described = grading.data_source(assignment, reference, preset.kind, seed)
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
    grades = []
    for o in outcomes:
        if o.result is None:  # the detail is for the instructor, never for feedback
            progress(f"{o.item.repo.name}: the grader failed: {o.error}")
        grades.append(
            o.result
            or grading.StudentGrade(o.item.student, problem=grading.INTERNAL, ungraded=True)
        )
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
