"""Generate the sentiment template's bundled sample (synthetic, so it may be redistributed).

The real datasets (IMDB, SST-2, UCI) may not be copied into a template, so the offline
sample is written by this script: short reviews composed from phrase lists, with negations
and 6% label noise so that a model must really learn (the majority baseline sits near 0.5).

    python scripts/make_sentiment_sample.py   # rewrites the sentiment template's data/sample/
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "templates" / "sentiment-classifier" / "data" / "sample"

SUBJECTS = [
    "the acting",
    "the plot",
    "the soundtrack",
    "the ending",
    "the dialogue",
    "the pacing",
    "the service",
    "the food",
    "the staff",
    "the battery life",
    "the screen",
    "the sound quality",
    "this phone",
    "this movie",
    "this restaurant",
    "the delivery",
    "the price",
    "the camera",
    "the story",
    "the characters",
    "the menu",
    "the design",
    "the cinematography",
    "the headset",
]
POSITIVE = [
    "wonderful",
    "excellent",
    "great",
    "delightful",
    "superb",
    "brilliant",
    "fantastic",
    "charming",
    "moving",
    "impressive",
    "reliable",
    "friendly",
    "fresh",
    "beautiful",
    "outstanding",
    "enjoyable",
    "solid",
    "pleasant",
    "amazing",
    "terrific",
]
NEGATIVE = [
    "terrible",
    "awful",
    "boring",
    "dull",
    "disappointing",
    "poor",
    "horrible",
    "bland",
    "clumsy",
    "broken",
    "rude",
    "stale",
    "annoying",
    "weak",
    "mediocre",
    "frustrating",
    "painful",
    "cheap",
    "messy",
    "forgettable",
]
NEUTRAL = [
    "average",
    "ordinary",
    "standard",
    "typical",
    "acceptable",
    "fine",
    "okay",
    "adequate",
    "unremarkable",
    "as expected",
    "middle of the road",
    "neither good nor bad",
]
POS_CLOSERS = [
    "I would recommend it to anyone.",
    "Worth every penny.",
    "I will definitely come back.",
    "Easily one of the best this year.",
    "Loved it.",
    "Five stars from me.",
    "A real pleasure.",
]
NEG_CLOSERS = [
    "I would not recommend it.",
    "A complete waste of money.",
    "I will never go back.",
    "One of the worst this year.",
    "Hated it.",
    "One star is too many.",
    "Avoid it.",
]
NEU_CLOSERS = [
    "It does the job.",
    "Nothing more to say.",
    "Some will like it, some will not.",
    "Three stars.",
    "It was what it was.",
    "No strong feelings either way.",
]
INTENSIFIERS = ["", "", "really ", "truly ", "quite ", "very ", "absolutely "]
FILLERS = [
    "",
    "",
    "We went on a Friday evening.",
    "I watched it with my family.",
    "I bought it last month.",
    "The box arrived on time.",
    "It was my second visit.",
]


def _clause(rng: random.Random, polarity: str) -> str:
    subject = rng.choice(SUBJECTS)
    if polarity == "neutral":
        return f"{subject} was {rng.choice(NEUTRAL)}"
    words, opposite = (POSITIVE, NEGATIVE) if polarity == "positive" else (NEGATIVE, POSITIVE)
    if rng.random() < 0.2:  # negated opposite: "not boring" reads positive
        return f"{subject} was not {rng.choice(opposite)} at all"
    return f"{subject} was {rng.choice(INTENSIFIERS)}{rng.choice(words)}"


def review(rng: random.Random, polarity: str) -> str:
    closers = {"positive": POS_CLOSERS, "negative": NEG_CLOSERS, "neutral": NEU_CLOSERS}[polarity]
    parts = [rng.choice(FILLERS), _clause(rng, polarity).capitalize() + "."]
    if rng.random() < 0.6:
        parts.append(_clause(rng, polarity).capitalize() + ".")
    if rng.random() < 0.25:  # a contrary remark, as real reviews have
        contrary = {"positive": "negative", "negative": "positive", "neutral": "neutral"}[polarity]
        parts.append("Only " + _clause(rng, contrary) + ".")
    if rng.random() < 0.7:
        parts.append(rng.choice(closers))
    return " ".join(p for p in parts if p)


def make(labels: list[str], rows: int, seed: int, noise: float = 0.06) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    data = []
    for i in range(rows):
        true = labels[i % len(labels)]
        label = rng.choice(labels) if rng.random() < noise else true
        data.append((review(rng, true), label))
    rng.shuffle(data)
    return data


def write(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def main() -> None:
    binary = OUT / "{% if sentiment_dataset != 'csv' %}reviews.csv{% endif %}"
    three = OUT / "{% if sentiment_dataset == 'csv' %}reviews.csv{% endif %}"
    OUT.mkdir(parents=True, exist_ok=True)
    write(binary, make(["negative", "positive"], 600, seed=2026))
    write(three, make(["negative", "neutral", "positive"], 900, seed=2027))
    print(f"wrote {binary} and {three}")


if __name__ == "__main__":
    main()
