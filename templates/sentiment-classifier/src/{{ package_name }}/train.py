"""The `train` step: fit the model (regularisation chosen by cross-validation) and the baseline."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from sklearn.model_selection import GridSearchCV, StratifiedKFold

from . import model as model_lib
from .config import Config, Paths
from .data import load_split


@dataclass
class TrainResult:
    model_type: str
    rows: int
    classes: list[str]
    seconds: float
    best_params: dict[str, Any]
    cv_accuracy: float | None


def _fit_tfidf_logreg(
    config: Config, texts: list[str], labels: list[str]
) -> tuple[Any, dict, float]:
    smallest = min(labels.count(label) for label in set(labels))
    folds = max(2, min(config.model.logreg.cv_folds, smallest))
    search = GridSearchCV(
        model_lib.build_pipeline(config.model, config.seed),
        {"clf__C": config.model.logreg.C_grid},
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed),
        scoring="accuracy",
        n_jobs=config.train.n_jobs,
        refit=True,
        verbose=1,
    )
    search.fit(texts, labels)
    return search.best_estimator_, search.best_params_, float(search.best_score_)


def train(config: Config, paths: Paths) -> TrainResult:
    frame = load_split(paths, "train")
    texts, labels = frame["text"].tolist(), frame["label"].tolist()
    print(f"training {config.model.type} on {len(texts)} rows", file=sys.stderr, flush=True)
    started = time.perf_counter()
    if config.model.type == "tfidf_logreg":
        fitted, params, cv_accuracy = _fit_tfidf_logreg(config, texts, labels)
    elif config.model.type == "transformer":
        from .transformer import TransformerClassifier

        fitted = TransformerClassifier(config.model.transformer, config.seed).fit(texts, labels)
        params, cv_accuracy = asdict(config.model.transformer), None
    else:
        raise ValueError(
            f"model.type must be tfidf_logreg or transformer, got {config.model.type!r}"
        )
    baseline = model_lib.build_baseline().fit(texts, labels)
    seconds = time.perf_counter() - started
    model_lib.save(fitted, paths.models / model_lib.MODEL_FILE)
    model_lib.save(baseline, paths.models / model_lib.BASELINE_FILE)
    result = TrainResult(
        config.model.type, len(texts), sorted(set(labels)), round(seconds, 2), params, cv_accuracy
    )
    (paths.models / "train_info.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    cv = f", CV accuracy {cv_accuracy:.3f}" if cv_accuracy is not None else ""
    print(f"trained in {seconds:.1f} s; best {params}{cv}", file=sys.stderr, flush=True)
    return result
