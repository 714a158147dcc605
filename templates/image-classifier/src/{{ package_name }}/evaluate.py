"""Test-set metrics beside a trivial baseline, a per-class table and the figures.

Metrics: accuracy, macro precision / recall / F1, top-k accuracy (when there are more
classes than k). Baseline: always the most frequent training class (its top-k: the k most
frequent classes). Figures: confusion matrix, learning curves, the most confidently wrong
test images, and training images of each class.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from . import distributed, figures, model
from .images import batch_loader, load_splits, raw_image
from .plumbing import datameta, plots
from .plumbing.errors import DataError
from .plumbing.paths import Paths
from .plumbing.reporting import Evaluation
from .settings import Settings
from .train import HISTORY

NAMES = {"cnn": "small CNN", "resnet18": "ResNet-18"}


def probabilities(
    network: torch.nn.Module, dataset: Dataset, batch_size: int, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (N, classes) and true labels for a dataset, in its order."""
    network = network.to(device).eval()
    chunks, labels = [], []
    with torch.inference_mode():
        for images, truth in batch_loader(dataset, batch_size):
            chunks.append(torch.softmax(network(images.to(device)), dim=1).float().cpu().numpy())
            labels.append(truth.numpy())
    return np.concatenate(chunks), np.concatenate(labels)


def scores(truth: np.ndarray, probs: np.ndarray, top_k: int) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    predicted = probs.argmax(axis=1)
    labels = list(range(probs.shape[1]))
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth, predicted, labels=labels, average="macro", zero_division=0
    )
    result = {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_precision": float(precision),
        "macro_recall": float(recall),
        "macro_f1": float(f1),
    }
    if probs.shape[1] > top_k:
        best = np.argsort(-probs, axis=1, kind="stable")[:, :top_k]
        result[f"top{top_k}_accuracy"] = float((best == truth[:, None]).any(axis=1).mean())
    return result


def per_class(truth: np.ndarray, probs: np.ndarray, classes: list[str]) -> list[dict[str, Any]]:
    from sklearn.metrics import precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        truth, probs.argmax(axis=1), labels=list(range(len(classes))), zero_division=0
    )
    return [
        {
            "class": name,
            "precision": float(p),
            "recall": float(r),
            "f1": float(f),
            "support": int(n),
        }
        for name, p, r, f, n in zip(classes, precision, recall, f1, support, strict=True)
    ]


def majority_probabilities(train_labels: np.ndarray, classes: int, rows: int) -> np.ndarray:
    """The trivial baseline: class frequencies of the training split, for every image."""
    counts = np.bincount(train_labels, minlength=classes).astype(float)
    counts[counts.argmax()] += 1e-6  # the most frequent class wins ties, deterministically
    return np.tile(counts / counts.sum(), (rows, 1))


def confident_mistakes(truth: np.ndarray, probs: np.ndarray, count: int) -> list[int]:
    wrong = np.flatnonzero(probs.argmax(axis=1) != truth)
    confidence = probs[wrong].max(axis=1)
    return wrong[np.argsort(-confidence, kind="stable")][:count].tolist()


def examples_per_class(labels: np.ndarray, classes: int, each: int) -> list[int]:
    return [int(i) for c in range(classes) for i in np.flatnonzero(labels == c)[:each]]


def _labels(dataset: Dataset) -> np.ndarray:
    return np.asarray(dataset.labels)  # type: ignore[attr-defined]


def draw(
    paths: Paths,
    sets: dict[str, Dataset],
    classes: list[str],
    truth: np.ndarray,
    probs: np.ndarray,
) -> list[tuple[str, str]]:
    """Every figure of the evaluation: (title, path from the project root)."""
    out, names, predicted = paths.figures, np.array(classes), probs.argmax(axis=1)
    drawn = [
        (
            "Confusion matrix",
            plots.confusion_matrix(
                names[truth], names[predicted], classes, out / "confusion_matrix.png"
            ),
        )
    ]
    history_file = paths.models / HISTORY
    if history_file.is_file():
        history = json.loads(history_file.read_text(encoding="utf-8"))
        curves = figures.learning_curves(history, out / "learning_curves.png")
        drawn.append(("Learning curves", curves))
    wrong = confident_mistakes(truth, probs, 18)
    if wrong:
        captions = [
            f"true {classes[truth[i]]}\npred {classes[predicted[i]]} {probs[i].max():.2f}"
            for i in wrong
        ]
        grid = figures.image_grid(
            [raw_image(sets["test"], i) for i in wrong],
            captions,
            out / "confident_mistakes.png",
            "Most confidently wrong test images",
        )
        drawn.append(("Most confidently wrong", grid))
    train_labels = _labels(sets["train"])
    chosen = examples_per_class(train_labels, len(classes), 5)
    grid = figures.image_grid(
        [raw_image(sets["train"], i) for i in chosen],
        [classes[train_labels[i]] for i in chosen],
        out / "examples.png",
        "Training images, by class",
        columns=5,
    )
    drawn.append(("Training images per class", grid))
    return [(title, path.relative_to(paths.root).as_posix()) for title, path in drawn]


def class_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["", "| class | precision | recall | F1 | test images |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {row['class']} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} "
        f"| {row['support']} |"
        for row in rows
    ]
    return lines


def evaluate(config: Settings, paths: Paths) -> Evaluation:
    meta = datameta.read(paths)
    network, saved = model.load(paths.models / model.MODEL_FILE)
    classes, sets = load_splits(config, meta, paths)
    if list(saved["classes"]) != classes:
        raise DataError(
            "the saved model was trained on other classes than the prepared data",
            "retrain it: make train",
        )
    device = distributed.pick_device(config.train.device)
    probs, truth = probabilities(network, sets["test"], config.evaluate.batch_size, device)
    k = config.evaluate.top_k
    baseline_probs = majority_probabilities(_labels(sets["train"]), len(classes), len(truth))
    table = per_class(truth, probs, classes)
    columns = [
        ("accuracy", "accuracy"),
        ("macro_precision", "macro precision"),
        ("macro_recall", "macro recall"),
        ("macro_f1", "macro F1"),
    ]
    if len(classes) > k:
        columns.append((f"top{k}_accuracy", f"top-{k} accuracy"))
    return Evaluation(
        model_name=NAMES[saved["arch"]["name"]],
        model=scores(truth, probs, k),
        baseline_name="most frequent class",
        baseline=scores(truth, baseline_probs, k),
        columns=columns,
        figures=draw(paths, sets, classes, truth, probs),
        notes=[f"Test set: {len(truth)} images, {len(classes)} classes.", *class_table(table)],
        extra={"per_class": table, "classes": classes, "test_images": int(len(truth))},
    )
