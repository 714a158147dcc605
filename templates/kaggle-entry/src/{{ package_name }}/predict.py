"""Test-set predictions as a Kaggle submission: written, validated against the competition's
sample_submission.csv, and sent with the Kaggle CLI."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import kaggle_cli
from .data import load
from .errors import DataError
from .paths import Paths
from .runs import git_state
from .settings import Settings
from .train import CV_FILE

PROBABILITY_METRICS = {"roc_auc", "log_loss"}


def build(config: Settings, paths: Paths) -> pd.DataFrame:
    """id + prediction: labels (accuracy), probabilities (roc_auc, log_loss) or values."""
    comp = config.competition
    predictions_path = paths.models / "test_predictions.npy"
    if not predictions_path.is_file():
        raise FileNotFoundError(f"{predictions_path} not found: run `make train` first")
    prediction = np.load(predictions_path)
    cv = json.loads((paths.models / CV_FILE).read_text(encoding="utf-8"))
    test = load(paths, comp).test
    frame = pd.DataFrame({comp.id: test[comp.id]})
    if comp.task == "regression":
        frame[comp.target] = prediction
    elif comp.metric in PROBABILITY_METRICS and comp.task == "binary":
        frame[comp.target] = prediction[:, 1]
    elif comp.metric in PROBABILITY_METRICS:
        for index, label in enumerate(cv["classes"]):
            frame[str(label)] = prediction[:, index]
    else:
        classes = pd.read_csv(paths.processed / "train.csv")[comp.target].sort_values().unique()
        if comp.task == "binary":
            frame[comp.target] = classes[
                (prediction[:, 1] >= config.submission.threshold).astype(int)
            ]
        else:
            frame[comp.target] = classes[prediction.argmax(axis=1)]
    return frame


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
    frame = build(config, paths)
    sample_path = paths.processed / "sample_submission.csv"
    labels = set(pd.read_csv(paths.processed / "train.csv")[config.competition.target])
    sample = pd.read_csv(sample_path) if sample_path.is_file() else None
    validate(frame, sample, config, labels)
    cv = json.loads((paths.models / CV_FILE).read_text(encoding="utf-8"))
    folder = paths.root / "submissions"
    folder.mkdir(exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-cv{cv['cv_mean']:.4f}.csv"
    frame.to_csv(path, index=False)
    return path


def _dirty(root: Path) -> bool:
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and bool(done.stdout.strip())


def submit(config: Settings, paths: Paths, allow_dirty: bool = False) -> str:
    """Validate, then `kaggle competitions submit` with the CV score and commit as message."""
    if _dirty(paths.root) and not allow_dirty:
        raise DataError(
            "the working tree has uncommitted changes: the submission would not match a commit",
            "commit first, or pass --allow-dirty",
        )
    path = write(config, paths)
    cv = json.loads((paths.models / CV_FILE).read_text(encoding="utf-8"))
    commit = (git_state(paths.root)["commit"] or "no-commit")[:8]
    message = f"CV {cv['metric']} {cv['cv_mean']:.4f} ± {cv['cv_std']:.4f} | commit {commit}"
    slug = config.competition.slug
    kaggle_cli.submit(slug, path, message, timeout=max(60.0, config.data.timeout_seconds * 10))
    return message
