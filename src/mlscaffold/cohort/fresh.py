"""Fresh labelled data for grading when the instructor gives none: rows made by the kind's
own sample generator (mlscaffold.cohort.generators) from the assignment's secret seed, in
the layout of the project's data/sample/ for its answers, so that a student who memorised
the bundled sample (which every student has) gains nothing from it.

    if fresh.make(kind, answers, seed, folder):  # False: this kind/variant is not made here
        source = folder  # grade from it as from the instructor's data

The rows never repeat the bundled sample's: a review text, a Kaggle row's features (id and
target aside) found in any bundled sample of the kind is drawn again. Standard library only
(the grader's own process has no numpy); the same seed gives the same bytes.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from mlscaffold.cohort.generators import forecaster, kaggle, recommender, sentiment

# image-classifier: not made
KINDS = ("sentiment-classifier", "kaggle-entry", "recommender", "forecaster")


def variant(kind: str, answers: dict[str, Any]) -> str | None:
    """Which of the kind's bundled samples the project's data/sample/ holds for `answers`
    (the template's defaults where one is not recorded), or None where none is made here."""
    if kind == "sentiment-classifier":
        return "three" if answers.get("sentiment_dataset") == "csv" else "binary"
    if kind == "kaggle-entry":
        if str(answers.get("competition") or "titanic") == "titanic":
            return "titanic"
        task = str(answers.get("task") or "binary")
        return task if task in kaggle.TASKS else None
    if kind == "recommender":
        return "ratings"
    if kind == "forecaster":
        return "panel"
    return None


def supported(kind: str, answers: dict[str, Any]) -> bool:
    return variant(kind, answers) is not None


def make(kind: str, answers: dict[str, Any], seed: int, dest: Path) -> bool:
    """Write freshly generated labelled data for an assignment of `kind` with `answers` into
    the folder `dest` (made if missing): the files, columns and labels of the project's
    data/sample/ (and its row counts, but Kaggle's: KAGGLE_SCALE times), new rows drawn from
    `seed`. False, and nothing written, for a
    kind or variant not made here (image-classifier)."""
    name = variant(kind, answers)
    if name is None:
        return False
    files = WRITERS[kind](name, answers, _rng_seed(kind, name, seed))
    dest.mkdir(parents=True, exist_ok=True)
    for filename, text in files.items():
        (dest / filename).write_bytes(text.encode("utf-8"))  # "\n" line ends on any platform
    return True


def _rng_seed(kind: str, name: str, seed: int) -> int:
    """The generator's seed: from the assignment's, never one of the bundled samples'."""
    text = f"mlscaffold.cohort.fresh {kind} {name} {int(seed)}"
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


@cache
def _bundled_reviews() -> frozenset[str]:
    return frozenset(text for v in sentiment.BUNDLED for text, _ in sentiment.bundled(v))


@cache
def _bundled_rows() -> frozenset[tuple[str, ...]]:
    tables = [table for sample in kaggle.bundled().values() for table in sample.values()]
    return frozenset().union(*(kaggle.feature_keys(table) for table in tables))


def _sentiment(name: str, answers: dict[str, Any], seed: int) -> dict[str, str]:
    labels, rows, _ = sentiment.BUNDLED[name]
    data = sentiment.make(labels, rows, seed, exclude=_bundled_reviews())
    return {"reviews.csv": sentiment.csv_text(data)}


# Fresh tabular rows per bundled row: a hold-out of about 270 passengers instead of 90, so an
# honest model's accuracy wobbles by about 0.03 between seeds, not 0.05 (a fixed threshold
# such as `model.accuracy >= 0.6` must not fail an untouched project by the seed's luck).
KAGGLE_SCALE = 3


def _kaggle(name: str, answers: dict[str, Any], seed: int) -> dict[str, str]:
    columns = {  # as the template's questions default them (and the scoring adapter reads them)
        "id_column": str(answers.get("id_column") or "PassengerId"),
        "target_column": str(answers.get("target_column") or "Survived"),
    }
    rng = random.Random(seed)
    if name == "titanic":
        tables = kaggle.titanic(rng, **columns, exclude=_bundled_rows(), scale=KAGGLE_SCALE)
    else:
        tables = kaggle.generic(rng, **columns, exclude=_bundled_rows(), scale=KAGGLE_SCALE)[name]
    return {f"{part}.csv": kaggle.csv_text(tables[part]) for part in kaggle.PARTS}


def _recommender(name: str, answers: dict[str, Any], seed: int) -> dict[str, str]:
    ratings, items = recommender.make(recommender.StdlibDraws(seed))
    return {
        "ratings.csv": recommender.csv_text(recommender.RATINGS_HEADER, ratings),
        "items.csv": recommender.csv_text(recommender.ITEMS_HEADER, items),
    }


def _forecaster(name: str, answers: dict[str, Any], seed: int) -> dict[str, str]:
    """The panel, one horizon longer than the bundled one: after the grader holds out the
    last horizon, the sandbox trains on as many months as the project's sample has."""
    from mlscaffold.cohort.scoring.forecaster import settings

    horizon, _ = settings(answers)
    rows = forecaster.make(seed, months=forecaster.MONTHS + horizon)
    return {"series.csv": forecaster.csv_text(rows)}


WRITERS: dict[str, Callable[[str, dict[str, Any], int], dict[str, str]]] = {
    "sentiment-classifier": _sentiment,
    "kaggle-entry": _kaggle,
    "recommender": _recommender,
    "forecaster": _forecaster,
}
