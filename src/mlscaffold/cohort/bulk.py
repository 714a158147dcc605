"""The bulk operations behind `mlscaffold cohort ...`: one call per command, results to print."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    shards,
    summary,
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
def grading_lock(
    assignment: Path, name: str = "grade.lock", what: str = "", wait: bool = False
) -> Iterator[None]:
    """One `cohort grade` per assignment (per shard with --shard): two would share the
    reference build and grades.csv. `wait`: take turns instead (shards on one shared folder
    build what they share one after the other). A `flock` dies with its holder: never stale."""
    try:
        import fcntl
    except ImportError:  # Windows: one grade at a time is up to the instructor
        yield
        return
    path = assignment / ".mlscaffold" / name
    path.parent.mkdir(exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise UsageError(
                f"another `cohort grade` (pid {holder}) is grading {what or assignment.name}",
                "wait for it to finish, or stop it, then grade again",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _shared(assignment: Path) -> contextlib.AbstractContextManager[None]:
    return grading_lock(assignment, "prepare.lock", wait=True)


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


@dataclass
class Graded:
    """What `grade` and `merge` did, for the CLI to print."""

    grades: list[grading.StudentGrade]
    written: Path  # grades.csv, or the partial's folder
    strangers: list[str] = field(default_factory=list)
    summary: list[Path] = field(default_factory=list)

    @property
    def reused(self) -> int:
        return sum(g.reused for g in self.grades)


def grade(
    assignment: Path,
    folder: Path,
    options: grading.Options,
    progress: Progress,
    shard: shards.Shard | None = None,
    out: Path | None = None,
) -> Graded:
    """Grade the roster `cohort new` used (with `shard`, its slice, written to `out`); also
    names repositories that are not on it."""
    assignment, folder = assignment.resolve(), folder.resolve()
    presets.read(assignment)  # a clear error before any lock file is written
    if shard is None:
        with grading_lock(assignment):
            return _grade(assignment, folder, options, progress)
    assert out is not None
    shards.check_out(out)
    name = f"grade-{shard.index}-of-{shard.count}.lock"
    with grading_lock(assignment, name, f"{shard.label} of {assignment.name}"):
        return _grade(assignment, folder, options, progress, shard, out.resolve())


def _memory() -> int:
    """Bytes this process may use: the machine's, or its control group's limit (a pod's)."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError):
            total = min(total, int(Path(limit).read_text().strip()))
    return total


def _cores() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with contextlib.suppress(OSError, ValueError):  # a pod's CPU limit: "quota period"
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        cores = min(cores or 1, max(1, -(-int(quota) // int(period))))
    return cores or 1


RESERVED = 4 * 1024**3  # memory left to the machine itself


def default_jobs() -> tuple[int, str]:
    """Repositories at once: no more than the cores, and each may take a step's whole
    memory cap (sandbox.Limits.total_memory) with RESERVED left over."""
    cores, memory = _cores(), _memory()
    cap = sandbox.Limits(1).total_memory
    jobs = max(1, min(cores, (memory - RESERVED) // cap))
    gib = 1024**3
    return jobs, (
        f"--jobs {jobs}: {cores} cores, {memory / gib:.0f} GiB memory, up to {cap // gib} GiB "
        "a repository (pass --jobs to change it)"
    )


def _prepare(
    assignment: Path, options: grading.Options, progress: Progress
) -> tuple[grading.Assignment, int]:
    """What every student shares, built once (under a lock shards on one folder take in
    turn); also the number of repositories graded at once."""
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
    box = sandbox.choose(options.container, options.image, options.unsafe)
    jobs = options.jobs
    if jobs is None:
        jobs, chosen = default_jobs()
        progress(chosen)
    progress(f"preparing the reference project (template {preset.version})")
    with _shared(assignment):
        reference = grading.reference_project(assignment, preset)
        seed = presets.secret_seed(assignment)
        grading.check_data(assignment, preset.kind, reference, seed)
        package = str(preset.answers["package_name"])
        if box.container:
            interpreter = sandbox.IN_IMAGE  # the image brings Python and the dependencies
        else:
            python = options.python or str(environment.python_for(reference, progress=progress))
            interpreter = grading.check_python(python, reference, package)
        _, described = grading.data_source(assignment, reference, preset.kind, seed)
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
        threads=max(1, (os.cpu_count() or 1) // jobs),
        seed=seed,
        visible_names=frozenset(evidence.test_functions(reference / "tests")),
        hidden=suite,
    )
    if "bundled sample" in described and any(
        item["check"] in ("metric", "beats_baseline") for item in rubric
    ):
        progress(
            "warning: metric items are scored on the bundled sample, whose labels every "
            f"student has: put private labelled data in {assignment / presets.GRADING / 'data'}"
        )
    if box.name == "unsafe":
        progress("warning: --unsafe: student code runs without a sandbox, as you")
    return shared, jobs


def _grade_student(
    job: grading.GradeJob,
    options: grading.Options,
    record: dict[str, dict[str, Any]],
    wanted: dict[str, Any],
) -> grading.StudentGrade:
    """The student's commit (the last, or the last before --before); its earlier grade when
    neither it nor the assignment changed, else a grading of exactly that commit."""
    started = time.monotonic()
    try:
        sha = overlay.commit(job.repo, options.before)
    except Exception:  # no repository, not its own .git, no commit: grade_one says which
        sha = ""
    if sha is None:
        result = grading.StudentGrade(
            job.student, max=sum(item["points"] for item in job.assignment.rubric)
        )
        result.problem = f"no commit before {options.before}"
        return result
    if sha and not options.force:
        kept = shards.reusable(record, job.student, sha, wanted)
        if kept is not None:
            return kept
    result = grading.grade_one(dataclasses.replace(job, rev=sha or "HEAD"))
    result.commit = sha or None
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _grade(
    assignment: Path,
    folder: Path,
    options: grading.Options,
    progress: Progress,
    shard: shards.Shard | None = None,
    out: Path | None = None,
) -> Graded:
    started = shards.now()
    shared, jobs = _prepare(assignment, options, progress)
    preset, rubric = shared.preset, shared.rubric
    students = roster.read(presets.roster_used(assignment))
    everyone = students
    if shard is not None:
        students = shards.select(students, shard)
        progress(f"{shard.label}: {len(students)} of {len(everyone)} students")
    expected = {preset.repo_name(s) for s in everyone}
    strangers = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and p.name.startswith(f"{preset.assignment}-") and p.name not in expected
    )
    if strangers:
        progress(f"not on the roster (not graded): {', '.join(strangers)}")
    found = shards.parts(assignment, preset, shared.seed)
    wanted = shards.key(shards.digest(found), options.timeout)
    record = {} if options.force else shards.read_record(assignment)
    todo = [grading.GradeJob(s, folder / preset.repo_name(s), shared) for s in students]
    outcomes = parallel.run_all(
        todo,
        lambda job: _grade_student(job, options, record, wanted),
        jobs=jobs,
        label=lambda job: job.repo.name,
        describe=lambda g: (
            ("reused: " if g.reused else "")
            + (g.problem or f"{g.total:g} / {g.max:g}")
            + (
                " (the same files as one graded before it: not run again)"
                if g.same_as_graded
                else ""
            )
        ),
        progress=progress,
        stop=shared.box.stop_all,
    )
    grades = []
    for o in outcomes:
        if o.result is None:  # the detail is for the instructor, never for feedback
            progress(f"{o.item.repo.name}: the grader failed: {o.error}")
        grades.append(
            o.result
            or grading.StudentGrade(o.item.student, problem=grading.INTERNAL, ungraded=True)
        )
    reused = sum(g.reused for g in grades)
    if reused:
        progress(
            f"{reused} of {len(grades)} reused: the same commit and assignment as at the last "
            "grading (--force re-grades them)"
        )
    same = sum(g.same_as_graded for g in grades)
    if same:
        progress(
            f"{same} of {len(grades)} held files byte for byte the same as a repository graded "
            "before them in this run (an untouched project, most often): their grade is that one's"
        )
    timed_out = sum(g.timed_out for g in grades)
    if timed_out and jobs > 1:  # a busy machine slows honest code too: say so
        progress(
            f"{timed_out} timed out with {jobs} repositories sharing the cores; if the "
            "machine was busy, re-grade with --jobs 1 or a longer --timeout"
        )
    title = f"Grade for {preset.assignment}"
    # written once, after every sandbox has ended: nothing a student ran is still alive
    if shard is not None and out is not None:
        manifest = shards.Manifest(
            assignment=preset.assignment,
            digest=shards.digest(found),
            parts=found,
            roster=shards.roster_hash(everyone),
            shard=str(shard),
            students=[s.student_id for s in students],
            options={"timeout": options.timeout, "before": options.before},
            started=started,
            ended=shards.now(),
        )
        written = shards.write_partial(out, manifest, grades, title)
        summary_folder = out
    else:
        for result in grades:
            grading.write_feedback(assignment, result, title)
        written = grading.write_grades(assignment, rubric, grades)
        summary_folder = assignment
    with _shared(assignment):
        shards.update_record(assignment, grades, wanted)
    made = summary.write(summary_folder, f"Summary of {preset.assignment}", rubric, grades)
    return Graded(grades, written, strangers, made)


def merge(assignment: Path, parts: list[Path], progress: Progress) -> Graded:
    """grades.csv, feedback/ and the summary from the shards' partial results, exactly as
    one `grade` of the whole class would write them."""
    assignment = assignment.resolve()
    preset = presets.read(assignment)
    with grading_lock(assignment):
        rubric = grading.read_rubric(assignment / presets.GRADING / presets.RUBRIC)
        if not (assignment / ".mlscaffold" / "seed").is_file():
            raise UsageError(
                f"{assignment / '.mlscaffold' / 'seed'} is missing (the secret seed)",
                "merge in the assignment folder the shards were graded with",
            )
        found = shards.parts(assignment, preset, presets.secret_seed(assignment))
        students = roster.read(presets.roster_used(assignment))
        expected = shards.Manifest(
            preset.assignment, shards.digest(found), found, shards.roster_hash(students),
            "", [], {}, "",
        )  # fmt: skip
        grades, used = shards.merge(parts, expected, students)
        progress(f"{len(parts)} partial results, {len(grades)} students")
        title = f"Grade for {preset.assignment}"
        for result in grades:
            grading.write_feedback(assignment, result, title)
        written = grading.write_grades(assignment, rubric, grades)
        wanted = shards.key(expected.digest, used.get("timeout"))
        with _shared(assignment):
            shards.update_record(assignment, grades, wanted)
        made = summary.write(assignment, f"Summary of {preset.assignment}", rubric, grades)
    return Graded(grades, written, [], made)


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
