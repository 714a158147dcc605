"""Test-set predictions as a Kaggle submission: written, validated against the competition's
sample_submission.csv, and sent with the Kaggle CLI; and new rows predicted for `serve`.

Both come from one model refit on all training rows after cross-validation
(models/model.joblib): a row of test.csv sent to `serve` gets the number that was submitted,
and a row costs one model, not one per fold. CV measured the procedure that made it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import kaggle_cli
from . import model as model_lib
from .data import Competition, load
from .plumbing.errors import DataError
from .plumbing.paths import Paths
from .plumbing.runs import git_state
from .settings import Settings
from .train import CV_FILE

PROBABILITY_METRICS = {"roc_auc", "log_loss"}


def _cv(paths: Paths) -> dict[str, Any]:
    return json.loads((paths.models / CV_FILE).read_text(encoding="utf-8"))


def build(config: Settings, paths: Paths, competition: Competition | None = None) -> pd.DataFrame:
    """id + prediction: labels (accuracy), probabilities (roc_auc, log_loss) or values."""
    comp = config.competition
    predictions_path = paths.models / "test_predictions.npy"
    if not predictions_path.is_file():
        raise FileNotFoundError(f"{predictions_path} not found: run `make train` first")
    prediction = np.load(predictions_path)
    competition = competition or load(paths, comp)
    frame = pd.DataFrame({comp.id: competition.test[comp.id]})
    if comp.task == "regression":
        frame[comp.target] = prediction
    elif comp.metric in PROBABILITY_METRICS and comp.task == "binary":
        frame[comp.target] = prediction[:, 1]
    elif comp.metric in PROBABILITY_METRICS:
        for index, label in enumerate(_cv(paths)["classes"]):
            frame[str(label)] = prediction[:, index]
    else:
        classes = competition.train[comp.target].sort_values().unique()
        frame[comp.target] = labels(prediction, classes, config)
    return frame


def labels(prediction: np.ndarray, classes: np.ndarray, config: Settings) -> np.ndarray:
    """Class probabilities → labels: the submission threshold on binary tasks, else the most
    probable class."""
    if config.competition.task == "binary":
        return classes[(prediction[:, 1] >= config.submission.threshold).astype(int)]
    return classes[prediction.argmax(axis=1)]


class RowError(DataError):
    """A row (of `serve`'s requests) that does not fit the training schema, and where."""

    def __init__(self, row: int, column: str, message: str) -> None:
        super().__init__(message)
        self.row, self.column = row, column


KINDS = {"number": (int, float), "boolean": (bool,), "text": (str,)}


def check_rows(rows: list[dict[str, Any]], schema: dict[str, str], id_column: str) -> None:
    """Every row holds every column of the schema (data.schema), each value of its type or
    null (unknown), and no other column but the id: else a RowError naming it."""
    for index, row in enumerate(rows):
        for column in row:
            if column not in schema and column != id_column:
                raise RowError(index, column, f"unknown column {column!r}: not a feature")
        for column, kind in schema.items():
            if column not in row:
                raise RowError(index, column, f"column {column!r} is missing (null if unknown)")
            value = row[column]
            wrong = kind == "number" and isinstance(value, bool)
            if value is not None and (wrong or not isinstance(value, KINDS[kind])):
                shown = json.dumps(value)[:40]
                raise RowError(index, column, f"column {column!r} takes a {kind}, not {shown}")


def rows_frame(rows: list[dict[str, Any]], schema: dict[str, str], id_column: str) -> pd.DataFrame:
    """Rows given as {column: value} → the training features (checked by check_rows)."""
    check_rows(rows, schema, id_column)
    frame = pd.DataFrame([[row[c] for c in schema] for row in rows], columns=list(schema))
    for column, kind in schema.items():
        values = frame[column]
        frame[column] = (
            pd.to_numeric(values) if kind == "number" else values.where(values.notna(), np.nan)
        )
    return frame


def load_served(paths: Paths, config: Settings) -> dict[str, Any]:
    """models/model.joblib (the refit model, its classes and column schema) with its
    RowPredictor under "rows": what `serve` loads once."""
    served = model_lib.load(paths.models / model_lib.MODEL_FILE)
    regression = config.competition.task == "regression"
    return {**served, "rows": model_lib.RowPredictor(served["model"], regression)}


def predict_rows(
    served: dict[str, Any], rows: list[dict[str, Any]], config: Settings
) -> list[dict[str, Any]]:
    """Rows given as {column: value} (checked by check_rows) predicted by the refit model:
    values (regression) or labels with every class's probability."""
    regression = config.competition.task == "regression"
    predictor = served["rows"]
    if predictor.supported:
        prediction = predictor.predict(rows)
    else:  # a pipeline changed beyond what RowPredictor reads: the pipeline itself
        features = rows_frame(rows, served["schema"], config.competition.id)
        prediction = model_lib.predict(served["model"], features, regression)
    if regression:
        return [{"prediction": float(value)} for value in prediction]
    classes = np.asarray(served["classes"])
    names = [str(label) for label in classes]
    return [
        {
            "prediction": label.item() if isinstance(label, np.generic) else label,
            "probabilities": {n: float(p) for n, p in zip(names, row, strict=True)},
        }
        for label, row in zip(labels(prediction, classes, config), prediction, strict=True)
    ]


def validate(
    frame: pd.DataFrame,
    sample: pd.DataFrame | None,
    config: Settings,
    labels: set | None = None,
) -> None:
    """What Kaggle would refuse or mis-score, found before it is sent. `labels`: the classes
    a label submission may hold (those of train.csv)."""
    comp = config.competition
    if sample is not None:
        if list(frame.columns) != list(sample.columns):
            raise DataError(
                f"submission columns {list(frame.columns)} differ from sample_submission.csv's "
                f"{list(sample.columns)}"
            )
        if len(frame) != len(sample):
            raise DataError(
                f"submission has {len(frame)} rows, sample_submission.csv {len(sample)}"
            )
        if set(frame[comp.id]) != set(sample[comp.id]):
            missing = sorted(set(sample[comp.id]) - set(frame[comp.id]))[:3]
            raise DataError(f"submission ids differ from sample_submission.csv (missing {missing})")
    values = frame.drop(columns=[comp.id])
    if values.isna().any().any():
        raise DataError("submission has empty predictions")
    if comp.metric in PROBABILITY_METRICS:
        numbers = values.to_numpy(dtype=float)
        if (numbers < 0).any() or (numbers > 1).any():
            raise DataError(f"{comp.metric} needs probabilities in [0, 1]")
    elif comp.task == "regression" and not pd.api.types.is_numeric_dtype(values[comp.target]):
        raise DataError(f"{comp.target} must be numeric for a regression task")
    elif comp.task != "regression" and labels is not None:
        unknown = sorted(set(values[comp.target]) - labels, key=str)[:3]
        if unknown:
            raise DataError(f"{comp.target} holds labels train.csv does not have: {unknown}")


def write(config: Settings, paths: Paths) -> Path:
    competition = load(paths, config.competition)
    frame = build(config, paths, competition)
    labels = set(competition.train[config.competition.target])
    validate(frame, competition.sample_submission, config, labels)
    cv = _cv(paths)
    folder = paths.root / "submissions"
    folder.mkdir(exist_ok=True)
    sample = "sample-" if trained_on_sample(paths) else ""  # never taken for a real entry
    path = folder / f"{sample}{time.strftime('%Y%m%d-%H%M%S')}-cv{cv['cv_mean']:.4f}.csv"
    frame.to_csv(path, index=False)
    return path


def trained_on_sample(paths: Paths) -> bool:
    data = _cv(paths).get("data")
    if data is None:  # trained before cv.json said which data: the data step's record
        meta = paths.processed / "meta.json"
        return meta.is_file() and bool(json.loads(meta.read_text(encoding="utf-8"))["sample"])
    return bool(data["sample"])


def submit(
    config: Settings, paths: Paths, allow_dirty: bool = False, allow_sample: bool = False
) -> str:
    """Validate, then `kaggle competitions submit` with the CV score and commit as message."""
    if trained_on_sample(paths) and not allow_sample:
        raise DataError(
            "the model was trained on the bundled sample: its predictions are not an entry",
            "run `make all` on the competition's data first, or send it anyway with "
            "`submit --allow-sample`",
        )
    state = git_state(paths.root)
    if state["dirty"] and not allow_dirty:
        raise DataError(
            "the working tree has uncommitted changes: the submission would not match a commit",
            "commit first, or pass --allow-dirty",
        )
    path = write(config, paths)
    cv = _cv(paths)
    commit = (state["commit"] or "no-commit")[:8]
    message = f"CV {cv['metric']} {cv['cv_mean']:.4f} ± {cv['cv_std']:.4f} | commit {commit}"
    slug = config.competition.slug
    kaggle_cli.submit(slug, path, message, timeout=max(60.0, config.data.timeout_seconds * 10))
    return message
