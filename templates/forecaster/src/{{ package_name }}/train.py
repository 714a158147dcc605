"""Rolling-origin cross-validation on everything before the final test window, the choice
of the champion on CV MASE (a candidate, or the mean of the best two), the candidates'
forecasts of the test window (read only by `evaluate`), and the champion refitted on all
the data for serving."""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from . import metrics
from . import model as model_lib
from .data import load, needed
from .plumbing import persist
from .plumbing.datameta import read as read_meta
from .plumbing.errors import DataError
from .plumbing.paths import Paths
from .settings import Settings

LIBRARIES = ("statsforecast", "utilsforecast", "mlforecast", "lightgbm", "numpy", "pandas")
HISTORY_KEPT = 5  # seasons (or horizons) of each series kept with the model, for plots


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def split(series: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, test): the last `horizon` points of each series are the final test."""
    from_end = series.groupby("unique_id").cumcount(ascending=False)
    return series[from_end >= horizon], series[from_end < horizon]


def choose(cv: pd.DataFrame, names: list[str], ensemble: bool) -> tuple[list[str], dict]:
    """The champion on CV MASE among the candidates `names`, or the mean of the best two
    when its CV MASE is lower. Only CV windows reach this function: never the test."""
    scored = metrics.summary(metrics.score(cv, [*names, *model_lib.BASELINES]))
    ranked = sorted(names, key=lambda name: scored[name]["mase"])
    members = ranked[:1]
    if ensemble and len(ranked) >= 2:
        model_lib.add_ensemble(cv, ranked[:2])
        scored = metrics.summary(
            metrics.score(cv, [*names, model_lib.ENSEMBLE, *model_lib.BASELINES])
        )
        if scored[model_lib.ENSEMBLE]["mase"] < scored[ranked[0]]["mase"]:
            members = ranked[:2]
    return members, scored


def _names(config: Settings) -> list[str]:
    return [model.alias for model in model_lib.candidates(config)]


def train(config: Settings, paths: Paths) -> dict[str, Any]:
    meta = read_meta(paths)
    series = load(paths)
    data = config.data
    history, _ = split(series, data.horizon)
    _, cv_needs = needed(data.horizon, config.cv.n_windows, data.season_length)
    lengths = series.groupby("unique_id").size()
    long_enough = lengths.index[lengths >= cv_needs]
    if len(long_enough) < len(lengths):
        _log(
            f"note: {len(lengths) - len(long_enough)} series shorter than {cv_needs} points "
            "take no part in choosing the model (they are still forecast and tested)"
        )
    if len(long_enough) == 0:
        raise DataError(f"no series has the {cv_needs} points CV needs", "set cv.n_windows lower")
    limit = config.cv.max_series
    if limit is not None and len(long_enough) > limit:
        rng = np.random.default_rng(config.seed)
        long_enough = pd.Index(sorted(rng.choice(long_enough.to_numpy(), limit, replace=False)))
        _log(f"choosing on a random {limit} of the series (cv.max_series)")
    names = _names(config)
    models = model_lib.candidates(config) + model_lib.baselines(config)
    jobs = model_lib.n_jobs(config, len(long_enough))
    shown = [*names, *([model_lib.GLOBAL] if config.model.family == "lightgbm" else [])]
    _log(
        f"cross-validating {', '.join(shown)} and the baselines on {len(long_enough)} series: "
        f"{config.cv.n_windows} windows of {data.horizon} ({jobs} process(es))"
    )
    started = time.perf_counter()
    in_cv = history[history["unique_id"].isin(long_enough)]
    cv = model_lib.windows(config, in_cv, models, config.cv.n_windows, config.cv.refit)
    if config.model.family == "lightgbm":
        made = model_lib.global_windows(config, in_cv, config.cv.n_windows, config.cv.refit)
        cv = cv.merge(made, on=["unique_id", "ds", "cutoff"])
        names.append(model_lib.GLOBAL)
    cv = model_lib.add_naive2(config, in_cv, cv)
    members, scored = choose(cv, names, config.model.ensemble)
    name = model_lib.label(members)
    _log(f"CV took {time.perf_counter() - started:.1f} s; champion: {name}")
    for key in (*names, *([model_lib.ENSEMBLE] if config.model.ensemble else [])):
        if key in scored:
            _log(f"  {key:<14} CV MASE {scored[key]['mase']:.4f}  sMAPE {scored[key]['smape']:.2f}")

    # the final test window: every model fitted on the history, read only by `evaluate`
    test = model_lib.windows(config, series, models, 1, True)
    if config.model.family == "lightgbm":
        made = model_lib.global_windows(config, series, 1)
        test = test.merge(made, on=["unique_id", "ds", "cutoff"])
    test = model_lib.add_naive2(config, series, test)
    if len(members) > 1 or (config.model.ensemble and len(names) >= 2):
        ranked = sorted(names, key=lambda key: scored[key]["mase"])
        model_lib.add_ensemble(test, ranked[:2])
    cv["window"], test["window"] = "cv", "test"
    paths.models.mkdir(parents=True, exist_ok=True)
    backtest = pd.concat([cv, test], ignore_index=True)
    backtest.to_csv(paths.models / model_lib.BACKTEST_FILE, index=False)

    # the champion refitted on all the data (test window included): what serve and predict use
    served = model_lib.forecast(config, series, members, data.horizon)
    kept = HISTORY_KEPT * max(max(data.season_length), data.horizon)
    tail = series.groupby("unique_id").tail(kept).reset_index(drop=True)
    saved = {
        "members": members,
        "name": name,
        "freq": data.freq,
        "season_length": list(data.season_length),
        "horizon": data.horizon,
        "forecasts": served,
        "history": tail,
        "last_ds": series.groupby("unique_id")["ds"].max(),
        "cv": scored,
        "data": {"name": meta.name, "sample": meta.sample, "checksum": meta.checksum},
    }
    persist.save(saved, paths.models / model_lib.MODEL_FILE, LIBRARIES)
    champion = model_lib.ENSEMBLE if len(members) > 1 else members[0]
    return {
        "validation": scored[champion]["mase"],
        "champion": name,
        "cv": scored,
        "series": int(len(lengths)),
        "series_in_cv": int(len(long_enough)),
        "cv_seconds": round(time.perf_counter() - started, 2),
    }
