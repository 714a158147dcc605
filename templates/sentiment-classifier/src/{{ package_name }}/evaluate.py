"""The `evaluate` step: the task's metrics beside the baseline, figures, explanations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    PrecisionRecallDisplay,
    RocCurveDisplay,
    accuracy_score,
    classification_report,
    precision_recall_fscore_support,
    roc_auc_score,
)

from . import model as model_lib
from .data import load_split
from .plumbing import plots
from .plumbing.paths import Paths
from .plumbing.reporting import Evaluation
from .settings import Settings

MODEL_NAMES = {
    "nbsvm": "NB-weighted n-grams + linear SVM (NBSVM)",
    "nbsvm-logreg": "NB-weighted n-grams + logistic regression",
    "tfidf_logreg": "TF-IDF + logistic regression",
    "transformer": "fine-tuned transformer",
}
BASELINE_NAME = "majority-class baseline"


def model_key(config: Settings) -> str:
    if config.model.type == "nbsvm" and config.model.nbsvm.classifier == "logreg":
        return "nbsvm-logreg"
    return config.model.type


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
    if "features" not in steps or "clf" not in steps:
        return {}
    names = np.asarray(steps["features"].get_feature_names_out())
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


def _plot_curves(
    truth: list[str], probabilities: np.ndarray, classes: list[str], path: Path
) -> None:
    fig, ax = plots.plt.subplots(figsize=(4.5, 4))
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
    plots.save(fig, path)


def evaluate(config: Settings, paths: Paths) -> Evaluation:
    test = load_split(paths, "test")
    texts, truth = test["text"].tolist(), test["label"].tolist()
    model = model_lib.load(paths.models / model_lib.MODEL_FILE)
    baseline = model_lib.load(paths.models / model_lib.BASELINE_FILE)
    classes = [str(c) for c in model.classes_]
    probabilities = np.asarray(model.predict_proba(texts))
    predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    baseline_probabilities = np.asarray(baseline.predict_proba(texts))
    baseline_predicted = [str(p) for p in baseline.predict(texts)]

    plots.confusion_matrix(truth, predicted, classes, paths.figures / "confusion_matrix.png")
    curves = "roc_curve.png" if len(classes) == 2 else "precision_recall.png"
    _plot_curves(truth, probabilities, classes, paths.figures / curves)
    paths.reports.mkdir(parents=True, exist_ok=True)
    worst = worst_examples(
        test, predicted, probabilities.max(axis=1), config.evaluate.worst_examples
    )
    worst.to_csv(paths.reports / "worst_misclassified.csv", index=False)

    model_metrics = compute_metrics(truth, predicted, probabilities, classes)
    columns = [
        ("accuracy", "accuracy"),
        ("f1_macro", "macro F1"),
        ("precision_macro", "macro precision"),
        ("recall_macro", "macro recall"),
    ]
    if "roc_auc" in model_metrics:
        columns.append(("roc_auc", "ROC-AUC"))
    elif "roc_auc_ovr_macro" in model_metrics:
        columns.append(("roc_auc_ovr_macro", "ROC-AUC (one vs rest)"))
    return Evaluation(
        model_name=MODEL_NAMES[model_key(config)],
        model=model_metrics,
        baseline_name=BASELINE_NAME,
        baseline=compute_metrics(truth, baseline_predicted, baseline_probabilities, classes),
        columns=columns,
        figures=[
            ("Confusion matrix", "reports/figures/confusion_matrix.png"),
            ("ROC curve" if len(classes) == 2 else "Precision-recall", f"reports/figures/{curves}"),
        ],
        notes=[
            f"{len(texts)} test texts; classes: {', '.join(classes)}. The n-grams that weigh "
            "most per class are in `reports/metrics.json` (`top_words`); the most confident "
            "mistakes in `reports/worst_misclassified.csv`."
        ],
        extra={
            "classes": classes,
            "test_rows": len(texts),
            "per_class": classification_report(
                truth, predicted, labels=classes, output_dict=True, zero_division=0
            ),
            "top_words": top_words(model, classes, config.evaluate.top_words),
            "seed": config.seed,
        },
    )
