"""recommender's labelled interactions (ratings.csv: user, item, rating, timestamp) and
catalogue (items.csv: item, title, genres): users and items with latent tastes (3 factors)
that steer what each user picks, a popularity skew (Zipf-like), ratings 1-5 from taste plus
noise, timestamps that grow per user, and made-up titles with genres. MovieLens may not be
redistributed, so the bundled sample is made here (scripts/make_recommender_sample.py, with
numpy's random generator for the draws, as it was first made), and so is the grader's fresh
held-out data (mlscaffold.cohort.fresh, with the standard library's: no numpy there).
"""

from __future__ import annotations

import csv
import io
import math
import random
from typing import Any, Protocol

GENRES = ["Action", "Comedy", "Drama", "Romance", "Sci-Fi", "Thriller"]
ADJECTIVES = ["Silent", "Last", "Golden", "Broken", "Hidden", "Wild", "Distant", "Electric"]
NOUNS = ["River", "Empire", "Garden", "Signal", "Harbour", "Machine", "Winter", "Voyage"]
RATINGS_HEADER = ["user", "item", "rating", "timestamp"]
ITEMS_HEADER = ["item", "title", "genres"]
USERS, ITEMS, FACTORS = 300, 240, 3
PER_USER = (15, 60)  # interactions per user: at least 15, fewer than 60
BUNDLED_SEED = 2024  # numpy.random.default_rng's seed for the bundled sample
DAY = 86_400


class Draws(Protocol):
    """The random draws the generator needs, in the order it makes them."""

    def normal(self, sigma: float, count: int) -> list[float]:
        """`count` draws from N(0, sigma)."""
        ...

    def integer(self, low: int, high: int) -> int:
        """One integer in [low, high)."""
        ...

    def choose(self, count: int, weights: list[float]) -> list[int]:
        """`count` distinct indices into `weights` (which sum to 1), each drawn with a chance
        proportional to its weight among those not yet drawn."""
        ...

    def permutation(self, count: int) -> list[int]:
        """0 .. count-1 in random order."""
        ...


class StdlibDraws:
    """Draws from the standard library's random.Random (the grader's fresh data)."""

    def __init__(self, seed: int | str) -> None:
        self.rng = random.Random(seed)

    def normal(self, sigma: float, count: int) -> list[float]:
        return [self.rng.gauss(0.0, sigma) for _ in range(count)]

    def integer(self, low: int, high: int) -> int:
        return self.rng.randrange(low, high)

    def choose(self, count: int, weights: list[float]) -> list[int]:
        # exponential keys (Efraimidis-Spirakis): the smallest `count` are a weighted draw
        # without replacement, in the order successive draws would give them
        keys = [self.rng.expovariate(1.0) / weight for weight in weights]
        return sorted(range(len(weights)), key=keys.__getitem__)[:count]

    def permutation(self, count: int) -> list[int]:
        order = list(range(count))
        self.rng.shuffle(order)
        return order


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def make(draws: Draws) -> tuple[list[list[Any]], list[list[Any]]]:
    """(ratings rows, items rows) without headers, from `draws`."""
    flat = draws.normal(1.0, USERS * FACTORS)
    users = [flat[i * FACTORS : (i + 1) * FACTORS] for i in range(USERS)]
    flat = draws.normal(1.0, ITEMS * FACTORS)
    items = [flat[i * FACTORS : (i + 1) * FACTORS] for i in range(ITEMS)]
    item_bias = draws.normal(0.4, ITEMS)
    popularity = [1.0 / rank**0.8 for rank in range(1, ITEMS + 1)]
    total = sum(popularity)
    popularity = [value / total for value in popularity]
    ratings: list[list[Any]] = []
    for user in range(USERS):
        count = draws.integer(*PER_USER)
        # people look for what suits them
        tastes = [math.exp(0.8 * _dot(users[user], item)) for item in items]
        weights = [p * taste for p, taste in zip(popularity, tastes, strict=True)]
        total = sum(weights)
        seen = draws.choose(count, [w / total for w in weights])
        affinity = [_dot(users[user], items[i]) + item_bias[i] for i in seen]
        start = 880_000_000 + draws.integer(0, 10_000_000)
        for step, index in enumerate(draws.permutation(count)):
            score = 3.2 + 1.0 * affinity[index] + draws.normal(0.5, 1)[0]
            rating = min(5, max(1, round(score)))  # half to even, as numpy's rint
            ratings.append([user + 1, seen[index] + 1, rating, start + step * DAY])
    catalogue: list[list[Any]] = []
    for item in range(ITEMS):
        title = f"The {ADJECTIVES[item % 8]} {NOUNS[(item // 8) % 8]} ({1970 + item % 50})"
        factors = items[item]
        best = max(range(FACTORS), key=factors.__getitem__)  # the first largest, as argmax
        genres = "|".join(sorted({GENRES[best], GENRES[item % 6]}))
        catalogue.append([item + 1, title, genres])
    return ratings, catalogue


def csv_text(header: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
