"""The competition's metric, computed the way Kaggle does, and what a prediction must be."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, log_loss, mean_absolute_error, roc_auc_score

HIGHER_IS_BETTER = {"accuracy": True, "roc_auc": True}  # every other metric: lower is better


def higher_is_better(metric: str) -> bool:
    return HIGHER_IS_BETTER.get(metric, False)


def score(metric: str, truth: np.ndarray, prediction: np.ndarray, classes: np.ndarray) -> float:
    """`prediction`: class probabilities (n x classes) for classification, values otherwise."""
    truth = np.asarray(truth)
    if metric == "accuracy":
        return float(accuracy_score(truth, classes[np.argmax(prediction, axis=1)]))
    if metric == "roc_auc":
        return float(roc_auc_score(truth == classes[1], prediction[:, 1]))
    if metric == "log_loss":
        return float(log_loss(truth, np.clip(prediction, 1e-15, 1), labels=classes))
    values = np.asarray(prediction, dtype=float)
    if metric == "rmse":
        return float(np.sqrt(np.mean((values - truth.astype(float)) ** 2)))
    if metric == "rmse_log":  # House Prices: RMSE between the logs (log1p: zero-safe)
        logs = np.log1p(np.clip(values, 0, None)) - np.log1p(truth.astype(float))
        return float(np.sqrt(np.mean(logs**2)))
    if metric == "mae":
        return float(mean_absolute_error(truth.astype(float), values))
    raise ValueError(f"unknown metric {metric!r}")
