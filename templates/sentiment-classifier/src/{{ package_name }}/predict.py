"""The `predict` step: label and probability for new texts, from the saved model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import model as model_lib
from .config import Paths


def predict(model: Any, texts: Sequence[str]) -> list[dict[str, Any]]:
    """One dict per text: the predicted label and the model's probability for it."""
    probabilities = np.asarray(model.predict_proba(list(texts)))
    classes = list(model.classes_)
    best = probabilities.argmax(axis=1)
    return [
        {"text": text, "label": str(classes[i]), "probability": round(float(row[i]), 4)}
        for text, row, i in zip(texts, probabilities, best, strict=True)
    ]


def read_texts(path: Path) -> list[str]:
    """A .csv/.tsv with a `text` column, or a plain file with one text per line."""
    if path.suffix.lower() in (".csv", ".tsv"):
        frame = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",", dtype=str)
        if "text" not in frame.columns:
            raise ValueError(f"{path} has no `text` column (columns: {list(frame.columns)})")
        return frame["text"].fillna("").tolist()
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_model(paths: Paths) -> Any:
    return model_lib.load(paths.models / model_lib.MODEL_FILE)
