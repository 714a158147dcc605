"""The `train` step: K-fold cross-validation in the competition's metric, out-of-fold
predictions kept, test predictions averaged over the fold models, every experiment logged."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold

from . import metrics
from . import model as model_lib
from .data import load, schema
from .plumbing.config import as_dict
from .plumbing.datameta import read as read_meta
from .plumbing.errors import ConfigError
from .plumbing.paths import Paths
from .plumbing.runs import git_state
from .settings import Settings

CV_FILE = "cv.json"
EXPERIMENTS = "experiments.csv"
EXPERIMENT_FIELDS = [
    "time", "commit", "config_hash", "model", "metric", "cv_mean", "cv_std",
    "data", "sample", "data_checksum", "params",
]  # fmt: skip


def data_identity(paths: Paths) -> dict[str, Any]:
    """Which data a run used: scores compare only between runs on the same data."""
    meta = read_meta(paths)
    return {"name": meta.name, "sample": meta.sample, "checksum": meta.checksum}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def splitter(config: Settings) -> Any:
    kind = KFold if config.competition.task == "regression" else StratifiedKFold
    return kind(n_splits=config.cv.folds, shuffle=True, random_state=config.seed)


def cross_validate(
    config: Settings, estimator: Any, X: pd.DataFrame, y: pd.Series, test: pd.DataFrame
) -> dict[str, Any]:
    """Fold scores, out-of-fold predictions, test predictions averaged over the folds."""
    regression = config.competition.task == "regression"
    classes = np.array(sorted(y.unique())) if not regression else np.array([])
    oof = np.zeros(len(y)) if regression else np.zeros((len(y), len(classes)))
    test_prediction = np.zeros(len(test)) if regression else np.zeros((len(test), len(classes)))
    scores, fitted = [], []
    for train_index, valid_index in splitter(config).split(X, y):
        fold = clone(estimator).fit(X.iloc[train_index], y.iloc[train_index])
        oof[valid_index] = model_lib.predict(fold, X.iloc[valid_index], regression)
        metric = config.competition.metric
        scores.append(metrics.score(metric, y.iloc[valid_index], oof[valid_index], classes))
        test_prediction += model_lib.predict(fold, test, regression) / config.cv.folds
        fitted.append(fold)
    return {
        "scores": scores,
        "mean": float(np.mean(scores)),
        "std": float(np.std(scores)),
        "oof": oof,
        "test": test_prediction,
        "classes": classes,
        "models": fitted,
    }


def _search(config: Settings, X: pd.DataFrame, y: pd.Series, test: pd.DataFrame) -> None:
    """Optuna on the gradient-boosting parameters, time-boxed; the best go into `config`."""
    try:
        import optuna
    except ImportError as exc:
        raise ConfigError(
            "search.enabled is true but optuna is not installed",
            'pip install -e ".[search]", or set search.enabled: false',
        ) from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    higher = metrics.higher_is_better(config.competition.metric)

    def objective(trial: Any) -> float:
        trial_config = config.model_copy(deep=True)
        gb = trial_config.model.hist_gb
        gb.learning_rate = trial.suggest_float("learning_rate", 0.01, 0.3, log=True)
        gb.max_iter = trial.suggest_int("max_iter", 50, 500, log=True)
        gb.max_depth = trial.suggest_int("max_depth", 2, 8)
        gb.min_samples_leaf = trial.suggest_int("min_samples_leaf", 5, 60)
        gb.l2_regularization = trial.suggest_float("l2_regularization", 1e-3, 10, log=True)
        estimator = model_lib.build(trial_config, X, "hist_gb")
        return cross_validate(trial_config, estimator, X, y, test.iloc[:1])["mean"]

    study = optuna.create_study(
        direction="maximize" if higher else "minimize",
        sampler=optuna.samplers.TPESampler(seed=config.seed),
    )
    study.optimize(
        objective, n_trials=config.search.n_trials, timeout=config.search.timeout_seconds
    )
    for key, value in study.best_params.items():
        setattr(config.model.hist_gb, key, value)
    _log(f"search: {len(study.trials)} trials, best CV {study.best_value:.4f}: {study.best_params}")


def _append_experiment(
    paths: Paths, config: Settings, result: dict[str, Any], data: dict[str, Any]
) -> None:
    resolved = json.dumps(as_dict(config), sort_keys=True)
    row = {
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "commit": (git_state(paths.root)["commit"] or "")[:8],
        "config_hash": hashlib.sha256(resolved.encode()).hexdigest()[:10],
        "model": config.model.type,
        "metric": config.competition.metric,
        "cv_mean": round(result["mean"], 5),
        "cv_std": round(result["std"], 5),
        "data": data["name"],
        "sample": data["sample"],
        "data_checksum": data["checksum"].removeprefix("sha256:")[:12],
        "params": json.dumps(as_dict(config.model)[config.model.type], sort_keys=True),
    }
    path = paths.reports / EXPERIMENTS
    paths.reports.mkdir(parents=True, exist_ok=True)
    rows = []
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != EXPERIMENT_FIELDS:  # a log from before the data columns
                rows = list(reader)
    if rows or not path.is_file():  # (re)write the header; old rows get empty new columns
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(
                handle, fieldnames=EXPERIMENT_FIELDS, restval="", extrasaction="ignore"
            )
            writer.writeheader()
            writer.writerows(rows)
    with path.open("a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, fieldnames=EXPERIMENT_FIELDS).writerow(row)


def train(config: Settings, paths: Paths) -> dict[str, Any]:
    comp = config.competition
    competition = load(paths, comp)
    data = data_identity(paths)
    X = competition.train.drop(columns=[comp.target, comp.id])
    y = competition.train[comp.target]
    test = competition.test.drop(columns=[comp.id])
    if config.search.enabled:
        _search(config, X, y, test)
    started = time.perf_counter()
    _log(f"{config.cv.folds}-fold CV of {config.model.type} on {len(X)} rows ({comp.metric})")
    result = cross_validate(config, model_lib.build(config, X), X, y, test)
    base = cross_validate(config, model_lib.baseline(config), X, y, test)
    seconds = time.perf_counter() - started
    model_lib.save(
        {"models": result["models"], "classes": result["classes"], "schema": schema(X)},
        paths.models / model_lib.FOLDS_FILE,
    )
    oof = pd.DataFrame({comp.id: competition.train[comp.id], "truth": y})
    columns = [f"p_{c}" for c in result["classes"]] if len(result["classes"]) else ["prediction"]
    oof[columns] = np.asarray(result["oof"]).reshape(len(y), -1)
    paths.reports.mkdir(parents=True, exist_ok=True)
    oof.to_csv(paths.reports / "oof_predictions.csv", index=False)
    np.save(paths.models / "test_predictions.npy", result["test"])
    summary = {
        "metric": comp.metric,
        "cv_mean": round(result["mean"], 5),
        "cv_std": round(result["std"], 5),
        "validation": round(result["mean"], 5),  # what `runs` ranks by
        "fold_scores": [round(s, 5) for s in result["scores"]],
        "baseline_cv_mean": round(base["mean"], 5),
        "baseline_cv_std": round(base["std"], 5),
        "classes": [str(c) for c in result["classes"]],
        "seconds": round(seconds, 2),
        "data": data,
    }
    (paths.models / CV_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _append_experiment(paths, config, result, data)
    _log(
        f"CV {comp.metric}: {result['mean']:.4f} ± {result['std']:.4f} "
        f"(baseline {base['mean']:.4f}) in {seconds:.1f} s"
    )
    return summary
