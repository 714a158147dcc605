"""The `evaluate` step: cross-validated scores beside the baseline, the project's own
leaderboard of experiments, and out-of-fold diagnostics."""

from __future__ import annotations

import json

import pandas as pd

from . import metrics
from .model import NAMES
from .plumbing import plots
from .plumbing.paths import Paths
from .plumbing.readme import update_marked_block
from .plumbing.reporting import Evaluation
from .settings import Settings
from .train import CV_FILE, EXPERIMENTS

MARKERS = "osD^vP*X"


def _experiments(paths: Paths, metric: str) -> pd.DataFrame:
    """The experiments in `metric`, each with the data it ran on as one label."""
    table = pd.read_csv(paths.reports / EXPERIMENTS, dtype={"data_checksum": str})
    table = table[table["metric"] == metric].reset_index(drop=True)
    for column in ("data", "sample", "data_checksum"):
        if column not in table:  # a log written before the data was recorded
            table[column] = None
    table["sample"] = table["sample"].astype(str).str.lower() == "true"
    table["data_checksum"] = table["data_checksum"].fillna("")
    table["label"] = [
        f"{name} ({checksum[:6]})" if isinstance(name, str) else "data not recorded"
        for name, checksum in zip(table["data"], table["data_checksum"], strict=True)
    ]
    return table


def _same_data(table: pd.DataFrame, data: dict | None) -> pd.Series:
    if data is None:  # trained before runs recorded their data: compare with everything
        return pd.Series(True, index=table.index)
    checksum = data["checksum"].removeprefix("sha256:")[:12]
    return (table["data_checksum"] == checksum) & (table["sample"] == data["sample"])


def _experiments_figure(paths: Paths, metric: str, table: pd.DataFrame, same: pd.Series) -> None:
    """One marker per data set: sample runs and real runs are not one curve."""
    fig, ax = plots.plt.subplots(figsize=(6.4, 3.4))
    runs = table.index + 1
    for number, (label, group) in enumerate(table.groupby("label", sort=False)):
        current = bool(same[group.index].all())
        ax.errorbar(
            runs[group.index],
            group["cv_mean"],
            yerr=group["cv_std"],
            fmt=MARKERS[number % len(MARKERS)] + ("-" if current else ":"),
            capsize=3,
            alpha=1.0 if current else 0.45,
            label=f"{label}{' (sample)' if group['sample'].all() else ''}",
        )
    for run, model, value in zip(runs, table["model"], table["cv_mean"], strict=True):
        ax.annotate(model, (run, value), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xticks(list(runs))
    ax.set_xlabel("experiment (rows of reports/experiments.csv)")
    ax.set_ylabel(f"CV {metric}")
    ax.set_title("Cross-validated score per experiment, by data")
    ax.legend(fontsize=7, loc="best")
    plots.save(fig, paths.figures / "experiments.png")


def _name_the_competition(paths: Paths, config: Settings) -> None:
    """README and model card say what the config holds (task and metric can be changed)."""
    comp = config.competition
    url = f"https://www.kaggle.com/competitions/{comp.slug}"
    update_marked_block(
        paths.readme,
        f"An entry for the Kaggle competition\n[`{comp.slug}`]({url}): predict\n"
        f"`{comp.target}` ({comp.task}) for every row of `test.csv`, scored on **{comp.metric}**.",
        "competition",
    )
    update_marked_block(
        paths.model_card,
        f"Competition: `{comp.slug}` ({comp.task}, scored on {comp.metric}).",
        "competition",
    )


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
    experiments = _experiments(paths, metric)
    same = _same_data(experiments, cv.get("data"))
    _experiments_figure(paths, metric, experiments, same)
    oof = _oof_figure(paths, config, cv["classes"])
    _name_the_competition(paths, config)
    direction = "higher" if metrics.higher_is_better(metric) else "lower"
    best = experiments[same]["cv_mean"]
    best_value = best.max() if direction == "higher" else best.min()
    on = f"on this data ({cv['data']['name']})" if cv.get("data") else "in this metric"
    kind = cv.get("model", config.model.type)  # cv.json before `auto`: the config's
    served = f", {cv['served']}" if cv.get("served") else ""
    candidates = cv.get("candidates", {})
    chosen = (
        [
            f"`model.type: auto` chose {NAMES[kind]} by CV among "
            + ", ".join(f"{NAMES[k]} {v:.4f}" for k, v in candidates.items())
            + "."
        ]
        if len(candidates) > 1
        else []
    )
    return Evaluation(
        model_name=f"{NAMES[kind]}{served}",
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
            f"{len(best)} experiment(s) {on} so far: {best_value:.4f} "
            "(`reports/experiments.csv`).",
            *chosen,
            f"Submission and `make serve`: one model {cv.get('served', 'refit on all rows')}.",
        ],
        extra={
            "metric": metric,
            "fold_scores": cv["fold_scores"],
            "seed": config.seed,
            "chosen": kind,
            "candidates": candidates,
            "served": cv.get("served"),
            "submission": cv.get("submission"),
        },
    )
