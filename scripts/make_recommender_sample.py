"""Regenerate the recommender template's synthetic sample (data/sample/ratings.csv, items.csv).

    python scripts/make_recommender_sample.py   # needs numpy

MovieLens may not be redistributed, so the sample is generated: users and items with latent
tastes (3 factors) that steer what each user picks, a popularity skew (Zipf-like), ratings
1-5 from taste plus noise, timestamps that grow per user, and made-up titles with genres.
The generator lives in the package (mlscaffold.cohort.generators.recommender), where the
grader also makes fresh held-out ratings with it (standard-library draws); the bundled
sample takes its draws from numpy's default_rng(2024), as it was first made.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mlscaffold.cohort.generators import recommender  # noqa: E402

OUT = ROOT / "templates" / "recommender" / "data" / "sample"


class NumpyDraws:
    """The generator's draws from numpy.random.Generator."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def normal(self, sigma: float, count: int) -> list[float]:
        return [float(x) for x in self.rng.normal(0, sigma, count)]

    def integer(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high))

    def choose(self, count: int, weights: list[float]) -> list[int]:
        chosen = self.rng.choice(len(weights), size=count, replace=False, p=np.array(weights))
        return [int(i) for i in chosen]

    def permutation(self, count: int) -> list[int]:
        return [int(i) for i in self.rng.permutation(np.arange(count))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write (the template's)")
    out = parser.parse_args().out
    ratings, items = recommender.make(NumpyDraws(recommender.BUNDLED_SEED))
    out.mkdir(parents=True, exist_ok=True)
    text = recommender.csv_text(recommender.RATINGS_HEADER, ratings)
    (out / "ratings.csv").write_bytes(text.encode("utf-8"))
    text = recommender.csv_text(recommender.ITEMS_HEADER, items)
    (out / "items.csv").write_bytes(text.encode("utf-8"))
    users = len({row[0] for row in ratings})
    print(f"wrote {len(ratings)} ratings by {users} users of {len(items)} items to {out}")


if __name__ == "__main__":
    main()
