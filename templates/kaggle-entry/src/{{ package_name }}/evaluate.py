"""The `evaluate` step: cross-validated scores beside the baseline, the project's own
leaderboard of experiments, and out-of-fold diagnostics."""

from __future__ import annotations

import json

import pandas as pd

from . import metrics, plots
from .model import NAMES
from .paths import Paths
from .reporting import Evaluation
from .settings import Settings
from .train import CV_FILE, EXPERIMENTS


def _experiments_figure(paths: Paths, metric: str) -> None:
    table = pd.read_csv(paths.reports / EXPERIMENTS)
    table = table[table["metric"] == metric].reset_index(drop=True)
    fig, ax = plots.plt.subplots(figsize=(6, 3.2))
    runs = table.index + 1
    ax.errorbar(runs, table["cv_mean"], yerr=table["cv_std"], fmt="o-", capsize=3)
    for run, model, value in zip(runs, table["model"], table["cv_mean"], strict=True):
        ax.annotate(model, (run, value), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xticks(list(runs))
    ax.set_xlabel("experiment (rows of reports/experiments.csv)")
    ax.set_ylabel(f"CV {metric}")
    ax.set_title("Cross-validated score per experiment")
    plots.save(fig, paths.figures / "experiments.png")


def _oof_figure(paths: Paths, config: Settings, classes: list[str]) -> str:
    oof = pd.read_csv(paths.reports / "oof_predictions.csv")
    if config.competition.task == "regression":
        fig, ax = plots.plt.subplots(figsize=(4.5, 4))
        ax.scatter(oof["truth"], oof["prediction"], s=8, alpha=0.5)
        low, high = oof["truth"].min(), oof["truth"].max()
        ax.plot([low, high], [low, high], linestyle="--", color="grey")
        ax.set_xlabel("actual")
        ax.set_ylabel("predicted (out of fold)")
        ax.set_title("Out-of-fold predictions")
        plots.save(fig, paths.figures / "oof.png")
        return "oof.png"
    probabilities = oof[[f"p_{c}" for c in classes]].to_numpy()
    predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    truth = oof["truth"].astype(str).tolist()
    plots.confusion_matrix(
        truth, predicted, classes, paths.figures / "oof.png", "Confusion matrix (out of fold)"
    )
    return "oof.png"


def evaluate(config: Settings, paths: Paths) -> Evaluation:
    cv_path = paths.models / CV_FILE
    if not cv_path.is_file():
        raise FileNotFoundError(f"{cv_path} not found: run `make train` first")
    cv = json.loads(cv_path.read_text(encoding="utf-8"))
    metric = cv["metric"]
    _experiments_figure(paths, metric)
    oof = _oof_figure(paths, config, cv["classes"])
    direction = "higher" if metrics.higher_is_better(metric) else "lower"
    experiments = pd.read_csv(paths.reports / EXPERIMENTS)
    best = experiments[experiments["metric"] == metric]["cv_mean"]
    best_value = best.max() if direction == "higher" else best.min()
    return Evaluation(
        model_name=NAMES[config.model.type],
        model={"cv_mean": cv["cv_mean"], "cv_std": cv["cv_std"], metric: cv["cv_mean"]},
        baseline_name="mean prediction"
        if config.competition.task == "regression"
        else "majority class",
        baseline={"cv_mean": cv["baseline_cv_mean"], "cv_std": cv["baseline_cv_std"]},
        columns=[("cv_mean", f"CV {metric} (mean)"), ("cv_std", "± std")],
        figures=[
            ("CV per experiment", "reports/figures/experiments.png"),
            ("Out-of-fold", f"reports/figures/{oof}"),
        ],
        notes=[
            f"{config.cv.folds}-fold cross-validation on train.csv ({direction} is better); "
            f"folds: {', '.join(f'{s:.4f}' for s in cv['fold_scores'])}. Best of "
            f"{len(best)} experiment(s) so far: {best_value:.4f} (`reports/experiments.csv`)."
        ],
        extra={"metric": metric, "fold_scores": cv["fold_scores"], "seed": config.seed},
    )
