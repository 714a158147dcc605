"""Grading a large class on the engines courses already have: what `cohort init` writes.

One machine grades a few hundred students a night; a class of a thousand needs several. The
assignment folder gets a GitHub Actions workflow (a matrix of shards), a Kubernetes Indexed
Job with its image, and a Slurm array job, each running `cohort grade --shard auto` on its
share of the roster and `cohort merge` at the end. The files' text lives in deploy_files/;
this module fills in the assignment's values and also offers the two chores those engines
need and mlscaffold's CLI does not: fetching one shard's repositories and building the
grading environment ahead of time (`python -m mlscaffold.cohort.deploy fetch|prepare`).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

from mlscaffold.cohort import preset as presets
from mlscaffold.cohort import roster, shards
from mlscaffold.errors import MlscaffoldError, UsageError

# package data file -> where `cohort init` writes it in the assignment folder
FILES = {
    "grade-class.yml": ".github/workflows/grade-class.yml",
    "Dockerfile": "deploy/Dockerfile",
    "Dockerfile.dockerignore": "deploy/Dockerfile.dockerignore",
    "grade-job.yaml": "deploy/grade-job.yaml",
    "merge-job.yaml": "deploy/merge-job.yaml",
    "grade-shard.sh": "deploy/grade-shard.sh",
    "grade-array.sbatch": "deploy/grade-array.sbatch",
    "merge.sbatch": "deploy/merge.sbatch",
}
EXECUTABLE = ("grade-shard.sh", "grade-array.sbatch", "merge.sbatch")
SHARDS = 4  # the default number of machines: each engine's file says how to change it
DEFAULT_PYTHON = "3.12"  # the grader's Python where the preset does not choose one
TOKEN_ENV = "STUDENT_REPOS_TOKEN"
DEFAULT_URL = "https://github.com/{owner}/{repo}.git"


def values(folder: Path, preset: presets.Preset) -> dict[str, str]:
    """The placeholders of deploy_files/ for this assignment."""
    job = preset.assignment[:40].strip("-") or "assignment"  # a DNS-1123 name with room
    return {
        "ASSIGNMENT": preset.assignment,
        "JOB": job,
        "FOLDER": folder.resolve().name,
        "FOLDER_SH": shlex.quote(folder.resolve().name),
        "VERSION": preset.version,
        "PYTHON": str(preset.answers.get("python_version") or DEFAULT_PYTHON),
        "SHARDS": str(SHARDS),
        "LAST": str(SHARDS - 1),
    }


def render(name: str, fill: Mapping[str, str]) -> str:
    """One deploy file with `@@KEY@@` replaced: the files are full of `${{ }}`, `$(VAR)` and
    `${VAR}` that belong to Actions, Kubernetes and bash, so no template engine is used."""
    source = resources.files("mlscaffold.cohort").joinpath("deploy_files").joinpath(name)
    text = source.read_text(encoding="utf-8")
    return re.sub(r"@@([A-Z_]+)@@", lambda m: fill[m.group(1)], text)


def write(folder: Path, preset: presets.Preset) -> list[Path]:
    """Write every engine's files (never over an existing one: the instructor's edits stay),
    and make the assignment's secret seed now: shards on many machines must hold out the
    same rows, so the seed has to be committed with the assignment before any of them runs."""
    presets.secret_seed(folder)
    fill = values(folder, preset)
    written = []
    for name, relative in FILES.items():
        target = folder / relative
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(name, fill), encoding="utf-8")
        if name in EXECUTABLE:
            target.chmod(0o755)
        written.append(target)
    return written


def _git_env(url: str, token: str | None) -> dict[str, str]:
    """git that never prompts, with the token as an HTTP header given through the
    environment: never on a command line (ps shows those) nor in a clone's .git/config."""
    env = {  # an inherited GIT_CONFIG_COUNT/KEY_n/VALUE_n would mix with ours: not kept
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
    }
    env.pop("GIT_CONFIG_COUNT", None)
    env["GIT_TERMINAL_PROMPT"] = "0"
    if token and url.startswith("https://"):
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0="http.extraHeader",
            GIT_CONFIG_VALUE_0=f"AUTHORIZATION: basic {basic}",
        )
    return env


def _clone(url: str, dest: Path, env: dict[str, str]) -> str | None:
    """Clone into a hidden folder, moved into place when whole; None, else why not. No
    checkout: the grader reads the last commit from .git, so no student file lands here."""
    partial = dest.with_name(f".{dest.name}.fetching")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        done = subprocess.run(
            ["git", "clone", "--quiet", "--no-checkout", "--", url, str(partial)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    except subprocess.TimeoutExpired:
        done = None
    if done is None or done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        lines = done.stderr.strip().splitlines() if done else ["timed out"]
        return (lines or ["git clone failed"])[-1]
    partial.rename(dest)
    return None


def fetch(
    assignment: Path,
    repos: Path,
    url: str = DEFAULT_URL,
    owner: str = "",
    shard: shards.Shard | None = None,
    token: str | None = None,
    jobs: int = 8,
    progress: Callable[[str], None] = lambda _m: None,
) -> tuple[list[str], dict[str, str]]:
    """Clone the repositories of a shard (None: the whole class) of the roster `grade` uses
    into REPOS, named as `grade` expects; one already there is kept. The shard's students are
    those `cohort grade --shard` picks (shards.select). Returns the names fetched and, per
    name, why one could not be."""
    if "{repo}" not in url:
        raise UsageError(f"--url {url!r} has no {{repo}}", f"e.g. {DEFAULT_URL}")
    if "{owner}" in url and not owner:
        raise UsageError("--owner is needed: the account holding the students' repositories")
    preset = presets.read(assignment)
    students = roster.read(presets.roster_used(assignment))
    mine = shards.select(students, shard) if shard else students
    repos.mkdir(parents=True, exist_ok=True)
    env = _git_env(url, token)

    def one(student: roster.Student) -> tuple[str, str | None]:
        name = preset.repo_name(student)
        if (repos / name / ".git").is_dir():
            return name, None
        return name, _clone(url.format(owner=owner, repo=name), repos / name, env)

    fetched: list[str] = []
    failed: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for name, problem in pool.map(one, mine):
            if problem is None:
                fetched.append(name)
            else:
                failed[name] = problem
                progress(f"{name}: not fetched ({problem})")
    progress(f"{len(fetched)} of {len(mine)} repositories in {repos}")
    return fetched, failed


def prepare(assignment: Path, progress: Callable[[str], None] = lambda _m: None) -> Path:
    """Make the reference project and the grading environment now (an image's build, a
    login node, a cache-filling job), so no shard builds it again. Returns its Python."""
    from mlscaffold.cohort import environment, grading

    preset = presets.read(assignment)
    reference = grading.reference_project(assignment, preset)
    return environment.python_for(reference, progress=progress)


def main(argv: list[str] | None = None) -> int:
    """`python -m mlscaffold.cohort.deploy fetch|prepare`: what the deploy files run."""
    parser = argparse.ArgumentParser(prog="python -m mlscaffold.cohort.deploy")
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("fetch", help="clone a shard's student repositories")
    get.add_argument("assignment", type=Path)
    get.add_argument("repos", type=Path)
    get.add_argument("--shard", help="K/N (K from 0) or auto (default: every student)")
    get.add_argument("--owner", default="", help="the account holding the repositories")
    get.add_argument("--url", default=DEFAULT_URL, help="with {owner} and {repo}")
    get.add_argument("--jobs", type=int, default=8)
    ready = commands.add_parser("prepare", help="build the grading environment now")
    ready.add_argument("assignment", type=Path)
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        if args.command == "prepare":
            say(f"grading Python: {prepare(args.assignment, say)}")
            return 0
        shard = None
        if args.shard:
            shard = shards.from_environment() if args.shard == "auto" else shards.parse(args.shard)
        token = os.environ.get(TOKEN_ENV) or None
        fetched, failed = fetch(
            args.assignment, args.repos, args.url, args.owner, shard, token, args.jobs, say
        )
    except MlscaffoldError as exc:
        say(f"error: {exc.message}" + (f"\nhint: {exc.hint}" if exc.hint else ""))
        return exc.exit_code
    # a few missing repositories are the grader's to report (not graded, in the merge); none
    # at all is a wrong token, owner or URL
    return 1 if failed and not fetched else 0


if __name__ == "__main__":
    raise SystemExit(main())
