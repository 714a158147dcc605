"""`mlscaffold cohort`: one assignment, many student repositories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mlscaffold.cli.output import handle_errors, say

if TYPE_CHECKING:
    from mlscaffold.cohort.bulk import Graded

JOBS = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Repositories worked on in parallel.",
)


@click.group(
    epilog="""\b
Examples:
  mlscaffold cohort init hw1 --kind sentiment-classifier -d sentiment_dataset=sst2
  mlscaffold cohort new hw1 --roster hw1/roster.csv --out repos --jobs 4
  mlscaffold cohort new hw1 --roster hw1/roster.csv --out repos \\
      --remote 'git@github.com:my-course/hw1-{github_user}.git'
  mlscaffold cohort status repos --cohort hw1
  mlscaffold cohort grade hw1 repos --jobs 2 --timeout 600
  mlscaffold cohort grade hw1 repos --shard auto --out part-0   # then: cohort merge hw1 part-*
  mlscaffold cohort update repos --to 0.3.0 --push
\b
Every bulk command shows progress, survives a failure in any one repository, and can be
re-run safely: what is done is skipped. Exit status 1 when a repository needs attention.
"""
)
def cohort() -> None:
    """One assignment for a whole class: generate, grade and update student repositories."""


@cohort.command(
    epilog="""\b
Writes FOLDER/cohort.yml (kind, locked answers, pinned template version), an example
FOLDER/roster.csv, FOLDER/grading/rubric.yml, an example hidden test in
FOLDER/grading/tests/ and FOLDER/grading/data/ for hidden evaluation data.
"""
)
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--kind", required=True, help="Kind of project (mlscaffold list).")
@click.option("-d", "--data", "pairs", multiple=True, metavar="KEY=VALUE", help="A locked answer.")
@click.option("--version", "version", metavar="VERSION", help="Template version to pin.")
@handle_errors
def init(folder: Path, kind: str, pairs: tuple[str, ...], version: str | None) -> None:
    """Create an assignment in FOLDER."""
    from mlscaffold import answers
    from mlscaffold.cohort import bulk
    from mlscaffold.cohort import preset as presets

    locked = answers.parse_pairs(pairs)
    presets.check_init(folder, kind, locked, version)  # before anything is written
    preset = bulk.init(folder, kind, locked, version)
    click.echo(f"assignment {preset.assignment}: {preset.kind}, template {preset.version}")
    click.echo(f"edit {folder}/roster.csv and {folder}/grading/rubric.yml, then:")
    click.echo(f"  mlscaffold cohort new {folder} --roster {folder}/roster.csv --out repos")


@cohort.command(name="new")
@click.argument("assignment", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--roster", "roster_path", type=click.Path(path_type=Path, dir_okay=False), required=True
)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
@click.option(
    "--remote",
    metavar="URL_TEMPLATE",
    help="Set and push a remote, e.g. git@host:org/hw1-{github_user}.git "
    "({github_user}, {student_id}, {handle}, {assignment}).",
)
@click.option(
    "--no-lock",
    is_flag=True,
    envvar="MLSCAFFOLD_NO_LOCK",
    help="Do not commit the template version's shipped uv.lock (the same versions for all).",
)
@JOBS
@handle_errors
def new_repos(
    assignment: Path, roster_path: Path, out: Path, remote: str | None, no_lock: bool, jobs: int
) -> None:
    """One repository per student of the roster, in OUT."""
    from mlscaffold.cohort import bulk, repos

    if remote is not None:
        repos.check_remote(remote)  # before any repository is made
    outcomes = bulk.new(assignment, roster_path, out, remote, jobs, say, lock=not no_lock)
    failed = [o for o in outcomes if o.error]
    click.echo(f"{len(outcomes) - len(failed)} ready, {len(failed)} failed")
    for outcome in failed:
        click.echo(f"  {outcome.item.dest.name}: {outcome.error}")
    if failed:
        raise SystemExit(1)


@cohort.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--cohort",
    "assignment",
    type=click.Path(path_type=Path, file_okay=False),
    help="The assignment folder (default: each repository's own record).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def status(folder: Path, assignment: Path | None, as_json: bool) -> None:
    """Per repository: template version, behind?, last commit, dirty?, locked answers changed?"""
    from mlscaffold.cohort import bulk

    rows = bulk.status(folder, assignment)
    if as_json:
        click.echo(json.dumps([row.as_dict() for row in rows], indent=2))
    else:
        click.echo(
            f"{'repository':<28} {'version':<8} {'state':<10} {'dirty':<5}  last commit / problem"
        )
        for row in rows:
            note = row.problem or row.last_commit or ""
            if row.changed_answers:
                note = f"LOCKED ANSWERS CHANGED: {', '.join(row.changed_answers)}; {note}"
            click.echo(
                f"{row.repo:<28} {row.version or '-':<8} {row.state or '-':<10} "
                f"{'yes' if row.dirty else 'no':<5}  {note}"
            )
    if any(row.needs_attention for row in rows):
        raise SystemExit(1)


@cohort.command(
    epilog="""\b
Student code is untrusted: every step runs in a bubblewrap sandbox (Debian: apt-get install
bubblewrap) with no network, a read-only system, no view of your folders or other students'
repositories, its own process namespace and limits on time, memory and output. Only the
files a student may change (cohort.yml `student_files`; default: the package's own kind
modules, configs/, notebooks/) are taken from their last commit; tests, tool configuration
and root-level Python come from the assignment. Metrics are computed here, from the
project's predictions on held-out data whose labels never enter the sandbox.
\b
Examples:
  mlscaffold cohort grade hw1 repos --jobs 2 --timeout 600
  mlscaffold cohort grade hw1 repos --container podman --image my-course/grader:1
  mlscaffold cohort grade hw1 repos --before 2026-12-01T23:59:00+01:00
  mlscaffold cohort grade hw1 repos --shard 1/4 --out part-1
\b
A student whose commit and assignment are those of the last grading keeps their grade
(nothing runs; --force re-grades). With --shard K/N only the K-th of N slices of the roster
(by a hash of the student id) is graded, into the folder --out; `cohort merge` joins the
slices. --shard auto reads MLSCAFFOLD_SHARD=K/N (GitHub Actions), JOB_COMPLETION_INDEX
with MLSCAFFOLD_SHARDS=N (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID/_MIN/_COUNT.
\b
Exit status: 0 every repository graded (see grades.csv), 1 some could not be graded
(listed, with why), 2 bad rubric, data or hidden test, no sandbox, or another grade running.
"""
)
@click.argument("assignment", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 64),
    help="Repositories graded in parallel (default: what the cores and memory allow).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(1),
    default=900,
    show_default=True,
    help="Seconds per repository; past it, a zero with the reason.",
)
@click.option(
    "--python",
    "python",
    metavar="PATH",
    help="Python with the projects' dependencies (default: one built and cached for you).",
)
@click.option(
    "--container",
    type=click.Choice(["docker", "podman"]),
    help="Sandbox with a container engine instead of bubblewrap.",
)
@click.option("--image", metavar="IMAGE", help="Image for --container (Python + dependencies).")
@click.option(
    "--unsafe",
    is_flag=True,
    help="Where no sandbox can run: run student code as you (never for untrusted code).",
)
@click.option(
    "--shard",
    metavar="K/N|auto",
    help="Grade only the K-th (from 0) of N slices of the roster, into --out.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="With --shard: the folder for the partial result (for `cohort merge`).",
)
@click.option("--force", is_flag=True, help="Re-grade students whose commit did not change.")
@click.option(
    "--before",
    metavar="TIMESTAMP",
    help="Grade each student's last commit before this ISO 8601 time (a deadline).",
)
@handle_errors
def grade(
    assignment: Path,
    folder: Path,
    jobs: int | None,
    timeout: float,
    python: str | None,
    container: str | None,
    image: str | None,
    unsafe: bool,
    shard: str | None,
    out: Path | None,
    force: bool,
    before: str | None,
) -> None:
    """Grade every student's repository: ASSIGNMENT/grades.csv and ASSIGNMENT/feedback/."""
    from mlscaffold.cohort import bulk, shards
    from mlscaffold.cohort.grading import Options
    from mlscaffold.errors import UsageError

    if (shard is None) != (out is None):
        raise UsageError("--shard and --out go together", "pass both, or neither")
    part = None
    if shard is not None:
        part = shards.from_environment() if shard == "auto" else shards.parse(shard)
        say(f"grading {part.label}")
    deadline = _deadline(before) if before else None
    options = Options(jobs, timeout, python, container, image, unsafe, force, deadline)
    done = bulk.grade(assignment, folder, options, say, part, out)
    _report(done)
    if part is not None:
        click.echo(f"wrote the partial result of {part.label} to {done.written}")
        click.echo(f"then: mlscaffold cohort merge {assignment} PART [PART...]")
    else:
        click.echo(f"wrote {done.written} and {assignment / 'feedback'}/")
    _exit_if_ungraded(done)


def _deadline(text: str) -> str:
    """An ISO 8601 time as UTC (a time without a zone is this machine's local time)."""
    from datetime import datetime, timezone

    from mlscaffold.errors import UsageError

    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--before {text!r} is not an ISO 8601 time", "e.g. --before 2026-12-01T23:59:00+01:00"
        ) from None
    return moment.astimezone(timezone.utc).isoformat()


def _report(done: Graded) -> None:
    for row in done.grades:
        result = row.problem or f"{row.total:g} / {row.max:g}"
        result += " (reused)" if row.reused else ""
        click.echo(f"{row.student.student_id:<12} {row.student.handle:<24} {result}")
    if done.strangers:
        click.echo(f"not on the roster, not graded: {', '.join(done.strangers)}")
    if done.reused:
        click.echo(f"{done.reused} of {len(done.grades)} reused from the last grading")
    if done.summary:
        click.echo(f"summary: {', '.join(str(p) for p in done.summary)}")


def _exit_if_ungraded(done: Graded) -> None:
    grades = done.grades
    ungraded = [row for row in grades if row.ungraded]
    if ungraded:
        click.echo(f"{len(ungraded)} of {len(grades)} repositories could not be graded:", err=True)
        for row in ungraded:
            click.echo(f"  {row.student.student_id}: {row.problem}", err=True)
        raise SystemExit(1)


@cohort.command(
    epilog="""\b
Examples:
  mlscaffold cohort merge hw1 part-0 part-1 part-2 part-3
\b
Writes ASSIGNMENT/grades.csv, feedback/ and summary.md exactly as one `cohort grade` of the
whole class would. Refuses (exit 2, naming it) a missing shard, a student graded twice, or
partials graded with another rubric, hidden tests, data, seed, roster or version.
"""
)
@click.argument("assignment", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.argument(
    "parts", nargs=-1, required=True, type=click.Path(path_type=Path, file_okay=False, exists=True)
)
@handle_errors
def merge(assignment: Path, parts: tuple[Path, ...]) -> None:
    """Join the partial results of `cohort grade --shard` into grades.csv and feedback/."""
    from mlscaffold.cohort import bulk

    done = bulk.merge(assignment, list(parts), say)
    _report(done)
    click.echo(f"wrote {done.written} and {assignment / 'feedback'}/")
    _exit_if_ungraded(done)


@cohort.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--to", "to", metavar="VERSION", required=True, help="Template version.")
@click.option("--branch", metavar="NAME", help="Branch to update on (default: template-VERSION).")
@click.option("--push", is_flag=True, help="Push the branch to origin.")
@JOBS
@handle_errors
def update(folder: Path, to: str, branch: str | None, push: bool, jobs: int) -> None:
    """Update every repository on a branch; dirty ones are skipped and listed."""
    from mlscaffold.cohort import bulk

    outcomes = bulk.update(folder, to, branch, push, jobs, say)
    attention = 0
    for outcome in outcomes:
        state = f"error: {outcome.error}" if outcome.error else outcome.result.state
        detail = "" if outcome.error else ", ".join(outcome.result.detail)
        attention += bool(outcome.error or outcome.result.needs_attention)
        click.echo(f"{outcome.item.repo.name:<28} {state:<12} {detail}")
    click.echo(f"{len(outcomes)} repositories, {attention} need attention")
    if attention:
        raise SystemExit(1)
