"""A class graded as one process and as shards run side by side, then merged: the same
grades.csv and feedback byte for byte, the wall times, and a projection for a large class.

    python benchmarks/bench_shards.py [--students 40] [--shards 4] [--kind kaggle-entry]
                                      [--fast] [--python PATH]

Makes an assignment, generates `--students` repositories and mixes them: a third untouched
(graded once: their files are the same), a third with an honest edit (a comment of their
own in features.py), a third whose training is broken (each in its own words).
Grades them with `--jobs 2` in one process, then as `--shards` shards started together
(`--jobs 1` each), merges the partials and compares every output file. `--fast` grades
with a rubric without the project's own test suite (lint, pipeline, beats the baseline,
hidden tests), the heavy step an instructor may leave to CI. Prints seconds per student,
the per-shard overhead (a shard's wall time beyond its students' own time), and a
projection for 1,000 students on N runners of 2 cores each. Runs in a temporary HOME.
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
FAST_RUBRIC = """\
items:
  - {name: Lint clean, points: 10, check: lint}
  - {name: Pipeline runs, points: 30, check: pipeline}
  - {name: Beats the baseline, points: 30, check: beats_baseline}
  - {name: Hidden tests, points: 30, check: pytest, hidden: true}
"""


def cli(*args: str, env: dict[str, str], wait: bool = True) -> subprocess.Popen | float:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "mlscaffold", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if not wait:
        return process
    finish(process, args)
    return time.perf_counter() - start


def finish(process: subprocess.Popen, args: tuple[str, ...]) -> None:
    _out, err = process.communicate()
    if process.returncode not in (0, 1):
        sys.exit(f"failed ({process.returncode}): mlscaffold {' '.join(args)}\n{err[-3000:]}")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def outputs(folder: Path) -> dict[str, bytes]:
    found = {"grades.csv": (folder / "grades.csv").read_bytes()}
    for path in sorted((folder / "feedback").iterdir()):
        found[f"feedback/{path.name}"] = path.read_bytes()
    return found


def mix(repos: Path, package: str) -> dict[str, int]:
    """A third untouched, a third with an honest edit, a third with training broken."""
    kinds = {"untouched": 0, "honest edit": 0, "broken": 0}
    for n, repo in enumerate(sorted(repos.iterdir())):
        features = repo / "src" / package / "features.py"  # the student's own module
        steps = repo / "src" / package / "steps.py"
        if n % 3 == 1:
            features.write_text(f"# {repo.name}'s notes\n" + features.read_text())  # distinct
            kinds["honest edit"] += 1
        elif n % 3 == 2:  # the first line of steps.train raises (the kaggle-entry kind's)
            train = "    from .train import train as train_model\n"
            broken = steps.read_text().replace(train, f"    raise RuntimeError('{n}')\n", 1)
            steps.write_text(broken)
            kinds["broken"] += 1
        else:
            kinds["untouched"] += 1
            continue
        git(repo, "commit", "-qam", "my change")
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--kind", default="kaggle-entry")
    parser.add_argument("--fast", action="store_true", help="leave out the project's tests")
    parser.add_argument("--python", help="interpreter with the projects' dependencies")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-shards-") as tmp:
        work = Path(tmp)
        (work / "home").mkdir()
        env = {**os.environ, "HOME": str(work / "home"), "NO_COLOR": "1"}
        hw = work / "hw1"
        cli("cohort", "init", str(hw), "--kind", args.kind, env=env)
        if args.fast:
            (hw / "grading" / "rubric.yml").write_text(FAST_RUBRIC, encoding="utf-8")
        with (hw / "roster.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student_id", "name", "email", "github_user"])
            for n in range(args.students):
                writer.writerow([f"s{n:03d}", f"Student {n}", f"s{n}@example.edu", ""])
        repos = work / "repos"
        cli("cohort", "new", str(hw), "--roster", str(hw / "roster.csv"), "--out", str(repos),
            "--jobs", "2", env=env)  # fmt: skip
        kinds = mix(repos, "hw1")
        python = args.python
        if python is None:
            sys.path.insert(0, str(ROOT / "tests"))
            from project_envs import env_python

            python = str(env_python(next(repos.iterdir())))
        grade = ("cohort", "grade", str(hw), str(repos), "--python", python, "--force")
        load = os.getloadavg()[0]
        alone = cli(*grade, "--jobs", "2", env=env)
        single = outputs(hw)
        with (hw / "grades.csv").open(encoding="utf-8") as handle:
            totals = sorted({row["total"] for row in csv.DictReader(handle)})

        started = time.perf_counter()
        running = []
        for k in range(args.shards):
            shard = ("--shard", f"{k}/{args.shards}", "--out", str(work / f"part-{k}"))
            running.append(cli(*grade, "--jobs", "1", *shard, env=env, wait=False))
        for process in running:
            finish(process, grade)
        sharded = time.perf_counter() - started
        parts = [str(work / f"part-{k}") for k in range(args.shards)]
        merged = cli("cohort", "merge", str(hw), *parts, env=env)
        same = outputs(hw) == single

        per_student = alone / args.students  # with --jobs 2 on this machine's cores
        overhead = max(0.0, sharded - alone)  # what running as shards added, in all
        print(f"{args.students} students ({kinds}), kind {args.kind}, rubric "
              f"{'fast (no project tests)' if args.fast else 'default'}; load {load:.1f} "
              f"on {os.cpu_count()} cores at the start; totals seen: {totals}")  # fmt: skip
        print(f"one process, --jobs 2: {alone:.1f} s = {per_student:.1f} s per student")
        print(f"{args.shards} shards side by side (--jobs 1 each) + merge: {sharded:.1f} s + "
              f"{merged:.1f} s; outputs identical to one process: {same}")  # fmt: skip
        print(f"sharding overhead on one machine: {overhead:.1f} s in all")
        for runners in (10, 20, 50):
            students = -(-1000 // runners)
            minutes = (students * per_student + overhead / args.shards + merged) / 60
            print(
                f"projection: 1,000 students on {runners} runners of 2 cores: {students} "
                f"each, about {minutes:.0f} min (plus each runner's start)"
            )
        if not same:
            sys.exit("the merged outputs differ from one process's")


if __name__ == "__main__":
    main()
