"""The models: a linear baseline, gradient boosting (scikit-learn's HistGradientBoosting), and
the trivial prediction both must beat (majority class, or the mean)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from .features import TitanicFeatures, infer_columns, preprocessor
from .plumbing import persist
from .settings import Settings

FOLDS_FILE = "folds.joblib"
LIBRARIES = ("scikit-learn", "numpy", "pandas")
NAMES = {"hist_gb": "gradient boosting (HistGradientBoosting)", "linear": "linear model"}


def engineered(config: Settings, features: pd.DataFrame) -> pd.DataFrame:
    """The training features after feature engineering, to infer the column types from."""
    if config.features.titanic:
        return TitanicFeatures().fit(features).transform(features)
    return features


def build(config: Settings, features: pd.DataFrame, kind: str | None = None) -> Any:
    """A full pipeline (features → preprocessing → estimator) for `kind` (default: the
    configured model type)."""
    kind = kind or config.model.type
    numeric, categorical = infer_columns(engineered(config, features), config.features)
    regression = config.competition.task == "regression"
    if kind == "linear":
        estimator: Any = (
            Ridge(alpha=config.model.linear.alpha)
            if regression
            else LogisticRegression(C=config.model.linear.C, max_iter=5000)
        )
    else:
        gb = config.model.hist_gb
        params = {
            "learning_rate": gb.learning_rate,
            "max_iter": gb.max_iter,
            "max_depth": gb.max_depth,
            "min_samples_leaf": gb.min_samples_leaf,
            "l2_regularization": gb.l2_regularization,
            "early_stopping": gb.early_stopping,
            "validation_fraction": gb.validation_fraction,
            "n_iter_no_change": gb.n_iter_no_change,
            "random_state": config.seed,
        }
        estimator = (
            HistGradientBoostingRegressor(**params)
            if regression
            else HistGradientBoostingClassifier(**params)
        )
    if regression and config.competition.metric == "rmse_log":
        # scored on logs: learn the log of the target, predict back on its scale
        estimator = TransformedTargetRegressor(estimator, func=np.log1p, inverse_func=np.expm1)
    steps = [("features", TitanicFeatures())] if config.features.titanic else []
    steps += [("preprocess", preprocessor(numeric, categorical, scale=kind == "linear"))]
    return Pipeline([*steps, ("model", estimator)])


def baseline(config: Settings) -> Any:
    """Majority class (class shares as probabilities) or the mean: what any model must beat."""
    if config.competition.task == "regression":
        return DummyRegressor(strategy="mean")
    return DummyClassifier(strategy="prior")


def predict(model: Any, features: pd.DataFrame, regression: bool) -> np.ndarray:
    return model.predict(features) if regression else model.predict_proba(features)


def save(folds: dict[str, Any], path: Path) -> None:
    persist.save(folds, path, LIBRARIES)


def load(path: Path) -> dict[str, Any]:
    return persist.load(path)
