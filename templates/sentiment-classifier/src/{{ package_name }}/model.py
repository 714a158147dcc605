"""The models: NB-weighted n-grams + logistic regression (default), TF-IDF + logistic
regression, and the trivial baseline both must beat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .features import TextCleaner
from .plumbing import persist
from .settings import ModelSettings

MODEL_FILE = "model.joblib"
BASELINE_FILE = "baseline.joblib"
LIBRARIES = ("scikit-learn", "numpy", "scipy")


def _min_df(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


class NBLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression on features scaled by naive-Bayes log-count ratios.

    The NBSVM idea of Wang & Manning (2012, "Baselines and Bigrams"), with logistic
    regression in place of the SVM: each binary n-gram feature is multiplied by
    r = log((p / |p|1) / (q / |q|1)), its smoothed frequency in one class over the other,
    so informative n-grams start with large weights. Multi-class: one such model per class
    (one vs rest), probabilities normalised.
    """

    def __init__(
        self, C: float = 1.0, alpha: float = 1.0, max_iter: int = 1000, random_state: Any = None
    ) -> None:
        self.C = C
        self.alpha = alpha
        self.max_iter = max_iter
        self.random_state = random_state

    def _ratio(self, X: sparse.csr_matrix, positive: np.ndarray) -> np.ndarray:
        p = self.alpha + np.asarray(X[positive].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(X[~positive].sum(axis=0)).ravel()
        return np.log((p / p.sum()) / (q / q.sum()))

    def fit(self, X: Any, y: Any) -> NBLogisticRegression:
        X = sparse.csr_matrix(X)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        self.ratios_, self.models_ = [], []
        for target in targets:
            positive = y == target
            ratio = self._ratio(X, positive)
            model = LogisticRegression(
                C=self.C, max_iter=self.max_iter, random_state=self.random_state
            )
            model.fit(X.multiply(ratio).tocsr(), positive)
            self.ratios_.append(ratio)
            self.models_.append(model)
        return self

    def _positive_probability(self, X: Any) -> np.ndarray:
        X = sparse.csr_matrix(X)
        return np.column_stack(
            [
                model.predict_proba(X.multiply(ratio).tocsr())[:, 1]
                for model, ratio in zip(self.models_, self.ratios_, strict=True)
            ]
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        scores = self._positive_probability(X)
        if len(self.classes_) == 2:
            return np.column_stack([1 - scores[:, 0], scores[:, 0]])
        return scores / np.clip(scores.sum(axis=1, keepdims=True), 1e-12, None)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    @property
    def coef_(self) -> np.ndarray:
        """Effective weight of each n-gram (ratio × learned weight), for explanations."""
        return np.vstack([m.coef_[0] * r for m, r in zip(self.models_, self.ratios_, strict=True)])


def build_pipeline(config: ModelSettings, seed: int) -> Pipeline:
    """Cleaning → n-gram features → a linear classifier whose C is set by cross-validation."""
    if config.type == "nbsvm":
        nb = config.nbsvm
        features = CountVectorizer(
            ngram_range=tuple(nb.ngram_range),
            min_df=_min_df(nb.min_df),
            max_df=nb.max_df,
            binary=True,
            strip_accents="unicode",
        )
        classifier: Any = NBLogisticRegression(
            alpha=nb.alpha, max_iter=config.logreg.max_iter, random_state=seed
        )
    else:
        tfidf = config.tfidf
        features = TfidfVectorizer(
            ngram_range=tuple(tfidf.ngram_range),
            min_df=_min_df(tfidf.min_df),
            max_df=tfidf.max_df,
            sublinear_tf=tfidf.sublinear_tf,
            max_features=tfidf.max_features,
            strip_accents="unicode",
        )
        classifier = LogisticRegression(max_iter=config.logreg.max_iter, random_state=seed)
    return Pipeline([("clean", TextCleaner()), ("features", features), ("clf", classifier)])


def build_baseline() -> DummyClassifier:
    """Always predicts the most frequent class: any real model has to beat this."""
    return DummyClassifier(strategy="prior")


def save(model: Any, path: Path) -> None:
    persist.save(model, path, LIBRARIES)


def load(path: Path) -> Any:
    return persist.load(path)
