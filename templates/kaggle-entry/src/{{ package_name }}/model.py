"""The models: a linear baseline, gradient boosting (scikit-learn's HistGradientBoosting), and
the trivial prediction both must beat (majority class, or the mean). For regression,
`model.type: auto` lets cross-validation choose among a few candidates (see CANDIDATES).

Serving predicts one row at a time, where a scikit-learn pipeline on a one-row DataFrame
spends most of its time in pandas and validation: `RowPredictor` reads the fitted pipeline's
parameters once and predicts rows given as dicts with plain Python and NumPy (the same
numbers: a test compares it with the pipeline on every sample row).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .features import SkewedLog, TitanicFeatures, infer_columns, preprocessor
from .plumbing import persist
from .settings import Settings

FOLDS_FILE = "folds.joblib"  # the CV fold models: out-of-fold scores and the submission
MODEL_FILE = "model.joblib"  # one model refit on all training rows: what `serve` predicts with
LIBRARIES = ("scikit-learn", "numpy", "pandas")
NAMES = {
    "hist_gb": "gradient boosting (HistGradientBoosting)",
    "hist_gb_plain": "gradient boosting (HistGradientBoosting, default parameters)",
    "linear": "linear model",
    "blend": "blend of gradient boosting and a linear model",
}
# model.type auto (regression): cross-validation picks the best of these on the same folds
CANDIDATES = ("hist_gb", "hist_gb_plain", "linear", "blend")
BLENDED = ("hist_gb", "linear")  # the blend's members: the mean of their predictions
PARAMETERS = {  # the config sections each kind uses (the experiments log records them)
    "hist_gb": ("hist_gb",), "hist_gb_plain": (), "linear": ("linear",), "blend": BLENDED,
}  # fmt: skip


def engineered(config: Settings, features: pd.DataFrame) -> pd.DataFrame:
    """The training features after feature engineering, to infer the column types from."""
    if config.features.titanic:
        return TitanicFeatures().fit(features).transform(features)
    return features


class Blend(BaseEstimator, RegressorMixin):
    """The mean of its estimators' predictions (each fitted on the same rows)."""

    def __init__(self, estimators: list[Any]) -> None:
        self.estimators = estimators

    def fit(self, X: pd.DataFrame, y: Any) -> Blend:
        self.estimators_ = [clone(estimator).fit(X, y) for estimator in self.estimators]
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.mean([estimator.predict(X) for estimator in self.estimators_], axis=0)


def build(config: Settings, features: pd.DataFrame, kind: str | None = None) -> Any:
    """A full pipeline (features → preprocessing → estimator) for `kind` (default: the
    configured model type; see CANDIDATES for `auto`'s)."""
    kind = kind or config.model.type
    if kind == "auto":
        raise ValueError("model.type auto is resolved by train.choose, not built")
    if kind == "blend":
        return Blend([build(config, features, member) for member in BLENDED])
    numeric, categorical = infer_columns(engineered(config, features), config.features)
    regression = config.competition.task == "regression"
    if kind == "linear":
        estimator: Any = (
            Ridge(alpha=config.model.linear.alpha)
            if regression
            else LogisticRegression(C=config.model.linear.C, max_iter=5000)
        )
    elif kind == "hist_gb_plain":  # scikit-learn's defaults: what the tuned one must beat
        plain = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
        estimator = plain(random_state=config.seed)
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
    linear = kind == "linear"
    # a linear regression gains from logs of skewed numbers (prices, areas); trees do not care
    steps += [("preprocess", preprocessor(numeric, categorical, linear, linear and regression))]
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


class _Unsupported(Exception):
    """A pipeline step RowPredictor does not know: the pipeline predicts instead."""


def _numbers(step: Any) -> list[tuple[str, Any]]:
    """The numeric branch's steps as (what, parameters)."""
    found = []
    for _, transformer in step.steps if isinstance(step, Pipeline) else [("", step)]:
        if isinstance(transformer, SimpleImputer):
            statistics = np.asarray(transformer.statistics_, dtype=float)
            if np.isnan(statistics).any():  # a column empty in training: dropped
                raise _Unsupported("an empty numeric column")
            found.append(("impute", statistics))
        elif isinstance(transformer, SkewedLog):
            found.append(("call", transformer))
        elif isinstance(transformer, StandardScaler):
            mean = transformer.mean_ if transformer.mean_ is not None else 0.0
            scale = transformer.scale_ if transformer.scale_ is not None else 1.0
            found.append(("scale", (np.asarray(mean, float), np.asarray(scale, float))))
        else:
            raise _Unsupported(type(transformer).__name__)
    return found


def _categories(step: Any) -> tuple[list[Any], list[dict[Any, int]], int]:
    """(fill values, {category: column} per input column, width) of impute → one-hot."""
    parts = step.steps if isinstance(step, Pipeline) else [("onehot", step)]
    if [type(t) for _, t in parts] != [SimpleImputer, OneHotEncoder]:
        raise _Unsupported("categorical branch")
    imputer, encoder = parts[0][1], parts[1][1]
    if encoder.drop_idx_ is not None or getattr(encoder, "_infrequent_enabled", False):
        raise _Unsupported("one-hot with drop or infrequent categories")
    fills, positions, width = list(imputer.statistics_), [], 0
    if any(_missing(fill) for fill in fills):  # a column empty in training: dropped
        raise _Unsupported("an empty categorical column")
    for categories in encoder.categories_:
        positions.append({value: width + i for i, value in enumerate(categories.tolist())})
        width += len(categories)
    return fills, positions, width


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


class _Trees:
    """A fitted HistGradientBoosting model's trees as flat arrays, walked for all trees at
    once with a few NumPy operations: scikit-learn walks them one call per tree, each call
    releasing and taking back the GIL, which under many concurrent requests costs more than
    the trees. The same rule: NaN goes where the split sent missing values, else x <=
    threshold goes left. Raises _Unsupported for what it does not read (categorical splits)."""

    def __init__(self, estimator: Any) -> None:
        try:
            nodes = [tree.nodes for trees in estimator._predictors for tree in trees]
            self.outputs = int(estimator.n_trees_per_iteration_)
            self.baseline = np.asarray(estimator._baseline_prediction, dtype=float).ravel()
            self.loss = estimator._loss
        except AttributeError as exc:  # another scikit-learn's internals
            raise _Unsupported("HistGradientBoosting internals") from exc
        if any(tree["is_categorical"].any() for tree in nodes):
            raise _Unsupported("categorical splits")
        offsets = np.cumsum([0] + [len(tree) for tree in nodes[:-1]])
        flat = np.concatenate(nodes)
        shift = np.repeat(offsets, [len(tree) for tree in nodes])
        self.roots = offsets.astype(np.int64)
        self.feature = flat["feature_idx"].astype(np.int64)
        self.threshold = flat["num_threshold"].astype(float)
        self.missing_left = flat["missing_go_to_left"].astype(bool)
        self.left = flat["left"].astype(np.int64) + shift
        self.right = flat["right"].astype(np.int64) + shift
        self.leaf = flat["is_leaf"].astype(bool)
        self.value = flat["value"].astype(float)
        self.regression = not hasattr(estimator, "classes_")

    def raw(self, X: np.ndarray) -> np.ndarray:
        node = np.broadcast_to(self.roots, (len(X), len(self.roots))).copy()
        rows = np.arange(len(X))[:, None]
        while True:
            leaf = self.leaf[node]
            if leaf.all():
                break
            x = X[rows, self.feature[node]]
            left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            node = np.where(leaf, node, np.where(left, self.left[node], self.right[node]))
        values = self.value[node].reshape(len(X), -1, self.outputs)
        return self.baseline + values.sum(axis=1)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        raw = self.raw(X)
        if self.regression:
            return self.loss.link.inverse(raw.ravel())
        return self.loss.predict_proba(raw)


def _estimator(estimator: Any, regression: bool) -> Any:
    """A function of the preprocessed matrix giving what `predict` gives for the estimator."""
    inner = estimator.regressor_ if isinstance(estimator, TransformedTargetRegressor) else estimator
    try:
        hgb = (HistGradientBoostingRegressor, HistGradientBoostingClassifier)
        trees = _Trees(inner) if isinstance(inner, hgb) else None
    except _Unsupported:
        trees = None
    if trees is None:
        return lambda X: predict(estimator, X, regression)
    if inner is estimator:
        return trees
    inverse = estimator.transformer_.inverse_transform
    return lambda X: np.asarray(inverse(trees(X).reshape(-1, 1))).reshape(-1)


class RowPredictor:
    """A fitted pipeline (features → ColumnTransformer → estimator), or a Blend of them,
    predicting rows given as {column: value} without pandas: the same numbers as the pipeline.
    `supported` is False (and `pipeline` predicts) when a step is not one this project builds."""

    def __init__(self, model: Any, regression: bool) -> None:
        self.model, self.regression = model, regression
        try:
            members = model.estimators_ if isinstance(model, Blend) else [model]
            self.members = [self._read(member, regression) for member in members]
            self.supported = True
        except _Unsupported:
            self.members, self.supported = [], False

    @staticmethod
    def _read(pipeline: Any, regression: bool) -> dict[str, Any]:
        if not isinstance(pipeline, Pipeline):
            raise _Unsupported(type(pipeline).__name__)
        named = dict(pipeline.steps)
        if set(named) - {"features", "preprocess", "model"}:
            raise _Unsupported("pipeline steps")
        features = named.get("features")
        transform = named["preprocess"]
        if not isinstance(transform, ColumnTransformer) or transform.remainder != "drop":
            raise _Unsupported("preprocessing")
        branches = {name: (step, list(columns)) for name, step, columns in transform.transformers_}
        if set(branches) - {"numeric", "categorical", "remainder"}:
            raise _Unsupported("preprocessing branches")
        if transform.sparse_output_:
            raise _Unsupported("sparse output")
        numeric_step, numeric = branches.get("numeric", (None, []))
        categorical_step, categorical = branches.get("categorical", (None, []))
        return {
            "features": features,
            "numeric": numeric,
            "numbers": _numbers(numeric_step) if numeric and numeric_step != "drop" else [],
            "categorical": categorical,
            "categories": _categories(categorical_step)
            if categorical and categorical_step != "drop"
            else ([], [], 0),
            "estimator": _estimator(named["model"], regression),
        }

    @staticmethod
    def _matrix(member: dict[str, Any], rows: list[dict[str, Any]]) -> np.ndarray:
        features = member["features"]
        if features is not None:
            rows = [features.transform_row(row) for row in rows]
        numeric = np.array(
            [[np.nan if _missing(row[c]) else row[c] for c in member["numeric"]] for row in rows],
            dtype=float,
        ).reshape(len(rows), len(member["numeric"]))
        for what, parameters in member["numbers"]:
            if what == "impute":
                numeric = np.where(np.isnan(numeric), parameters, numeric)
            elif what == "call":
                numeric = parameters.transform(numeric)
            else:
                numeric = (numeric - parameters[0]) / parameters[1]
        fills, positions, width = member["categories"]
        onehot = np.zeros((len(rows), width))
        for index, row in enumerate(rows):
            for column, fill, position in zip(member["categorical"], fills, positions, strict=True):
                value = row[column]
                found = position.get(fill if _missing(value) else value)
                if found is not None:  # an unknown category: all zeros, as the encoder does
                    onehot[index, found] = 1.0
        return np.hstack([numeric, onehot])

    def predict(self, rows: list[dict[str, Any]]) -> np.ndarray:
        """Values (regression) or class probabilities, one row of output per row."""
        if not self.supported:
            raise _Unsupported("use the pipeline")
        found = [member["estimator"](self._matrix(member, rows)) for member in self.members]
        return np.mean(found, axis=0)
