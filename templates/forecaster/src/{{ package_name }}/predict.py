"""Forecasts from the trained champion (refitted on all the data): every series' next
`horizon` points, one series', or a posted history's; `predict` writes them as CSV.

For scripts and graders:

    from {{ package_name }}.predict import forecast_all
    frame = forecast_all("path/to/project", horizon=12)   # unique_id, ds, y_hat, lo_95, hi_95
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import model as model_lib
from .plumbing import persist
from .plumbing.errors import ProjectError
from .plumbing.paths import Paths
from .settings import Settings

OUTPUT = ("unique_id", "ds", "y_hat", "lo_95", "hi_95")


class ForecastError(ValueError):
    """A request the model cannot answer (unknown series, horizon too long, bad history)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def load_served(paths: Paths) -> dict[str, Any]:
    return persist.load(paths.models / model_lib.MODEL_FILE)


def check_horizon(served: dict[str, Any], horizon: int) -> None:
    """At most the trained horizon: the one the champion was chosen and tested for."""
    if not 1 <= horizon <= served["horizon"]:
        raise ForecastError(
            "horizon",
            f"horizon must be from 1 to {served['horizon']}, the horizon the model was "
            "chosen and tested for",
        )


def series_forecast(served: dict[str, Any], uid: str, horizon: int) -> pd.DataFrame:
    """One known series' next `horizon` points (precomputed when training ended)."""
    check_horizon(served, horizon)
    table = served["forecasts"]
    found = table[table["unique_id"] == uid]
    if found.empty:
        raise ForecastError("unique_id", "unknown series: not one the model was trained on")
    return found.head(horizon).reset_index(drop=True)


def forecast_all(
    root: str | Path, horizon: int | None = None, ids: list[str] | None = None
) -> pd.DataFrame:
    """Every trained series' (or `ids`') next `horizon` points after the end of its data
    (default: the trained horizon), from models/model.joblib: columns unique_id, ds (the
    timestamps), y_hat, lo_95, hi_95; `horizon` rows a series, in the order trained."""
    served = load_served(Paths(Path(root)))
    horizon = served["horizon"] if horizon is None else horizon
    check_horizon(served, horizon)
    table = served["forecasts"]
    if ids is not None:
        unknown = sorted(set(ids) - set(table["unique_id"]))
        if unknown:
            raise ForecastError("unique_id", f"unknown series: {unknown[:5]}")
        table = table[table["unique_id"].isin(ids)]
    found = table.groupby("unique_id", sort=False).head(horizon)
    return found.reset_index(drop=True)[list(OUTPUT)]


def history_forecast(
    served: dict[str, Any], config: Settings, ds: list[str], y: list[float], horizon: int
) -> tuple[pd.DataFrame, str]:
    """A series the model has not seen, given as timestamps and values at the trained
    frequency: refused when dates do not parse, repeat or leave gaps."""
    check_horizon(served, horizon)
    if len(ds) != len(y):
        raise ForecastError("history", f"ds has {len(ds)} values and y {len(y)}: give pairs")
    if len(y) < 2:
        raise ForecastError("history", "give at least two points")
    dates = pd.to_datetime(pd.Series(ds), errors="coerce", format="mixed")
    if dates.isna().any():
        index = int(dates.isna().to_numpy().argmax())
        raise ForecastError("history", f"ds[{index}] is not a date (YYYY-MM-DD)")
    grid = pd.date_range(dates.iloc[0], periods=len(dates), freq=served["freq"])
    if not (grid.values == dates.values).all():
        index = int((grid.values != dates.values).argmax())
        raise ForecastError(
            "history",
            f"ds[{index}] is not the next {served['freq']} step after ds[{index - 1}]: "
            "the history must be regular, without gaps or repeats",
        )
    values = np.asarray(y, dtype=float)
    frame, method = model_lib.history_forecast(config, served["members"], grid, values, horizon)
    return frame, method


def write(
    config: Settings, paths: Paths, horizon: int | None, uid: str | None, out: Path | None
) -> Path:
    """`predict`: the forecasts as CSV (reports/predictions.csv unless `out`)."""
    try:
        found = forecast_all(paths.root, horizon, [uid] if uid else None)
    except ForecastError as exc:
        raise ProjectError(exc.message, "see --help") from exc
    target = out or paths.reports / "predictions.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    found.to_csv(target, index=False)
    return target
