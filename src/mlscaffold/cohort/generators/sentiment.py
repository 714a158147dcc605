"""sentiment-classifier's labelled reviews: short reviews composed from phrase lists, with
negations and 6% label noise so that a model must really learn (the majority baseline sits
near 0.5). The bundled sample (scripts/make_sentiment_sample.py) and the grader's fresh
held-out data (mlscaffold.cohort.fresh) are both made here. Standard library only.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Container

HEADER = ["text", "label"]
BINARY = ["negative", "positive"]
THREE = ["negative", "neutral", "positive"]  # the sample of sentiment_dataset == 'csv'
# the bundled samples: labels, rows, seed
BUNDLED = {"binary": (BINARY, 600, 2026), "three": (THREE, 900, 2027)}

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


def make(
    labels: list[str],
    rows: int,
    seed: int | str,
    noise: float = 0.06,
    exclude: Container[str] = (),
) -> list[tuple[str, str]]:
    """`rows` (text, label) pairs, the classes in turn (then shuffled), a share `noise` of
    the labels drawn at random. A review in `exclude` is drawn again (none is by default, so
    the bundled sample's draws are unchanged)."""
    rng = random.Random(seed)
    data = []
    for i in range(rows):
        true = labels[i % len(labels)]
        label = rng.choice(labels) if rng.random() < noise else true
        text = review(rng, true)
        while text in exclude:
            text = review(rng, true)
        data.append((text, label))
    rng.shuffle(data)
    return data


def bundled(variant: str) -> list[tuple[str, str]]:
    """The bundled sample of `variant` ("binary" or "three"), as the template holds it."""
    labels, rows, seed = BUNDLED[variant]
    return make(labels, rows, seed=seed)


def csv_text(rows: list[tuple[str, str]]) -> str:
    """The sample's file: header text,label, one line per review (written as csv writes it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue()
