"""Grade every student repository the same way, in a sandbox, from evidence the student
cannot write.

For each repository: build the graded tree (the reference project at the assignment's
version with only the student's allowed files laid over it, read from their last commit);
split the evaluation data into a training part, which goes into the tree, and hidden labels,
which never leave this process; then run each step (lint, the tests, the pipeline, the
predictions, the hidden tests) in a sandbox of its own (`sandbox.py`). Points come from what
this process computes itself: metrics from the predictions against the hidden labels, test
outcomes from reports read after the sandbox ended and cross-checked with canary tests
(`evidence.py`). A crash or timeout is a zero with the reason; tampering is a zero with
"tampering suspected".
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscaffold.cohort import evidence, grader, overlay, probes, sandbox, scoring, trees
from mlscaffold.cohort import preset as presets
from mlscaffold.cohort.roster import Student
from mlscaffold.errors import UsageError

DRIVER = "predict_hidden.py"


@dataclass(frozen=True)
class Options:
    """How `cohort grade` runs (the CLI's options)."""

    jobs: int | None = None  # None: what the machine's cores and memory allow
    timeout: float = 900
    python: str | None = None  # default: an environment built from the reference project
    container: str | None = None  # docker | podman instead of bubblewrap
    image: str | None = None
    unsafe: bool = False  # no sandbox at all: only when the instructor says so
    force: bool = False  # re-grade students whose commit and assignment did not change
    before: str | None = None  # grade the last commit before this time (git's --before)


def read_rubric(path: Path) -> list[dict[str, Any]]:
    try:
        return grader.load_rubric(path)
    except grader.RubricError as exc:
        raise UsageError(str(exc), "fix the rubric (see the comments in its example)") from None


# the pipeline is in the plumbing subpackage since template 0.4.0, at the top before
_IMPORT_CHECK = (
    "import importlib, importlib.util, pytest, {package}.steps; "
    "importlib.import_module('{package}.plumbing.pipeline' "
    "if importlib.util.find_spec('{package}.plumbing') else '{package}.pipeline')"
)


def check_python(python: str, reference: Path, package: str) -> sandbox.Interpreter:
    """Fail once, clearly, when the grading interpreter lacks the projects' dependencies
    (else every student would get zeros for the instructor's setup)."""
    import subprocess

    found = sandbox.interpreter(python)
    done = subprocess.run(
        [python, "-c", _IMPORT_CHECK.format(package=package)],
        cwd=reference,
        env={**os.environ, "PYTHONPATH": str(reference / "src")},
        capture_output=True,
        text=True,
    )
    missing = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1]
    if not missing and not (found.bin / "ruff").is_file():
        missing = f"no ruff in {found.bin}"
    if missing:
        raise UsageError(
            f"{python} cannot grade the projects ({missing})",
            f"drop --python (an environment is built), or pass one where "
            f"`pip install -e '{reference}[dev]'` ran",
        )
    return found


class TreeMemo:
    """Rubric items by the digest of the tree they were graded from, for one grading run
    (one evaluation split, one rubric): what a step does depends on nothing else. One lock
    per digest: a second identical tree waits for the first's items instead of running."""

    def __init__(self) -> None:
        self._items: dict[str, list[dict[str, Any]]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, digest: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(digest, threading.Lock())

    def get(self, digest: str) -> list[dict[str, Any]] | None:
        found = self._items.get(digest)
        return None if found is None else [dict(item) for item in found]

    def put(self, digest: str, items: list[dict[str, Any]]) -> None:
        self._items[digest] = [dict(item) for item in items]


def tree_digest(root: Path) -> str:
    """SHA-256 of a tree: every path, its kind (file, executable file, link, folder), a
    file's bytes and a link's target, in a fixed order. The graded tree is bounded already
    (overlay's caps), so this walk is too."""
    digest = hashlib.sha256()
    for folder, names, files in os.walk(root):
        names.sort()
        here = Path(folder)
        for name in sorted(files + [n for n in names if (here / n).is_symlink()]):
            path = here / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                digest.update(f"L {relative}\0{os.readlink(path)}\0".encode())
            elif path.is_file():
                mode = "X" if os.access(path, os.X_OK) else "F"
                digest.update(f"{mode} {relative}\0{path.stat().st_size}\0".encode())
                digest.update(path.read_bytes())
            else:  # a FIFO or socket: named, never read
                digest.update(f"O {relative}\0".encode())
        for name in names:
            if not (here / name).is_symlink():
                digest.update(f"D {(here / name).relative_to(root).as_posix()}\0".encode())
        names[:] = [n for n in names if not (here / n).is_symlink()]
    return digest.hexdigest()


@dataclass(frozen=True)
class Assignment:
    """What every student of one grading run shares (built once, read by every job)."""

    folder: Path
    preset: presets.Preset
    reference: Path
    rubric: list[dict[str, Any]]
    python: sandbox.Interpreter
    box: sandbox.Sandbox
    patterns: list[str]
    secrets: evidence.Secrets
    timeout: float
    threads: int = 1  # per repository: the cores divided by --jobs
    memory: int = sandbox.Limits(1).memory
    seed: int = 0  # the assignment's own, unknown to students: which rows are held out
    visible_names: frozenset[str] = frozenset()  # the reference's test functions
    hidden: probes.HiddenSuite = field(default_factory=probes.HiddenSuite)
    # graded trees of this run, by content: a student whose graded tree is byte for byte
    # one already graded (an untouched project, most often) gets its items without a run
    same_tree: TreeMemo = field(default_factory=lambda: TreeMemo(), compare=False)

    @property
    def package(self) -> str:
        return str(self.preset.answers["package_name"])

    @property
    def hidden_tests(self) -> Path:
        return self.folder / presets.GRADING / "tests"

    @property
    def data_source(self) -> tuple[Path, str]:
        return data_source(self.folder, self.reference, self.preset.kind, self.seed)


FRESH = "fresh rows the grader made (the sample's generator with the assignment's secret seed)"


def data_source(folder: Path, reference: Path, kind: str, seed: int) -> tuple[Path, str]:
    """The labelled data the evaluation split comes from, and how feedback names it: the
    instructor's; else fresh rows made with the assignment's secret seed, so a lookup table
    of the bundled sample is worth nothing; else (a kind no generator can make) the
    bundled sample, which every student has."""
    from mlscaffold.cohort import fresh

    data = folder / presets.GRADING / "data"
    if data.is_dir() and any(p.is_file() and p.name != "README.md" for p in data.rglob("*")):
        return data, "the instructor's evaluation data"
    answers = reference_answers(reference)
    made = folder / ".mlscaffold" / "fresh-data" / presets.assignment_slug(folder)
    if not (made / ".complete").is_file():
        shutil.rmtree(made, ignore_errors=True)
        staging = made.with_name(made.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        if fresh.make(kind, answers, seed, staging):
            (staging / ".complete").write_text("")
            staging.rename(made)
    if (made / ".complete").is_file():
        return made, FRESH
    return reference / "data" / "sample", "the bundled sample"


@dataclass(frozen=True)
class GradeJob:
    student: Student
    repo: Path
    assignment: Assignment
    rev: str = "HEAD"  # the commit graded (a sha: HEAD may move while grading runs)


@dataclass
class StudentGrade:
    student: Student
    items: list[dict[str, Any]] = field(default_factory=list)
    total: float = 0
    max: float = 0
    data: str = ""
    problem: str | None = None  # why the grade is zero (no repository, timeout, tampering)
    not_graded: list[str] = field(default_factory=list)  # files changed that are not theirs
    timed_out: bool = False
    ungraded: bool = False  # no grade could be given (as opposed to a zero with a reason)
    commit: str | None = None  # the sha graded: the same sha and assignment are not re-run
    seconds: float = 0.0  # the grading's wall time (the summary's slowest repositories)
    reused: bool = False  # kept from the last grading: nothing ran
    same_as_graded: bool = False  # its tree was byte for byte one graded in this run
    # per step: what ran, seconds inside the sandbox (the student's code and its start-up),
    # seconds of the grader's own work around it (fresh tree, outputs carried)
    steps: list[dict[str, Any]] = field(default_factory=list)


def reference_project(assignment: Path, preset: presets.Preset) -> Path:
    """The project as the template makes it at the assignment's version: the source of every
    file a student may not change. Made once per version, under the assignment folder."""
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


def reference_answers(reference: Path) -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load((reference / ".copier-answers.yml").read_text(encoding="utf-8")))


INTERNAL = "the grader failed on this repository (re-grade it; report it if it happens again)"


class TimedOut(Exception):
    pass


# what the pipeline makes that later steps (predictions, hidden tests) read
OUTPUTS = ("models", "reports", "runs", "data/processed", "data/raw", "submissions")
MAX_CARRIED = 2 * 1024**3
MAX_CARRIED_FILES = 20_000
MAX_DEPTH = 64  # folders a step may make that the grader walks (1,200 levels broke copies)
MAX_TREE_ENTRIES = 100_000


def carry_outputs(project: Path, outputs: Path) -> None:
    """Copy what a step made into `outputs`: plain files only, never through a link, with a
    cap; what the next step sees is the pristine tree plus these files, nothing else."""
    total, count = 0, 0
    for name in OUTPUTS:
        top = project / name
        if top.is_symlink() or not top.is_dir():
            continue
        walk = trees.files(top, max_depth=MAX_DEPTH, max_entries=4 * MAX_CARRIED_FILES)
        try:
            for source in walk:
                try:
                    data = sandbox.read_output(source, MAX_CARRIED - total)
                except sandbox.UnsafeOutput:
                    continue  # links, FIFOs and oversized files are left behind
                count += 1
                total += len(data)
                if count > MAX_CARRIED_FILES:
                    return
                target = outputs / source.relative_to(project)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        except trees.TooLarge:  # folders past the depth or entry cap: what is left, stays
            continue


def step_label(argv: list[str]) -> str:
    """A step's command in a few words for the profile (`ruff check`, `-m hw1 all`,
    `driver.py`): the program's name and its first arguments, no paths."""
    words = [Path(argv[0]).name, *[a for a in argv[1:] if not a.startswith("-P")][:3]]
    return " ".join(Path(w).name if "/" in w else w for w in words)


class _Run:
    """One student's steps. Every step gets a fresh copy of the graded tree (plus what the
    pipeline made, carried as plain files): nothing a step writes (a conftest.py, a
    ruff.toml, a `tests` link) reaches a later step or the grader's own file operations."""

    def __init__(self, job: GradeJob, scratch: Path) -> None:
        self.job, self.a = job, job.assignment
        self.scratch = scratch
        self.pristine = scratch / "pristine"
        self.outputs = scratch / "outputs"
        self.inputs = scratch / "inputs"
        self.training = scratch / "training"  # the evaluation data's training part
        self.project = self.pristine
        self.deadline = self.a.timeout
        self.spent = 0.0
        self.steps = 0
        self.profile: list[dict[str, Any]] = []

    def fresh_tree(self, split: bool) -> Path:
        """A new writable tree for the next step; the previous one is removed. `split`: its
        data/sample/ is the training part of the evaluation data (the pipeline and what reads
        its outputs); else the bundled sample the project's own tests were written for."""
        if self.project != self.pristine:
            trees.remove(self.project)  # iterative, never follows links, any depth
        self.project = self.scratch / f"project-{self.steps + 1}"
        limits = {"max_depth": MAX_DEPTH, "max_entries": MAX_TREE_ENTRIES}
        trees.copy(self.pristine, self.project, **limits)
        if self.outputs.is_dir():
            trees.copy(self.outputs, self.project, merge=True, **limits)
        if split:
            sample = self.project / "data" / "sample"
            trees.remove(sample)
            shutil.copytree(self.training, sample)  # the grader's own folder
        return self.project

    def env(self, paths: dict[str, Path]) -> dict[str, str]:
        threads = str(self.a.threads)
        inside = self.a.box.name != "unsafe"
        return {
            "PATH": f"{self.a.python.bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(sandbox.INSIDE / "home") if inside else str(self.scratch / "home"),
            "TMPDIR": "/tmp" if inside else str(self.scratch / "tmp"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(paths["project"] / "src"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONHASHSEED": "0",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # no entry-point plugin decides an outcome
            "NO_COLOR": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            # OpenMP pools spin-wait: two repositories each taking every core made grading
            # 10x slower (241 s against 21 s for one project's tests)
            "OMP_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
        }

    def python(self) -> list[str]:
        # -P (3.11+): the working folder is not put first on sys.path
        return [self.a.python.python, *(["-P"] if self.a.python.version >= (3, 11) else [])]

    def step(
        self,
        argv_of: Any,
        inputs: bool = False,
        prepare: Any = None,
        keep: bool = False,
        split: bool = False,
    ) -> tuple[sandbox.Result, Path]:
        """Run one step in a fresh tree (`prepare(tree)` adds what the grader puts there);
        returns its result and its own output folder. `keep`: carry what it made."""
        started = time.monotonic()
        project = self.fresh_tree(split)
        if prepare is not None:
            prepare(project)
        self.steps += 1
        out = self.scratch / f"out-{self.steps}"
        out.mkdir(exist_ok=True)
        for name in ("tmp", "home"):
            trees.remove(self.scratch / name)
            (self.scratch / name).mkdir()
        layout = sandbox.Layout(
            project,
            out,
            self.inputs if inputs else None,
            self.a.python.folders,
            tmp=self.scratch / "tmp",
            home=self.scratch / "home",
        )
        paths = self.a.box.inside(layout)
        left = self.deadline - self.spent
        if left <= 0:
            raise TimedOut
        limits = sandbox.Limits(left, memory=self.a.memory)
        argv = argv_of(paths)
        result = self.a.box.run(argv, layout, self.env(paths), limits)
        self.spent += result.seconds
        if result.timed_out:
            raise TimedOut
        if keep:
            carry_outputs(project, self.outputs)
        host = time.monotonic() - started - result.seconds
        self.profile.append(
            {"step": step_label(argv), "inside": round(result.seconds, 2), "host": round(host, 2)}
        )
        return result, out

    # ---- the checks -------------------------------------------------------------------

    def lint(self, own: list[str]) -> tuple[bool, str]:
        """ruff on the whole tree, and on the student's own changed files with their `noqa`
        comments ignored: a `# ruff: noqa` does not switch the item off."""
        ruff = str(self.a.python.bin / "ruff")
        checks = [
            ([ruff, "check", "."], "ruff check found problems: run `make lint`"),
            ([ruff, "format", "--check", "."], "ruff format would change files: run `make format`"),
        ]
        if own:
            checks.insert(
                1,
                (
                    [ruff, "check", "--ignore-noqa", "--", *own],
                    "ruff check found problems that `noqa` comments hide: fix them",
                ),
            )
        for argv, failed in checks:
            result, _ = self.step(lambda _p, argv=argv: argv)
            if not result.ok:
                return False, failed
        return True, "ruff: clean"

    def pytest(self, targets: list[str], folder: str, hidden: bool = False) -> evidence.TestReport:
        """Run tests with fresh canaries beside them; the report is read after the sandbox."""
        canaries = evidence.Canaries()

        def prepare(tree: Path) -> None:
            if hidden:  # only what may enter a sandbox: never a check_ or its expectations
                self.a.hidden.write_inside(tree / grader.HIDDEN_TESTS)
            canaries.write(tree / folder)

        _, out = self.step(
            lambda paths: [
                *self.python(),
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "--continue-on-collection-errors",  # the canaries run whatever else breaks
                f"--junitxml={paths['out'] / 'report.xml'}",
                *targets,
                f"{folder}/{canaries.filename}",
            ],
            prepare=prepare,
            split=hidden,
        )
        return evidence.read_report(out / "report.xml", canaries)

    def visible_tests(self, item: dict[str, Any]) -> tuple[bool, str]:
        node = item.get("node")
        targets = [node] if node else ["tests", f"--ignore={grader.HIDDEN_TESTS}"]
        report = self.pytest(targets, "tests")
        known = self.a.visible_names  # names from the report are the student's to write
        failed = sorted(n for n, o in report.outcomes.items() if o == "failed" and n in known)
        passed = sum(o == "passed" for n, o in report.outcomes.items() if n in known)
        if failed or not passed:
            shown = ", ".join(failed[:5]) or "no test passed"
            return False, f"{len(failed)} failed: {shown} (run `make test` to see why)"
        return True, f"{passed} passed"

    def probe_values(self) -> dict[str, Any] | None:
        """Run every probe_ in a sandbox; what it returns is data, judged here later."""
        folder = self.scratch / f"out-{self.steps + 1}"
        folder.mkdir()
        (folder / "run_probes.py").write_text(probes.RUNNER, encoding="utf-8")

        def argv(paths: dict[str, Path]) -> list[str]:
            hidden = paths["project"] / grader.HIDDEN_TESTS
            runner, values = paths["out"] / "run_probes.py", paths["out"] / probes.RESULTS
            return [*self.python(), str(runner), str(hidden), str(values)]

        _, out = self.step(
            argv,
            prepare=lambda tree: self.a.hidden.write_inside(tree / grader.HIDDEN_TESTS),
            split=True,
        )
        return probes.read_values(out / probes.RESULTS)

    def hidden_tests(self, item: dict[str, Any]) -> tuple[bool, str]:
        """Pairs judged here, plain tests judged inside (from the report, canaries beside)."""
        node = item.get("node")
        pairs, plain = self.a.hidden.selected(str(node) if node else None)
        outcomes: list[str] = []
        if plain:
            target = f"{grader.HIDDEN_TESTS}/{node}" if node else grader.HIDDEN_TESTS
            report = self.pytest([target], grader.HIDDEN_TESTS, hidden=True)
            outcomes += [
                probes.PASSED if report.passed(name) else probes.FAILED for name in sorted(plain)
            ]
        if pairs:
            values = self.probe_values()
            outcomes += [v.outcome for v in probes.judge(self.a.hidden, pairs, values)]
        passed = outcomes.count(probes.PASSED)
        ok = bool(outcomes) and passed == len(outcomes)
        how = "judged inside the sandbox" if plain else "verified outside the sandbox"
        if item.get("show_counts"):
            reason = f"{passed} of {len(outcomes)} hidden tests passed ({how})"
        else:
            reason = f"{'passed' if ok else 'failed'} ({how})"
        if not ok and item.get("message"):
            reason += f": {item['message']}"  # the instructor's own words, never the tests'
        return ok, reason

    def pipeline(self) -> tuple[bool, str]:
        result, _ = self.step(
            lambda _p: [*self.python(), "-m", self.a.package, "all", "--sample"],
            keep=True,
            split=True,
        )
        if result.ok:
            return True, "the pipeline ran"
        if result.resource_limit:
            return False, f"the pipeline failed: {result.limit}"
        return False, "the pipeline failed: run `make all SAMPLE=1` to see why"

    def predictions(self, adapter: scoring.Adapter, holdout: scoring.Holdout) -> dict[str, Any]:
        """Metrics this process computes from the project's predictions on hidden inputs."""
        source = adapter.driver(self.a.package)

        def argv(paths: dict[str, Path]) -> list[str]:
            driver = paths["out"] / DRIVER  # a fresh folder: nothing earlier could touch it
            return [*self.python(), str(driver), str(paths["inputs"]), str(paths["out"] / "p.json")]

        (self.scratch / f"out-{self.steps + 1}").mkdir()
        (self.scratch / f"out-{self.steps + 1}" / DRIVER).write_text(source, encoding="utf-8")
        result, out = self.step(argv, inputs=True, split=True)
        if result.resource_limit:
            raise scoring.ScoringError(f"making predictions failed: {result.limit}")
        if not result.ok:
            raise scoring.ScoringError(
                "making predictions with the trained model failed: check that `make predict` works"
            )
        predictions = scoring.read_predictions(out / "p.json")  # capped, never via a link
        return adapter.score(predictions, holdout)


def _metric_check(item: dict[str, Any], metrics: dict[str, Any]) -> tuple[bool, str]:
    if item["check"] == "beats_baseline":
        name, higher = metrics["headline"], bool(metrics["higher_is_better"])
        left, symbol, right = f"model.{name}", (">" if higher else "<"), f"baseline.{name}"
    else:
        left, symbol, right = grader.parse_expression(str(item["expr"]), item["name"])
    try:
        value = grader.lookup(metrics, left)
        bound = float(right) if grader._is_number(right) else grader.lookup(metrics, right)
    except KeyError as exc:
        known = ", ".join(f"{side}.{k}" for side in ("model", "baseline") for k in metrics[side])
        return False, f"no metric {exc.args[0]} (the grader computes {known})"
    if not (math.isfinite(value) and math.isfinite(bound)):
        return False, f"{left} is not a finite number"
    passed = grader.OPERATORS[symbol](value, bound)
    return passed, f"{left} = {value:.4f} on hidden data ({symbol} {bound:.4f} needed)"


def _grade(run: _Run, job: GradeJob, result: StudentGrade) -> None:
    a = job.assignment
    taken = overlay.build(a.reference, job.repo, run.pristine, a.patterns, rev=job.rev)
    result.not_graded = taken.refused
    digest = tree_digest(run.pristine)
    with a.same_tree.lock(digest):
        items = a.same_tree.get(digest)
        if items is None:
            _grade_tree(run, job, result, taken)
            a.same_tree.put(digest, result.items)  # only a grade that ran to its end
        else:
            result.items, result.same_as_graded = items, True
            result.data = a.data_source[1]
            result.total = sum(item["points"] for item in items)


def _grade_tree(run: _Run, job: GradeJob, result: StudentGrade, taken: overlay.Overlay) -> None:
    a = job.assignment
    adapter = scoring.for_kind(a.preset.kind)
    source, result.data = a.data_source
    run.training.mkdir()
    run.inputs.mkdir()
    holdout = adapter.prepare(
        source, run.training, run.inputs, reference_answers(a.reference), seed=a.seed
    )
    own = [  # the student's Python that differs from the reference: linted without noqa
        path
        for path in taken.taken
        if path.endswith(".py")
        and (run.pristine / path).read_bytes()
        != ((a.reference / path).read_bytes() if (a.reference / path).is_file() else b"")
    ]
    outcomes: dict[str, tuple[bool, str]] = {}
    metrics: dict[str, Any] | None = None
    scoring_error = ""

    def pipeline_and_metrics() -> None:
        nonlocal metrics, scoring_error
        if "pipeline" in outcomes:
            return
        outcomes["pipeline"] = run.pipeline()
        if outcomes["pipeline"][0]:
            try:
                metrics = run.predictions(adapter, holdout)
            except scoring.ScoringError as exc:
                # the adapter's message may quote what the student wrote: never shown
                scoring_error = (
                    str(exc)
                    if str(exc).startswith("making predictions")
                    else (
                        "its predictions could not be scored (missing, malformed or not one per "
                        "input)"
                    )
                )
                outcomes["pipeline"] = (False, f"the pipeline ran but {scoring_error}")

    # hidden tests last: nothing that runs after them can carry their text into feedback
    order = sorted(a.rubric, key=lambda item: bool(item.get("hidden")))
    rows: dict[str, dict[str, Any]] = {}
    for item in order:
        check = item["check"]
        if check == "lint":
            passed, reason = run.lint(own)
        elif check == "pytest" and item.get("hidden"):
            pipeline_and_metrics()
            passed, reason = run.hidden_tests(item)
        elif check == "pytest":
            passed, reason = run.visible_tests(item)
        else:
            pipeline_and_metrics()
            if check == "pipeline":
                passed, reason = outcomes["pipeline"]
            elif metrics is None:
                passed, reason = False, outcomes["pipeline"][1]
            else:
                passed, reason = _metric_check(item, metrics)
        rows[item["name"]] = {
            "name": item["name"],
            "check": check,
            "points": item["points"] if passed else 0,
            "max": item["points"],
            "passed": passed,
            "reason": reason,
        }
    result.items = [rows[item["name"]] for item in a.rubric]
    result.total = sum(row["points"] for row in result.items)


def check_data(folder: Path, kind: str, reference: Path, seed: int) -> None:
    """Split the evaluation data once before any student: a problem with it is the
    instructor's to fix (exit 2), not a zero for everyone."""
    source, _ = data_source(folder, reference, kind, seed)
    answers = reference_answers(reference)
    try:  # a missing file first, by name: test.csv, sample_submission.csv, images.npz, ...
        scoring.check_layout(kind, source, reference, answers)
    except scoring.LayoutError as exc:
        raise UsageError(
            f"the evaluation data is incomplete: {exc}",
            "add the missing file there (the reference project's data/sample/ has one of each)",
        ) from None
    with tempfile.TemporaryDirectory(prefix="mlscaffold-check-") as tmp:
        sample, inputs = Path(tmp) / "sample", Path(tmp) / "inputs"
        sample.mkdir()
        inputs.mkdir()
        try:
            scoring.for_kind(kind).prepare(source, sample, inputs, answers)
        except (scoring.PrepareError, OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"cannot split the evaluation data in {source}: {exc}",
                "put labelled data there in the layout of the project's data/sample/",
            ) from None


def grade_one(job: GradeJob) -> StudentGrade:
    result = StudentGrade(job.student, max=sum(item["points"] for item in job.assignment.rubric))
    dot_git = job.repo / ".git"
    if not dot_git.exists() and not dot_git.is_symlink():
        result.problem, result.ungraded = "no repository", True
        return result
    if dot_git.is_symlink() or not dot_git.is_dir():  # a gitdir: file names another's work
        result.problem = "not a repository of its own (its .git is not a folder)"
        result.ungraded = True
        return result
    with trees.scratch("mlscaffold-grade-") as tmp:  # removed whatever happened, any depth
        run = _Run(job, tmp)
        try:
            _grade(run, job, result)
        except TimedOut:
            result.problem = f"timed out after {job.assignment.timeout:g} s"
            result.timed_out = True
        except evidence.Tampering as exc:
            result.problem = f"tampering suspected: {exc}"
        except scoring.ScoringError:
            result.problem = "the predictions could not be scored"
        except overlay.NotARepository as exc:
            result.problem, result.ungraded = str(exc), True
        except overlay.TooLarge as exc:
            result.problem, result.ungraded = str(exc), True
        except Exception:  # never a student's text, nor an exception's name
            result.problem, result.ungraded = INTERNAL, True
        result.steps = run.profile
    if result.problem:
        result.items, result.total = [], 0
    return result


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: no formula (`= + - @`, tab, CR first), one line."""
    text = " ".join(str(value).split())
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_grades(
    assignment: Path, rubric: list[dict[str, Any]], grades: list[StudentGrade]
) -> Path:
    names = [item["name"] for item in rubric]
    path = assignment / "grades.csv"
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [csv_cell(n) for n in ("student_id", "github_user", *names, "total", "note")]
        )
        for grade in grades:
            points = {row["name"]: row["points"] for row in grade.items}
            writer.writerow(
                [
                    csv_cell(grade.student.student_id),
                    csv_cell(grade.student.github_user),
                    *[f"{points.get(name, 0):g}" for name in names],
                    f"{grade.total:g}",
                    csv_cell(grade.problem or ""),
                ]
            )
    tmp.replace(path)
    return path


def write_feedback(assignment: Path, grade: StudentGrade, title: str) -> Path:
    folder = assignment / "feedback"
    folder.mkdir(exist_ok=True)
    path = folder / f"{grade.student.student_id}.md"
    safe = grader.markdown_text
    if grade.problem:
        text = f"## {safe(title)}: 0\n\n{safe(grade.problem)}: no points could be given.\n"
    else:
        report = {"total": grade.total, "max": grade.max, "data": grade.data, "items": grade.items}
        text = grader.markdown(report, title)
    if grade.not_graded:
        shown = ", ".join(safe(p) for p in grade.not_graded[:10])
        shown += " ..." if len(grade.not_graded) > 10 else ""
        text += f"\nNot graded (the assignment's own files were used instead): {shown}\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"# {safe(grade.student.name)}\n\n{text}", encoding="utf-8")
    tmp.replace(path)
    return path
