"""How the recommender's cost grows with the number of ratings (time and peak memory).

    python benchmarks/bench_recommender_scale.py [--sizes 1 10 100] [--spark]

Builds MovieLens-100K-shaped synthetic ratings (1,682 items; users added to reach 1x, 10x,
100x of 100,000 ratings) and times the generated project's own code, in an environment
built from its dependencies: ALS (the rating model, 12 epochs) and EASE (top-N). With
--spark, Spark MLlib's ALS on the largest size too. Peak memory is the process's maximum
resident size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

MEASURE = r"""
import resource, sys, time
import numpy as np, pandas as pd
sys.path.insert(0, sys.argv[1])
from bench_pkg.model import Ease, FactorModel, Index
size, engine = int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
n_items, per_user = 1682, 106
users = np.repeat(np.arange(size * 943), per_user)
popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
items = rng.choice(n_items, size=len(users), p=popularity / popularity.sum())
ratings = pd.DataFrame({"user": users, "item": items, "rating": rng.integers(1, 6, len(users))})
ratings = ratings.drop_duplicates(["user", "item"])
index = Index.of(ratings)
started = time.perf_counter()
if engine == "spark":
    from bench_pkg.plumbing.paths import Paths
    from bench_pkg.plumbing.pipeline import settings
    from bench_pkg.spark import fit_als
    config = settings(Paths(__import__("pathlib").Path(sys.argv[1]).parent))
    fit_als(config, ratings, index)
    als = time.perf_counter() - started
    ease = float("nan")
else:
    FactorModel(index, 50, 0.12, 0.03, 12).fit(ratings)
    als = time.perf_counter() - started
    started = time.perf_counter()
    Ease(index, 200.0, 2).fit(index.matrix(ratings))
    ease = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
line = f"{len(ratings):>10,d} ratings  {engine:5s}  ALS {als:7.1f} s  EASE {ease:6.1f} s"
print(f"{line}  peak {peak:7.0f} MB")
"""


def main() -> None:
    from project_envs import env_python

    from mlscaffold.generate import NewRequest, generate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--spark", action="store_true", help="also Spark ALS on the largest")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlscaffold-recs-") as tmp:
        root = Path(tmp) / "bench"
        data = {"package_name": "bench_pkg", "author_name": "bench"}
        generate(NewRequest(kind="recommender", dest=root, defaults=True, git=False, data=data))
        python = str(env_python(root))
        runs = [(size, "numpy") for size in args.sizes]
        if args.spark:
            runs.append((max(args.sizes), "spark"))
        for size, engine in runs:
            done = subprocess.run(
                [python, "-c", MEASURE, str(root / "src"), str(size), engine],
                capture_output=True,
                text=True,
            )
            print(done.stdout.strip() or done.stderr[-2000:])


if __name__ == "__main__":
    main()
