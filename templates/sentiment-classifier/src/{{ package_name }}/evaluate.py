"""The `evaluate` step: the task's metrics beside the baseline, figures, explanations, README."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: CI and servers have no display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    PrecisionRecallDisplay,
    RocCurveDisplay,
    accuracy_score,
    classification_report,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)

from . import model as model_lib
from .config import Config, Paths
from .data import load_meta, load_split
from .readme import update_readme

MODEL_NAMES = {
    "tfidf_logreg": "TF-IDF + logistic regression",
    "transformer": "fine-tuned transformer",
}


def compute_metrics(
    truth: list[str], predicted: list[str], probabilities: np.ndarray, classes: list[str]
) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1, ROC-AUC (binary: classes[1] is the positive class)."""
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth, predicted, labels=classes, average="macro", zero_division=0
    )
    metrics: dict[str, Any] = {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "precision_macro": round(float(precision), 4),
        "recall_macro": round(float(recall), 4),
        "f1_macro": round(float(f1), 4),
    }
    truth_array = np.asarray(truth)
    if len(classes) == 2:
        auc = roc_auc_score(truth_array == classes[1], probabilities[:, 1])
        metrics["roc_auc"] = round(float(auc), 4)
    elif len(set(truth)) == len(classes):
        auc = roc_auc_score(truth_array, probabilities, multi_class="ovr", labels=classes)
        metrics["roc_auc_ovr_macro"] = round(float(auc), 4)
    return metrics


def top_words(model: Any, classes: list[str], k: int) -> dict[str, list[str]]:
    """The n-grams that push hardest towards each class (linear models only)."""
    steps = getattr(model, "named_steps", {})
    if "tfidf" not in steps or "clf" not in steps:
        return {}
    names = np.asarray(steps["tfidf"].get_feature_names_out())
    coef = steps["clf"].coef_
    if coef.shape[0] == 1:  # binary: one weight vector, positive towards classes[1]
        order = np.argsort(coef[0])
        return {classes[1]: names[order[::-1][:k]].tolist(), classes[0]: names[order[:k]].tolist()}
    ranked = {label: np.argsort(row)[::-1][:k] for label, row in zip(classes, coef, strict=True)}
    return {label: names[order].tolist() for label, order in ranked.items()}


def worst_examples(
    frame: pd.DataFrame, predicted: list[str], confidence: np.ndarray, k: int
) -> pd.DataFrame:
    """Misclassified texts the model was most sure about: where to look for label noise."""
    wrong = frame.assign(predicted=predicted, probability=np.round(confidence, 4))
    wrong = wrong[wrong["label"] != wrong["predicted"]]
    return wrong.sort_values("probability", ascending=False).head(k)


def _plot_confusion(truth: list[str], predicted: list[str], classes: list[str], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ConfusionMatrixDisplay(
        confusion_matrix(truth, predicted, labels=classes), display_labels=classes
    ).plot(ax=ax, cmap="Blues", colorbar=False)
    ax.set_title("Confusion matrix (test set)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_curves(
    truth: list[str], probabilities: np.ndarray, classes: list[str], path: Path
) -> None:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    truth_array = np.asarray(truth)
    if len(classes) == 2:
        RocCurveDisplay.from_predictions(
            truth_array == classes[1],
            probabilities[:, 1],
            ax=ax,
            name=f"{classes[1]} vs {classes[0]}",
        )
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
        ax.set_title("ROC curve (test set)")
        ax.set_xlabel(f"false positive rate ({classes[0]} called {classes[1]})")
        ax.set_ylabel(f"true positive rate ({classes[1]} found)")
    else:
        for index, label in enumerate(classes):
            PrecisionRecallDisplay.from_predictions(
                truth_array == label, probabilities[:, index], ax=ax, name=label
            )
        ax.set_title("Precision-recall, one class vs rest")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def results_markdown(report: dict[str, Any]) -> str:
    """The README results block: model vs baseline, data, and the figures."""
    columns = [
        ("accuracy", "accuracy"),
        ("f1_macro", "macro F1"),
        ("precision_macro", "macro precision"),
        ("recall_macro", "macro recall"),
    ]
    auc_key = next((k for k in ("roc_auc", "roc_auc_ovr_macro") if k in report["model"]), None)
    if auc_key:
        columns.append((auc_key, "ROC-AUC" if auc_key == "roc_auc" else "ROC-AUC (one vs rest)"))
    header = "| model | " + " | ".join(title for _, title in columns) + " |"
    rule = "|---|" + "---:|" * len(columns)
    lines = [header, rule]
    for name, metrics in (
        (report["model_name"], report["model"]),
        ("majority-class baseline", report["baseline"]),
    ):
        cells = " | ".join(f"{metrics.get(key, float('nan')):.3f}" for key, _ in columns)
        lines.append(f"| {name} | {cells} |")
    data = report["data"]
    lines += [
        "",
        f"Data: {data.get('source', '?')}; {data.get('train_rows', '?')} training / "
        f"{report['test_rows']} test texts; classes: {', '.join(report['classes'])}. "
        f"Training took {report['train'].get('seconds', '?')} s.",
        "",
        "![Confusion matrix](reports/figures/confusion_matrix.png) "
        "![Curves](reports/figures/curves.png)",
    ]
    return "\n".join(lines)


def evaluate(config: Config, paths: Paths) -> dict[str, Any]:
    test = load_split(paths, "test")
    texts, truth = test["text"].tolist(), test["label"].tolist()
    model = model_lib.load(paths.models / model_lib.MODEL_FILE)
    baseline = model_lib.load(paths.models / model_lib.BASELINE_FILE)
    classes = [str(c) for c in model.classes_]
    probabilities = np.asarray(model.predict_proba(texts))
    predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    baseline_probabilities = np.asarray(baseline.predict_proba(texts))
    baseline_predicted = [str(p) for p in baseline.predict(texts)]

    paths.figures.mkdir(parents=True, exist_ok=True)
    _plot_confusion(truth, predicted, classes, paths.figures / "confusion_matrix.png")
    _plot_curves(truth, probabilities, classes, paths.figures / "curves.png")
    worst = worst_examples(
        test, predicted, probabilities.max(axis=1), config.evaluate.worst_examples
    )
    worst.to_csv(paths.reports / "worst_misclassified.csv", index=False)

    train_info_path = paths.models / "train_info.json"
    report = {
        "model_name": MODEL_NAMES.get(config.model.type, config.model.type),
        "model": compute_metrics(truth, predicted, probabilities, classes),
        "baseline": compute_metrics(truth, baseline_predicted, baseline_probabilities, classes),
        "per_class": classification_report(
            truth, predicted, labels=classes, output_dict=True, zero_division=0
        ),
        "top_words": top_words(model, classes, config.evaluate.top_words),
        "classes": classes,
        "test_rows": len(texts),
        "data": load_meta(paths),
        "train": json.loads(train_info_path.read_text()) if train_info_path.is_file() else {},
        "seed": config.seed,
    }
    paths.reports.mkdir(parents=True, exist_ok=True)
    (paths.reports / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    if not update_readme(paths.readme, results_markdown(report)):
        print("note: README.md has no results markers; table not written", file=sys.stderr)
    m, b = report["model"], report["baseline"]
    summary = f"accuracy {m['accuracy']:.3f} (baseline {b['accuracy']:.3f})"
    print(f"{summary}, macro F1 {m['f1_macro']:.3f}", file=sys.stderr)
    return report
