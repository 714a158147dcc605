"""Scores from outside the sandbox: per kind, how the labelled data is split (the sandbox
trains on one part and sees the other without its labels), how the project's predictions
are made inside the sandbox (a small driver through the project's own code), and how they
are checked and scored here, with the kind's trivial baseline, in plain Python.

    adapter = for_kind("sentiment-classifier")
    holdout = adapter.prepare(labelled, sandbox_sample, inputs, answers, seed=0)
    # in the sandbox: `python -m PKG all --sample`, then `python driver.py INPUTS OUT`
    result = adapter.score(read_predictions(out), holdout)
    result["model"]["accuracy"], result["baseline"]["accuracy"], result["headline"]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlscaffold.cohort.scoring.base import (
    MAX_PREDICTION_BYTES,
    Adapter,
    Holdout,
    LayoutError,
    Need,
    PrepareError,
    ScoringError,
    missing,
    read_predictions,
)
from mlscaffold.cohort.scoring.forecaster import ForecasterAdapter
from mlscaffold.cohort.scoring.image import ImageAdapter
from mlscaffold.cohort.scoring.kaggle import KaggleAdapter
from mlscaffold.cohort.scoring.recommender import RecommenderAdapter
from mlscaffold.cohort.scoring.sentiment import SentimentAdapter
from mlscaffold.errors import UnknownKindError

__all__ = [
    "ADAPTERS",
    "MAX_PREDICTION_BYTES",
    "Adapter",
    "Holdout",
    "LayoutError",
    "Need",
    "NoAdapterError",
    "PrepareError",
    "ScoringError",
    "check_layout",
    "for_kind",
    "read_predictions",
]

ADAPTERS: dict[str, Adapter] = {
    "kaggle-entry": KaggleAdapter(),
    "sentiment-classifier": SentimentAdapter(),
    "recommender": RecommenderAdapter(),
    "image-classifier": ImageAdapter(),
    "forecaster": ForecasterAdapter(),
}


class NoAdapterError(UnknownKindError, KeyError):
    """No adapter for this kind: a usage error for the CLI, a KeyError for lookups."""

    def __str__(self) -> str:
        return self.message


def for_kind(kind: str) -> Adapter:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise NoAdapterError(kind, sorted(ADAPTERS)) from None


def check_layout(kind: str, data: Path, reference: Path, answers: dict[str, Any]) -> None:
    """Refuse evaluation data (`data`, the instructor's grading/data/) that lacks a file of
    the kind's layout, as the assignment's `reference` project's data/sample/ holds it: a
    LayoutError (a PrepareError) naming the missing file and the folder."""
    missing(for_kind(kind).required(reference, answers), data, kind)
