"""Regenerate the recommender template's synthetic sample (data/sample/ratings.csv, items.csv).

    python scripts/make_recommender_sample.py

MovieLens may not be redistributed, so the sample is generated: users and items with latent
tastes (3 factors) that steer what each user picks, a popularity skew (Zipf-like), ratings
1-5 from taste plus noise, timestamps that grow per user, and made-up titles with genres.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "templates" / "recommender" / "data" / "sample"
GENRES = ["Action", "Comedy", "Drama", "Romance", "Sci-Fi", "Thriller"]
ADJECTIVES = ["Silent", "Last", "Golden", "Broken", "Hidden", "Wild", "Distant", "Electric"]
NOUNS = ["River", "Empire", "Garden", "Signal", "Harbour", "Machine", "Winter", "Voyage"]


def main() -> None:
    rng = np.random.default_rng(2024)
    n_users, n_items, factors = 300, 240, 3
    users = rng.normal(0, 1, (n_users, factors))
    items = rng.normal(0, 1, (n_items, factors))
    item_bias = rng.normal(0, 0.4, n_items)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    popularity /= popularity.sum()
    rows = []
    for user in range(n_users):
        count = int(rng.integers(15, 60))
        taste = np.exp(0.8 * (users[user] @ items.T))  # people look for what suits them
        chance = popularity * taste / (popularity * taste).sum()
        seen = rng.choice(n_items, size=count, replace=False, p=chance)
        affinity = users[user] @ items[seen].T + item_bias[seen]
        order = np.arange(count)
        start = 880_000_000 + int(rng.integers(0, 10_000_000))
        for step, index in enumerate(rng.permutation(order)):
            score = 3.2 + 1.0 * affinity[index] + rng.normal(0, 0.5)
            rating = int(np.clip(np.rint(score), 1, 5))
            rows.append((user + 1, int(seen[index]) + 1, rating, start + step * 86_400))
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "ratings.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["user", "item", "rating", "timestamp"])
        writer.writerows(rows)
    with (OUT / "items.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item", "title", "genres"])
        for item in range(n_items):
            title = f"The {ADJECTIVES[item % 8]} {NOUNS[(item // 8) % 8]} ({1970 + item % 50})"
            genres = "|".join(sorted({GENRES[int(np.argmax(items[item]))], GENRES[item % 6]}))
            writer.writerow([item + 1, title, genres])
    print(f"wrote {len(rows)} ratings by {n_users} users of {n_items} items to {OUT}")


if __name__ == "__main__":
    main()
