"""The models: a TF-IDF + logistic regression pipeline, and the trivial baseline it must beat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .config import ModelConfig
from .features import TextCleaner

MODEL_FILE = "model.joblib"
BASELINE_FILE = "baseline.joblib"


def build_pipeline(config: ModelConfig, seed: int) -> Pipeline:
    """Cleaning → word 1–2-gram TF-IDF (sublinear tf) → logistic regression (C set by CV)."""
    tfidf = config.tfidf
    return Pipeline(
        [
            ("clean", TextCleaner()),
            (
                "tfidf",
                TfidfVectorizer(
                    ngram_range=tuple(tfidf.ngram_range),
                    min_df=int(tfidf.min_df) if float(tfidf.min_df).is_integer() else tfidf.min_df,
                    max_df=tfidf.max_df,
                    sublinear_tf=tfidf.sublinear_tf,
                    max_features=tfidf.max_features,
                    strip_accents="unicode",
                ),
            ),
            ("clf", LogisticRegression(max_iter=config.logreg.max_iter, random_state=seed)),
        ]
    )


def build_baseline() -> DummyClassifier:
    """Always predicts the most frequent class: any real model has to beat this."""
    return DummyClassifier(strategy="prior")


def save(model: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    joblib.dump(model, tmp)
    tmp.replace(path)


def load(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make train` first")
    return joblib.load(path)
