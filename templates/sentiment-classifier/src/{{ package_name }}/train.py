"""The `train` step: fit the model (regularisation chosen by cross-validation) and the baseline."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from typing import Any

from sklearn.model_selection import GridSearchCV, StratifiedKFold

from . import model as model_lib
from .data import load_split
from .plumbing.paths import Paths
from .plumbing.seeding import one_thread_per_process
from .settings import Settings


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


AUTO_PARALLEL_ROWS = 5_000  # below this, worker start-up costs more than parallel fits save


def n_jobs(setting: int | str, rows: int) -> int:
    if setting == "auto":
        return -1 if rows >= AUTO_PARALLEL_ROWS else 1
    return int(setting)


def still_rising_at_edge(
    results: dict[str, Any], grid: list[float], best_c: float, folds: int
) -> bool:
    """Best C at an edge of the grid, and better than its neighbour by more than the folds'
    noise (a standard error): only then may a better value lie beyond the edge. On a plateau
    of equal scores the pick among them is noise, not a reason to widen the grid."""
    if len(grid) < 2 or best_c not in (grid[0], grid[-1]):
        return False
    order = [float(c) for c in results["param_clf__C"]]
    best = order.index(best_c)
    neighbour = order.index(grid[1] if best_c == grid[0] else grid[-2])
    scores, spread = results["mean_test_score"], results["std_test_score"]
    return bool(scores[best] - scores[neighbour] > spread[best] / folds**0.5)


def _fit_linear(config: Settings, texts: list[str], labels: list[str]) -> tuple[Any, dict]:
    section = config.model.nbsvm if config.model.type == "nbsvm" else config.model.tfidf
    grid = sorted(section.C_grid)
    smallest = min(labels.count(label) for label in set(labels))
    folds = max(2, min(config.model.logreg.cv_folds, smallest))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    jobs = n_jobs(config.train.n_jobs, len(texts))
    parallel = one_thread_per_process() if jobs != 1 else contextlib.nullcontext()
    with parallel, tempfile.TemporaryDirectory(prefix="features-") as cache:
        # each fold's text features are computed once, not once per C: on long reviews
        # they cost more than the fits (RT-2k: 7 s against 1 s)
        search = GridSearchCV(
            model_lib.build_pipeline(config.model, config.seed).set_params(memory=cache),
            {"clf__C": grid},
            cv=cv,
            scoring="accuracy",
            n_jobs=jobs,
            refit=False,
            verbose=1,
        )
        search.fit(texts, labels)
        best_c = float(search.best_params_["clf__C"])
        # refitted on all rows with the best C; an SVM also learns, on the same folds, how
        # its margins become probabilities
        fitted = model_lib.build_pipeline(
            config.model, config.seed, C=best_c, calibration=cv, n_jobs=jobs
        )
        fitted.fit(texts, labels)
    at_edge = still_rising_at_edge(search.cv_results_, grid, best_c, folds)
    if at_edge:
        _log(
            f"warning: the best C ({best_c:g}) is at the edge of "
            f"model.{'nbsvm' if config.model.type == 'nbsvm' else 'tfidf'}.C_grid {grid}: "
            "widen the grid, a better value may lie beyond it"
        )
    info = {
        "cv_accuracy": round(float(search.best_score_), 4),
        "validation": round(float(search.best_score_), 4),  # what `runs` ranks by
        "cv_folds": folds,
        "best_C": best_c,
        "C_at_grid_edge": at_edge,
    }
    return fitted, info


def train(config: Settings, paths: Paths) -> dict[str, Any]:
    frame = load_split(paths, "train")
    texts, labels = frame["text"].tolist(), frame["label"].tolist()
    _log(f"training {config.model.type} on {len(texts)} rows")
    started = time.perf_counter()
    if config.model.type == "transformer":
        from .transformer import TransformerClassifier

        fitted = TransformerClassifier(config.model.transformer, config.seed).fit(texts, labels)
        info: dict[str, Any] = {}
    else:
        fitted, info = _fit_linear(config, texts, labels)
    baseline = model_lib.build_baseline().fit(texts, labels)
    seconds = time.perf_counter() - started
    model_lib.save(fitted, paths.models / model_lib.MODEL_FILE)
    model_lib.save(baseline, paths.models / model_lib.BASELINE_FILE)
    info.update({"model_type": config.model.type, "rows": len(texts), "seconds": round(seconds, 2)})
    cv = f", CV accuracy {info['cv_accuracy']:.4f}" if "cv_accuracy" in info else ""
    _log(f"trained in {seconds:.1f} s{cv}")
    return info
