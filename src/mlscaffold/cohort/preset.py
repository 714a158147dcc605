"""An assignment folder: cohort.yml (kind, locked answers, pinned version), the roster and
grading/ (rubric, hidden tests, hidden data). `init` writes a working example of each."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlscaffold import catalog
from mlscaffold.cohort import roster
from mlscaffold.errors import UsageError

PRESET = "cohort.yml"
ROSTER = "roster.csv"
GRADING = "grading"
RUBRIC = "rubric.yml"
# answers that come from each student's roster row, never from the preset
STUDENT_ANSWERS = ("author_name", "author_email", "github_user", "repository_name")

DEFAULT_RUBRIC = """\
# Points per check. Items with `hidden: true` run only on the instructor's machine
# (`mlscaffold cohort grade`); the others also run in each student's repository on every
# push (.github/workflows/grade.yml). Checks: pytest (optional `node`), lint, pipeline,
# beats_baseline (the headline metric), metric (`expr: "model.accuracy >= 0.85"`: KEY OP
# NUMBER-or-KEY). `cohort grade` computes the metrics itself, on a quarter of the labelled
# data held out from training (grading/data/, else fresh rows made with the assignment's
# secret seed, else the bundled sample): `model.NAME` and `baseline.NAME` with the names
# reports/metrics.json uses. A hold-out is a sample: leave a threshold some margin. An
# optional `message` is shown to the student when a hidden item fails (hidden tests
# themselves are never quoted).
# Hidden tests (grading/tests/): each probe_NAME/check_NAME pair is one test, verified
# outside the sandbox; pytest-style test_* functions run inside it, where student code can
# forge them (mark such an item `inside: true`). Feedback says pass or fail per item;
# `show_counts: true` also says how many hidden tests passed.
items:
  - name: Tests pass
    points: 20
    check: pytest
  - name: Lint clean
    points: 10
    check: lint
  - name: Pipeline runs (data, train, evaluate)
    points: 20
    check: pipeline
  - name: Model beats the baseline on the headline metric
    points: 20
    check: beats_baseline
  - name: Hidden tests
    points: 30
    check: pytest
    hidden: true
"""

HIDDEN_TEST = '''\
"""Hidden checks: they live in the assignment's grading/tests/ and never enter a student
repository. `mlscaffold cohort grade` runs them after the pipeline, in pairs:

- `probe_NAME()` runs inside the sandbox, beside the student's code, and returns plain data
  (JSON: numbers, text, lists, dicts; tuples arrive as lists);
- `check_NAME(values)` runs in the grader's own process on that data and asserts. It never
  enters a sandbox, nor does anything only the checks use (expected values, reference
  answers), so student code that patches pytest, json or builtins cannot forge the verdict.

Call the student's functions in probes, e.g. `from {package} import features` at the top
and `return [features.count_words(s) for s in ["a b", ""]]`; keep the answers in checks.
Each pair is one hidden test of the rubric's hidden item.
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the graded project
EXPECTED_PARTS = ["baseline", "data", "model"]


def probe_metrics_have_the_expected_shape():
    report = json.loads((ROOT / "reports" / "metrics.json").read_text())
    return {{"parts": sorted(report), "rows": report["data"]["rows"]}}


def check_metrics_have_the_expected_shape(values):
    assert set(EXPECTED_PARTS) <= set(values["parts"])
    assert values["rows"] > 0


def probe_a_run_was_recorded():
    return len(list((ROOT / "runs").glob("*/run.json")))


def check_a_run_was_recorded(values):
    assert values >= 1
'''


class PresetError(UsageError):
    """cohort.yml is missing or wrong."""


@dataclass
class Preset:
    assignment: str
    kind: str
    version: str
    answers: dict[str, Any] = field(default_factory=dict)
    # what a student may change (glob patterns); None: the package's kind modules, configs/
    # and notebooks/. Tests, tool configuration and root-level Python are never theirs.
    student_files: list[str] | None = None

    def repo_name(self, student: roster.Student) -> str:
        return f"{self.assignment}-{student.handle}"

    def student_answers(self, student: roster.Student) -> dict[str, Any]:
        answers = dict(self.answers)
        answers.update(author_name=student.name, author_email=student.email)
        answers["github_user"] = student.github_user
        if student.github_user:
            answers["repository_name"] = self.repo_name(student)
        return answers

    def as_dict(self) -> dict[str, Any]:
        record = asdict(self)
        if record["student_files"] is None:
            del record["student_files"]
        return record


def read(folder: Path) -> Preset:
    """The assignment's cohort.yml."""
    if not (folder / PRESET).is_file():
        raise PresetError(
            f"{folder / PRESET} not found",
            "create the assignment first: mlscaffold cohort init FOLDER --kind KIND",
        )
    return load(folder / PRESET)


def load(path: Path) -> Preset:
    """A preset file: the assignment's, or the record a student repository carries."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PresetError(f"{path} is not readable YAML") from exc
    if not isinstance(raw, dict) or not all(
        raw.get(key) for key in ("assignment", "kind", "version")
    ):
        raise PresetError(
            f"{path} needs assignment, kind and version", "see mlscaffold cohort init"
        )
    catalog.get(str(raw["kind"]))
    answers = raw.get("answers") or {}
    if not isinstance(answers, dict):
        raise PresetError(f"{path}: answers must be a mapping")
    files = raw.get("student_files")
    if files is not None and (
        not isinstance(files, list) or not all(isinstance(f, str) and f for f in files)
    ):
        raise PresetError(f"{path}: student_files must be a list of path patterns")
    return Preset(str(raw["assignment"]), str(raw["kind"]), str(raw["version"]), answers, files)


ROSTER_USED = ".mlscaffold/roster.csv"


def record_roster(folder: Path, roster_path: Path) -> None:
    """Keep the roster `cohort new` was given: `grade` grades exactly those students."""
    target = folder / ROSTER_USED
    target.parent.mkdir(exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(roster_path.read_bytes())
    tmp.replace(target)


def secret_seed(folder: Path) -> int:
    """The assignment's own random seed (which rows are held out): made once, kept with the
    assignment, never in a student repository, so a student cannot know the split."""
    import secrets

    path = folder / ".mlscaffold" / "seed"
    if not path.is_file():
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{secrets.randbelow(2**31)}\n")
        tmp.replace(path)
    return int(path.read_text().strip())


def roster_used(folder: Path) -> Path:
    recorded = folder / ROSTER_USED
    return recorded if recorded.is_file() else folder / ROSTER


def assignment_slug(folder: Path) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-")
    return slug or "assignment"


def _refuse_init(folder: Path, kind: str, answers: dict[str, Any]) -> None:
    catalog.get(kind)
    if (folder / PRESET).exists():
        raise PresetError(f"{folder / PRESET} exists already", "edit it, or choose another folder")
    student_keys = sorted(set(answers) & set(STUDENT_ANSWERS))
    if student_keys:
        raise PresetError(
            f"{', '.join(student_keys)} come from each student's roster row, not the preset",
            "remove them from -d",
        )


def locked_answers(folder: Path, answers: dict[str, Any]) -> dict[str, Any]:
    """The preset's answers: project and package names from the folder's name, then -d's."""
    assignment = assignment_slug(folder)
    package = re.sub(r"[^a-z0-9]+", "_", assignment).strip("_")
    return {
        "project_name": assignment.replace("-", " ").title(),
        "package_name": package if package[:1].isalpha() else f"assignment_{package}",
        **answers,
    }


def check_init(folder: Path, kind: str, answers: dict[str, Any], version: str | None) -> None:
    """What `init` would refuse, and the locked answers judged by the template at the version
    to pin (question names, choices, validators) in a pretend render: a bad answer stops
    `init` before it writes anything, not every student's `new` later."""
    from mlscaffold import engine, source
    from mlscaffold.generate import own_version

    _refuse_init(folder, kind, answers)
    bundle = source.shipped_bundle()
    pinned = source.resolve(version or own_version(), bundle)
    engine.check_answers(str(bundle), kind, locked_answers(folder, answers), pinned)


def init(folder: Path, kind: str, answers: dict[str, Any], version: str) -> Preset:
    """Write cohort.yml, an example roster, the rubric and an example hidden test."""
    _refuse_init(folder, kind, answers)
    preset = Preset(assignment_slug(folder), kind, version, locked_answers(folder, answers))
    grading = folder / GRADING
    (grading / "tests").mkdir(parents=True, exist_ok=True)
    (grading / "data").mkdir(exist_ok=True)
    (folder / PRESET).write_text(
        "# mlscaffold cohort preset: every student repository is generated from it.\n"
        "# `answers` are locked: the same for every student (author and GitHub user come\n"
        "# from roster.csv); `version` pins the template. Grading takes only the files\n"
        "# that `student_files` (glob patterns) allows from a student's commit; add it to\n"
        "# widen the default (the package's own kind modules, configs/*, notebooks/*).\n"
        + yaml.safe_dump(preset.as_dict(), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    if not (folder / ROSTER).exists():
        (folder / ROSTER).write_text(roster.EXAMPLE, encoding="utf-8")
    (grading / RUBRIC).write_text(DEFAULT_RUBRIC, encoding="utf-8")
    (grading / "tests" / "test_hidden.py").write_text(
        HIDDEN_TEST.format(package=preset.answers["package_name"]), encoding="utf-8"
    )
    (grading / "data" / "README.md").write_text(
        "Put labelled evaluation data here in the layout of the project's data/sample/.\n"
        "`cohort grade` trains each project on three quarters of it and scores the\n"
        "predictions on the rest itself: those labels never reach student code.\n"
        "Empty: the bundled sample (which students can see).\n",
        encoding="utf-8",
    )
    ignore = folder / ".gitignore"  # the course repository keeps the seed, not the builds
    if not ignore.exists():
        ignore.write_text(
            "# made again by `cohort grade`; .mlscaffold/seed is kept: every shard holds out\n"
            "# the same rows\n.reference/\n.mlscaffold/*.lock\n.mlscaffold/fresh-data/\n"
            "grades.tmp\n",
            encoding="utf-8",
        )
    from mlscaffold.cohort import deploy  # here: deploy imports this module

    deploy.write(folder, preset)  # sharded grading on Actions, Kubernetes and Slurm
    return preset
