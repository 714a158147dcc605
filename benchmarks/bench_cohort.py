"""Cohort mode at class size: `cohort new`, `grade` and `update` through the real CLI.

    python benchmarks/bench_cohort.py [--students 100] [--graded 30] [--jobs 2]
                                      [--kind kaggle-entry] [--python PATH] [--unsafe]

Makes an assignment pinned to the previous template version, generates `--students`
repositories with local bare remotes, grades the first `--graded` of them on the bundled
sample with the default rubric (every item: the project's tests, lint, pipeline, beats the
baseline, hidden tests), then updates all of them to the newest version on a branch.
Prints seconds per student for each. Targets on 2 cores with --jobs 2: new <= 0.5 s per
student. `--python` is an interpreter with the projects' dependencies (default: one built
from a generated project's pyproject.toml by tests/project_envs.py). Runs in a temporary
HOME.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mlscaffold", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"failed: mlscaffold {' '.join(args)}\n{done.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--graded", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--kind", default="kaggle-entry")
    parser.add_argument("--python", help="interpreter with the projects' dependencies")
    parser.add_argument(
        "--unsafe",
        action="store_true",
        help="grade without the sandbox too, to measure what the sandbox costs",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from mlscaffold import source

    versions = source.versions(source.shipped_bundle())
    old, new = str(versions[-2]), str(versions[-1])
    with tempfile.TemporaryDirectory(prefix="bench-cohort-") as tmp:
        work = Path(tmp)
        (work / "home").mkdir()
        env = {**os.environ, "HOME": str(work / "home"), "NO_COLOR": "1"}
        hw = work / "hw1"
        cli("cohort", "init", str(hw), "--kind", args.kind, "--version", old, env=env)
        with (hw / "roster.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student_id", "name", "email", "github_user"])
            for n in range(args.students):
                writer.writerow([f"s{n:03d}", f"Student {n}", f"s{n}@example.edu", f"user-{n:03d}"])
        repos, remotes = work / "repos", work / "remotes"
        seconds = cli(
            "cohort",
            "new",
            str(hw),
            "--roster",
            str(hw / "roster.csv"),
            "--out",
            str(repos),
            "--remote",
            f"{remotes}/{{handle}}.git",
            "--jobs",
            str(args.jobs),
            env=env,
        )
        print(
            f"cohort new: {args.students} students in {seconds:.1f} s = "
            f"{seconds / args.students:.2f} s per student (--jobs {args.jobs}, with push)"
        )

        python = args.python
        if python is None:
            sys.path.insert(0, str(ROOT / "tests"))
            from project_envs import env_python

            python = str(env_python(next(repos.iterdir())))
        graded = work / "graded"
        graded.mkdir()
        for repo in sorted(repos.iterdir())[: args.graded]:
            (graded / repo.name).symlink_to(repo)
        for keep in (hw / "roster.csv", hw / ".mlscaffold" / "roster.csv"):  # the one `new` used
            if keep.is_file():
                rows = keep.read_text(encoding="utf-8").splitlines()[: args.graded + 1]
                keep.write_text("\n".join(rows) + "\n", encoding="utf-8")
        grade = ("cohort", "grade", str(hw), str(graded), "--jobs", str(args.jobs))
        seconds = cli(*grade, "--python", python, env=env)
        if args.unsafe:
            unsafe_env = {**env, "MLSCAFFOLD_SANDBOX": "none"}
            bare = cli(*grade, "--python", python, "--unsafe", env=unsafe_env)
            print(
                f"cohort grade without the sandbox: {bare / args.graded:.1f} s per student; "
                f"the sandbox costs {100 * (seconds / bare - 1):+.0f}%"
            )
        with (hw / "grades.csv").open(encoding="utf-8") as handle:
            totals = [row["total"] for row in csv.DictReader(handle)]
        print(
            f"cohort grade: {args.graded} students in {seconds:.1f} s = "
            f"{seconds / args.graded:.1f} s per student (--jobs {args.jobs}; totals: "
            f"{sorted(set(totals))})"
        )

        page = (hw / "summary.md").read_text(encoding="utf-8")
        start = page.find("## Where the time went")
        if start >= 0:  # step by step: the student's code, and the grader's own work
            print(page[start : page.find("\n\n", page.find("| all steps", start))])

        seconds = cli(
            "cohort", "update", str(repos), "--to", new, "--jobs", str(args.jobs), env=env
        )
        updated = subprocess.run(
            ["git", "-C", str(next(repos.iterdir())), "branch"], capture_output=True, text=True
        ).stdout
        print(
            f"cohort update {old} -> {new}: {args.students} students in {seconds:.1f} s = "
            f"{seconds / args.students:.2f} s per student (--jobs {args.jobs}; branch made: "
            f"{'template-' + new in updated})"
        )


if __name__ == "__main__":
    main()
