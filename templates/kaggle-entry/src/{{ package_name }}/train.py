"""The `train` step: K-fold cross-validation in the competition's metric, out-of-fold
predictions kept, then one model refit on all training rows: its test predictions are the
submission and `serve` predicts with it (the same numbers for the same row); every experiment
logged. The fold models only measure how well that procedure does.

`model.type: auto` cross-validates every candidate of model.CANDIDATES on the same folds and
keeps the best, so the default is never worse than a plain candidate it could have been."""

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


def _blend(config: Settings, members: list[dict[str, Any]], y: pd.Series) -> dict[str, Any]:
    """The blend's CV result from its members' (same folds): no refitting."""
    oof = np.mean([m["oof"] for m in members], axis=0)
    test = np.mean([m["test"] for m in members], axis=0)
    scores = []
    for _, valid_index in splitter(config).split(np.zeros(len(y)), y):
        scores.append(
            metrics.score(
                config.competition.metric,
                y.iloc[valid_index],
                oof[valid_index],
                members[0]["classes"],
            )
        )
    fitted = []
    for models in zip(*(m["models"] for m in members), strict=True):
        blend = model_lib.Blend(list(models))
        blend.estimators_ = list(models)
        fitted.append(blend)
    return {
        "scores": scores,
        "mean": float(np.mean(scores)),
        "std": float(np.std(scores)),
        "oof": oof,
        "test": test,
        "classes": members[0]["classes"],
        "models": fitted,
    }


def choose(
    config: Settings, X: pd.DataFrame, y: pd.Series, test: pd.DataFrame
) -> tuple[str, dict[str, Any], dict[str, float]]:
    """(model kind, its CV result, every candidate's CV mean): the configured model, or with
    `model.type: auto` the best candidate on the same folds (the first of equals)."""
    if config.model.type != "auto":
        kind = config.model.type
        result = cross_validate(config, model_lib.build(config, X, kind), X, y, test)
        return kind, result, {kind: result["mean"]}
    regression = config.competition.task == "regression"
    results: dict[str, dict[str, Any]] = {}
    for kind in model_lib.CANDIDATES:
        if kind == "blend":
            if not regression:  # probabilities of a blend: not offered for classification
                continue
            results[kind] = _blend(config, [results[m] for m in model_lib.BLENDED], y)
        else:
            _log(f"  candidate {kind}")
            results[kind] = cross_validate(config, model_lib.build(config, X, kind), X, y, test)
    means = {kind: result["mean"] for kind, result in results.items()}
    higher = metrics.higher_is_better(config.competition.metric)
    best = (max if higher else min)(means, key=means.__getitem__)
    shown = ", ".join(f"{kind} {mean:.4f}" for kind, mean in means.items())
    _log(f"  chosen by CV: {best} ({shown})")
    return best, results[best], means


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
    kind = result["kind"]
    model_params = as_dict(config.model)
    params = {member: model_params[member] for member in model_lib.PARAMETERS[kind]}
    row = {
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "commit": (git_state(paths.root)["commit"] or "")[:8],
        "config_hash": hashlib.sha256(resolved.encode()).hexdigest()[:10],
        "model": kind if config.model.type != "auto" else f"auto: {kind}",
        "metric": config.competition.metric,
        "cv_mean": round(result["mean"], 5),
        "cv_std": round(result["std"], 5),
        "data": data["name"],
        "sample": data["sample"],
        "data_checksum": data["checksum"].removeprefix("sha256:")[:12],
        "params": json.dumps(params, sort_keys=True),
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


def served_as(rows: int, folds: int) -> str:
    """What `serve` predicts with, in words (shown at /model)."""
    return f"refit on all {rows} rows; the {folds} CV folds used for evaluation only"


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
    kind, result, candidates = choose(config, X, y, test)
    result["kind"] = kind
    base = cross_validate(config, model_lib.baseline(config), X, y, test)
    model_lib.save(
        {"models": result["models"], "classes": result["classes"], "schema": schema(X)},
        paths.models / model_lib.FOLDS_FILE,
    )
    # serving predicts one row at a time: one model refit on every training row, not the
    # fold models in turn (5x the work); the folds only measure how well such a model does
    _log(f"refit {kind} on all {len(X)} rows (the model `serve` predicts with)")
    refit = model_lib.build(config, X, kind).fit(X, y)
    regression = comp.task == "regression"
    served = served_as(len(X), config.cv.folds)
    model_lib.save(
        {"model": refit, "kind": kind, "classes": result["classes"], "schema": schema(X),
         "rows": len(X), "served": served},
        paths.models / model_lib.MODEL_FILE,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    oof = pd.DataFrame({comp.id: competition.train[comp.id], "truth": y})
    columns = [f"p_{c}" for c in result["classes"]] if len(result["classes"]) else ["prediction"]
    oof[columns] = np.asarray(result["oof"]).reshape(len(y), -1)
    paths.reports.mkdir(parents=True, exist_ok=True)
    oof.to_csv(paths.reports / "oof_predictions.csv", index=False)
    # the submission: the refit model's, so a row of test.csv sent to `serve` gets the number
    # that was submitted (the fold models' mean would differ, and cost 5 models a row)
    np.save(paths.models / "test_predictions.npy", model_lib.predict(refit, test, regression))
    summary = {
        "metric": comp.metric,
        "model": kind,  # model.type, or what `auto` chose
        "candidates": {name: round(mean, 5) for name, mean in candidates.items()},
        "served": served,
        "submission": "the refit model's test predictions (what serve answers for them)",
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
