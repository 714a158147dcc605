"""Student repositories: create them from the preset, report on them, update them together."""

from __future__ import annotations

import difflib
import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mlscaffold import git, source
from mlscaffold.answers import printable
from mlscaffold.check import State, state_of
from mlscaffold.cohort import preset as presets
from mlscaffold.cohort.roster import Student
from mlscaffold.errors import MlscaffoldError, UsageError

RECORD = "grading/cohort.yml"  # the preset a repository was made from (for `status`)
GRADE_WORKFLOW = ".github/workflows/grade.yml"

WORKFLOW = """\
# Grades the visible rubric items (grading/rubric.yml) on every push: the points table goes to
# the job summary and grade.json is uploaded. No classroom service involved; the instructor
# grades every item, hidden tests included, with `mlscaffold cohort grade`.
name: Grade

on:
  push:
  workflow_dispatch:

permissions:
  contents: read

jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-python@v6
        with:
          python-version: "{python}"
          cache: pip
          cache-dependency-path: pyproject.toml
      - name: Install
        run: make install
      - name: Grade the visible rubric items
        run: .venv/bin/python grading/grade.py --out grade.json --summary "$GITHUB_STEP_SUMMARY"
      - name: Upload grade.json
        if: always()
        uses: actions/upload-artifact@v6
        with:
          name: grade
          path: grade.json
          if-no-files-found: warn
"""


def grader_source() -> str:
    return resources.files("mlscaffold.cohort").joinpath("grader.py").read_text(encoding="utf-8")


def visible_rubric(rubric_text: str) -> str:
    """The rubric without its hidden items (their names and points stay private too)."""
    raw = yaml.safe_load(rubric_text) or {}
    items = [item for item in raw.get("items", []) if not item.get("hidden")]
    header = "# Visible rubric items; the instructor's grade adds hidden ones.\n"
    return header + yaml.safe_dump({"items": items}, sort_keys=False, allow_unicode=True)


def add_grading_files(root: Path, assignment: Path, preset: presets.Preset) -> None:
    """The grading workflow, the grader and the visible rubric, into a student repository."""
    grading = root / "grading"
    grading.mkdir(exist_ok=True)
    rubric = (assignment / presets.GRADING / presets.RUBRIC).read_text(encoding="utf-8")
    (grading / presets.RUBRIC).write_text(visible_rubric(rubric), encoding="utf-8")
    (grading / "grade.py").write_text(grader_source(), encoding="utf-8")
    (root / RECORD).write_text(
        "# The assignment this repository was made from: do not edit (graders compare it).\n"
        + yaml.safe_dump(preset.as_dict(), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    python = str(preset.answers.get("python_version") or "3.11")
    workflow = root / GRADE_WORKFLOW
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(WORKFLOW.replace("{python}", python), encoding="utf-8")


# ---- new ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewJob:
    assignment: Path
    preset: presets.Preset
    student: Student
    dest: Path
    remote: str | None  # URL template: {github_user}, {student_id}, {handle}, {assignment}
    lock: bool = True  # commit the template version's shipped uv.lock where it fits


REMOTE_FIELDS = ("github_user", "student_id", "handle", "assignment")


def check_remote(template: str) -> None:
    """A --remote URL template names only the known fields, plainly ({handle}, not
    {handle.x} or {0}): checked before any repository is made, so a typo cannot leave a
    class of repositories created and none pushed."""
    known = ", ".join(f"{{{name}}}" for name in REMOTE_FIELDS)
    hint = f"the fields are {known}; write {{{{ and }}}} for literal braces"
    try:
        fields = [
            (name, conversion, spec)
            for _text, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as exc:
        raise UsageError(
            f"--remote '{printable(template)}' is not a URL template ({exc})", hint
        ) from exc
    for name, conversion, spec in fields:
        if name in REMOTE_FIELDS and not conversion and not spec:
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
        shown = printable(shown + "}")
        where = f"in '{printable(template)}'"
        if name in REMOTE_FIELDS:
            raise UsageError(f"--remote: write {{{name}}} plainly, not {shown}, {where}", hint)
        close = difflib.get_close_matches(name, REMOTE_FIELDS, n=1)
        guess = f"did you mean {{{close[0]}}}? " if close else ""
        raise UsageError(f"--remote: unknown field {shown} {where}", guess + hint)


def _remote_url(job: NewJob) -> str | None:
    if not job.remote:
        return None
    student = job.student
    return job.remote.format(
        github_user=student.github_user or student.student_id,
        student_id=student.student_id,
        handle=student.handle,
        assignment=job.preset.assignment,
    )


def _push(dest: Path, url: str) -> None:
    if "://" not in url and ":" not in url.split("/")[0] and not Path(url).exists():
        git.run("init", "--quiet", "--bare", url)  # a local remote: make it (tests, mirrors)
    if "origin" not in git.output("remote", cwd=dest).split():
        git.run("remote", "add", "origin", url, cwd=dest)
    git.run("push", "--quiet", "-u", "origin", "HEAD", cwd=dest)


def create_one(job: NewJob) -> str:
    """Generate, commit and (with a remote) push one student's repository; skip a done one."""
    from mlscaffold.generate import NewRequest, generate

    url = _remote_url(job)
    if (job.dest / ".git").is_dir() and git.succeeds("rev-parse", "HEAD", cwd=job.dest):
        if url and not git.succeeds("rev-parse", "@{u}", cwd=job.dest):
            _push(job.dest, url)
            return "existed; pushed"
        return "exists: skipped"
    request = NewRequest(
        kind=job.preset.kind,
        dest=job.dest,
        data=job.preset.student_answers(job.student),
        defaults=True,
        version=job.preset.version,
        lock=job.lock,
        resolve_lock=False,
        add_files=lambda root: add_grading_files(root, job.assignment, job.preset),
    )
    generate(request)
    if url:
        _push(job.dest, url)
        return "created and pushed"
    return "created"


# ---- status -------------------------------------------------------------------------------


@dataclass
class RepoStatus:
    repo: str
    version: str | None = None
    state: str | None = None
    last_commit: str | None = None
    dirty: bool | None = None
    changed_answers: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def needs_attention(self) -> bool:
        return bool(self.problem or self.dirty or self.changed_answers or self.state == "behind")

    def as_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "version": self.version,
            "state": self.state,
            "last_commit": self.last_commit,
            "dirty": self.dirty,
            "changed_answers": self.changed_answers,
            "problem": self.problem,
            "needs_attention": self.needs_attention,
        }


def student_repos(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder", "give the folder `cohort new --out` wrote")
    return sorted(p for p in folder.iterdir() if (p / ".copier-answers.yml").is_file())


def locked_changes(answers: dict[str, Any], preset: presets.Preset) -> list[str]:
    changed = ["kind"] if answers.get("kind") != preset.kind else []
    changed += [
        key
        for key, value in sorted(preset.answers.items())
        if key not in presets.STUDENT_ANSWERS and answers.get(key) != value
    ]
    return changed


def status_of(repo: Path, preset: presets.Preset | None = None) -> RepoStatus:
    from mlscaffold.project import load

    status = RepoStatus(repo.name)
    try:
        project = load(repo)
    except MlscaffoldError as exc:
        status.problem = exc.message
        return status
    status.version = project.version
    newest = source.newest(source.shipped_bundle())
    current = project.template_version
    status.state = state_of(current, newest).value if newest else State.UP_TO_DATE.value
    status.last_commit = git.output("log", "-1", "--format=%h %cs %s", cwd=repo) or None
    status.dirty = bool(git.dirty_files(repo))
    try:
        record = preset or (presets.load(repo / RECORD) if (repo / RECORD).is_file() else None)
    except MlscaffoldError as exc:
        status.problem = exc.message
        return status
    if record is not None:
        status.changed_answers = locked_changes(project.answers, record)
    return status


# ---- update -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateJob:
    repo: Path
    to: str
    branch: str
    push: bool


@dataclass
class UpdateOutcome:
    state: str  # updated | up to date | done before | dirty | conflicts
    detail: list[str] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return self.state in ("dirty", "conflicts")


def update_one(job: UpdateJob) -> UpdateOutcome:
    """Update on a branch, never on a dirty tree; conflicts: nothing kept, files listed."""
    from mlscaffold.project import load
    from mlscaffold.update import update

    repo = job.repo
    dirty = git.dirty_files(repo)
    if dirty:
        return UpdateOutcome("dirty", dirty)
    if git.succeeds("rev-parse", "--verify", "--quiet", f"refs/heads/{job.branch}", cwd=repo):
        return UpdateOutcome("done before", [job.branch])
    if load(repo).version == str(source.resolve(job.to, source.shipped_bundle())):
        return UpdateOutcome("up to date")
    start = git.output("rev-parse", "--abbrev-ref", "HEAD", cwd=repo)
    git.run("checkout", "--quiet", "-b", job.branch, cwd=repo)
    try:
        # a student's pyproject.toml can name a build backend in their tree, which uv runs:
        # their uv.lock is not refreshed here (it is listed instead)
        result = update(repo, to=job.to, conflict="inline", refresh_lock=False)
        if result.needs_attention:
            git.discard_changes(repo)
            renamed = [f"{old} → {new} (renamed)" for old, new in result.renamed]
            return UpdateOutcome("conflicts", result.conflicts + result.kept_removed + renamed)
        git.commit_all(repo, f"Update template to {result.to_version}")
        if job.push:
            git.run("push", "--quiet", "-u", "origin", job.branch, cwd=repo)
        done = [f"{result.from_version} → {result.to_version}"]
        if result.lock == "unchecked":
            done.append("uv.lock not refreshed: the student runs make lock")
        return UpdateOutcome("updated", done)
    except BaseException:
        git.discard_changes(repo)
        raise
    finally:
        git.run("checkout", "--quiet", start, cwd=repo)
        if not git.run(
            "rev-list", "-1", f"{start}..{job.branch}", cwd=repo, check=False
        ).stdout.strip():
            git.run("branch", "--quiet", "-D", job.branch, cwd=repo, check=False)
