"""The `predict` step: label and probability for new texts, from the saved model."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import model as model_lib
from .plumbing.errors import DataError
from .plumbing.paths import Paths


def predict(model: Any, texts: Sequence[str]) -> list[dict[str, Any]]:
    """One dict per text: the predicted label, the model's probability for it, and every
    class's probability (`probabilities`)."""
    probabilities = np.asarray(model.predict_proba(list(texts)))
    classes = [str(label) for label in model.classes_]
    best = probabilities.argmax(axis=1)
    return [
        {
            "text": text,
            "label": classes[i],
            "probability": round(float(row[i]), 4),
            "probabilities": {c: round(float(p), 4) for c, p in zip(classes, row, strict=True)},
        }
        for text, row, i in zip(texts, probabilities, best, strict=True)
    ]


def read_texts(path: Path, text_column: str = "text") -> list[str]:
    """A .csv/.tsv with the configured text column, or one text per line; `-` is stdin."""
    if str(path) == "-":
        return [line for line in sys.stdin.read().splitlines() if line.strip()]
    if not path.is_file():
        raise DataError(f"{path} not found", "give the path of a file of texts")
    try:
        if path.suffix.lower() in (".csv", ".tsv"):
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            frame = pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8")
            if text_column not in frame.columns:
                raise DataError(
                    f"{path} has no {text_column!r} column (columns: {list(frame.columns)})",
                    "set data.text_column in configs/config.yaml, or pass a plain text file",
                )
            texts = frame[text_column].fillna("").tolist()
        else:
            texts = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text", "save it as UTF-8 and try again") from exc
    texts = [text for text in texts if text.strip()]
    if not texts:
        raise DataError(f"{path} holds no text to classify")
    return texts


def load_model(paths: Paths) -> Any:
    return model_lib.load(paths.models / model_lib.MODEL_FILE)
