"""Speed of the mlscaffold command against plain Copier (median of several runs).

    python benchmarks/bench_cli.py [--runs 5]

Prints: `mlscaffold --help` vs `copier --help`; `mlscaffold new` (render + git init + first
commit) vs `copier copy` of the same template; `mlscaffold update` vs `copier update` across
two template versions (Copier's three renders dominate both). Targets on a 2-core machine:
--help <= 0.15 s, new <= 1.1 x copier copy, update <= 2 s. Runs in a temporary HOME, so it
never touches your own template cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{done.stderr}")
    return elapsed


def median(values: list[float]) -> float:
    return statistics.median(values)


def two_version_bundle(tmp: Path) -> Path:
    """The shipped bundle plus one more version whose README differs: something to update to."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import release

    bundle = tmp / "bench.bundle"
    shutil.copy(ROOT / "src" / "mlscaffold" / "data" / "templates.bundle", bundle)
    templates = tmp / "templates-next"
    shutil.copytree(ROOT / "templates", templates)
    readme = templates / "_shared" / "project" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\n<!-- a newer template version -->\n")
    release.release("99.0.0", replace=False, bundle=bundle, templates=templates)
    return bundle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    mlscaffold, copier = str(BIN / "mlscaffold"), str(BIN / "copier")
    with tempfile.TemporaryDirectory(prefix="mlscaffold-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = {
            **os.environ,
            "HOME": str(tmp / "home"),
            "GIT_AUTHOR_NAME": "Bench",
            "GIT_AUTHOR_EMAIL": "b@x.y",
            "GIT_COMMITTER_NAME": "Bench",
            "GIT_COMMITTER_EMAIL": "b@x.y",
        }
        (tmp / "home").mkdir()

        help_ml = median([timed([mlscaffold, "--help"], tmp, env) for _ in range(runs)])
        help_copier = median([timed([copier, "--help"], tmp, env) for _ in range(runs)])

        timed([mlscaffold, "new", "sentiment-classifier", "warmup", "--defaults"], tmp, env)
        source = str(tmp / "home" / ".local" / "share" / "mlscaffold" / "templates.bundle")
        new_times, copy_times = [], []
        for i in range(runs):
            new_times.append(
                timed([mlscaffold, "new", "sentiment-classifier", f"n{i}", "--defaults"], tmp, env)
            )
            copy_times.append(
                timed(
                    [
                        copier,
                        "copy",
                        "--defaults",
                        "--quiet",
                        "-d",
                        "kind=sentiment-classifier",
                        "-d",
                        "author_name=Bench",  # mlscaffold offers the git identity; copier asks
                        source,
                        f"c{i}",
                    ],
                    tmp,
                    env,
                )
            )
        new_ml, new_copier = median(new_times), median(copy_times)

        env_update = {**env, "MLSCAFFOLD_SHIPPED_BUNDLE": str(two_version_bundle(tmp))}
        update_times, copier_update_times = [], []
        for i in range(max(3, runs // 2)):
            ours, theirs = f"u{i}", f"cu{i}"
            for project in (ours, theirs):
                timed(
                    [
                        mlscaffold,
                        "new",
                        "sentiment-classifier",
                        project,
                        "--defaults",
                        "--vcs-ref",
                        "0.1.0",
                    ],
                    tmp,
                    env_update,
                )
            update_times.append(timed([mlscaffold, "update", ours], tmp, env_update))
            copier_update_times.append(
                timed([copier, "update", "--defaults", "--quiet"], tmp / theirs, env_update)
            )
        update_ml, update_copier = median(update_times), median(copier_update_times)

    print(f"median of {runs} runs on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(
        f"mlscaffold --help       {help_ml:6.3f} s   (copier --help {help_copier:.3f} s; "
        f"ratio {help_ml / help_copier:.2f}; target <= 0.150 s)"
    )
    print(
        f"mlscaffold new          {new_ml:6.3f} s   (copier copy {new_copier:.3f} s; "
        f"ratio {new_ml / new_copier:.2f}; target <= 1.10, git init + commit included)"
    )
    print(
        f"mlscaffold update       {update_ml:6.3f} s   (copier update {update_copier:.3f} s; "
        f"ratio {update_ml / update_copier:.2f}; target <= 2.0 s)"
    )


if __name__ == "__main__":
    main()
