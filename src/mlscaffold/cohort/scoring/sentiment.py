"""sentiment-classifier: a stratified quarter of reviews.csv held out, classified by the
project's saved model, scored as the kind's evaluate step scores its test split."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from mlscaffold.cohort.scoring import base

SAMPLE_FILE = "reviews.csv"  # the kind's sample: columns text, label, whatever the dataset
INPUT_FILE = "texts.csv"  # id, text
NAMES = {  # the kind's reports/metrics.json names
    "accuracy": "accuracy",
    "precision": "precision_macro",
    "recall": "recall_macro",
    "f1": "f1_macro",
    "roc_auc": "roc_auc",
}

DRIVER_BODY = '''
def predict(root, inputs, paths):
    """Class probabilities from the saved model, as the project's `predict` computes them."""
    import csv

    with (inputs / "texts.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    model = project("predict").load_model(paths)
    probabilities = model.predict_proba([row["text"] for row in rows])
    classes = [str(c) for c in model.classes_]
    rows_out = [[float(p) for p in row] for row in probabilities]
    return {
        "classes": classes,
        "probabilities": {row["id"]: p for row, p in zip(rows, rows_out)},
    }
'''


class SentimentAdapter:
    """The sandbox trains on three quarters of the reviews (its own pipeline splits those
    again for its report) and classifies the held-out texts, sent without their labels."""

    kind = "sentiment-classifier"

    def required(self, reference: Path, answers: dict[str, Any]) -> list[base.Need]:
        return [base.file_need(SAMPLE_FILE)]  # whichever dataset: the sample is reviews.csv

    def prepare(
        self, source: Path, sample: Path, inputs: Path, answers: dict[str, Any], seed: int = 0
    ) -> base.Holdout:
        path = source / SAMPLE_FILE
        header, rows = base.read_csv(path)
        if not {"text", "label"} <= set(header):
            raise base.PrepareError(f"{path} needs columns text and label, has {header}")
        # as the kind's data.validate: a text and a label, the label stripped
        rows = [row for row in rows if (row["text"] or "").strip() and (row["label"] or "").strip()]
        truth = [base.canonical(row["label"]) for row in rows]
        held = base.stratified(truth, seed)
        if not held:
            raise base.PrepareError(f"{path} has too few rows to hold any out")
        base.write_csv(
            sample / SAMPLE_FILE, header, [r for i, r in enumerate(rows) if i not in held]
        )
        order = base.shuffled(held, seed)
        inputs.mkdir(parents=True, exist_ok=True)
        with (inputs / INPUT_FILE).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "text"])
            writer.writerows([str(number), rows[i]["text"]] for number, i in enumerate(order))
        labels = {str(number): truth[i] for number, i in enumerate(order)}
        kept = [truth[i] for i in range(len(rows)) if i not in held]
        classes = sorted(set(kept))  # as the model's classes_: the project reads labels as text
        counts = [kept.count(name) for name in classes]
        return base.Holdout(labels, {"classes": classes, "counts": counts})

    def driver(self, package: str) -> str:
        return base.driver_source(self.kind, package, DRIVER_BODY)

    def score(self, predictions: Any, holdout: base.Holdout) -> dict[str, Any]:
        return base.classifier_scores(predictions, holdout, NAMES)
