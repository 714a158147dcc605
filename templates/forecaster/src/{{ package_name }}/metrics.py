"""The M4 competition's accuracy measures, in numpy: sMAPE (0-200), MASE (scaled by the
in-sample seasonal naive), MSIS and coverage of the 95% interval, and OWA against Naive2.
Each takes one series' forecast window; `score` applies them to a table of windows."""

from __future__ import annotations

import numpy as np
import pandas as pd

ALPHA = 0.05  # the 95% interval's miss rate: MSIS's penalty is 2/ALPHA per unit outside


def smape(y: np.ndarray, forecast: np.ndarray) -> float:
    """200 × mean |y - ŷ| / (|y| + |ŷ|); a point where both are 0 counts as 0."""
    y, forecast = np.asarray(y, float), np.asarray(forecast, float)
    denominator = np.abs(y) + np.abs(forecast)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(denominator == 0, 0.0, np.abs(y - forecast) / denominator)
    return float(200 * terms.mean())


def scale(insample: np.ndarray, m: int) -> float:
    """Mean absolute error of the in-sample seasonal naive (lag m; lag 1 when the series is
    not longer than a season): MASE's and MSIS's denominator. NaN when it is 0."""
    x = np.asarray(insample, float)
    lag = m if len(x) > m else 1
    if len(x) <= lag:
        return float("nan")
    value = float(np.abs(x[lag:] - x[:-lag]).mean())
    return value if value > 0 else float("nan")


def mase(y: np.ndarray, forecast: np.ndarray, insample: np.ndarray, m: int) -> float:
    y, forecast = np.asarray(y, float), np.asarray(forecast, float)
    return float(np.abs(y - forecast).mean() / scale(insample, m))


def msis(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, insample: np.ndarray, m: int) -> float:
    """Mean scaled interval score: width, plus 2/α times how far y falls outside."""
    y, lo, hi = (np.asarray(a, float) for a in (y, lo, hi))
    penalty = (2 / ALPHA) * ((lo - y) * (y < lo) + (y - hi) * (y > hi))
    return float(((hi - lo) + penalty).mean() / scale(insample, m))


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of points inside [lo, hi] (0.95 for a well calibrated 95% interval)."""
    y, lo, hi = (np.asarray(a, float) for a in (y, lo, hi))
    return float(((y >= lo) & (y <= hi)).mean())


def owa(smape_model: float, mase_model: float, smape_naive2: float, mase_naive2: float) -> float:
    """M4's overall weighted average: the mean of sMAPE and MASE relative to Naive2's."""
    return 0.5 * (smape_model / smape_naive2 + mase_model / mase_naive2)


def score(frame: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Per model and forecast window (series × cutoff): sMAPE, MASE, MSIS, coverage.
    `frame` holds unique_id, cutoff, y, the window's seasonal-naive `scale` and each
    model's `name`, `name-lo-95`, `name-hi-95`."""
    y = frame["y"].to_numpy(float)
    rows = []
    for name in models:
        f = frame[name].to_numpy(float)
        lo, hi = frame[f"{name}-lo-95"].to_numpy(float), frame[f"{name}-hi-95"].to_numpy(float)
        denominator = np.abs(y) + np.abs(f)
        with np.errstate(divide="ignore", invalid="ignore"):
            sym = np.where(denominator == 0, 0.0, 200 * np.abs(y - f) / denominator)
        outside = (2 / ALPHA) * ((lo - y) * (y < lo) + (y - hi) * (y > hi))
        parts = pd.DataFrame(
            {
                "unique_id": frame["unique_id"].to_numpy(),
                "cutoff": frame["cutoff"].to_numpy(),
                "smape": sym,
                "ae": np.abs(y - f),
                "is": (hi - lo) + outside,
                "covered": ((y >= lo) & (y <= hi)).astype(float),
                "scale": frame["scale"].to_numpy(float),
            }
        )
        per = parts.groupby(["unique_id", "cutoff"], sort=False).mean()
        per["mase"] = per["ae"] / per["scale"]
        per["msis"] = per["is"] / per["scale"]
        per = per.rename(columns={"covered": "coverage"})
        per["model"] = name
        rows.append(per[["model", "smape", "mase", "msis", "coverage"]].reset_index())
    return pd.concat(rows, ignore_index=True)


def summary(per_window: pd.DataFrame, naive2: str = "Naive2") -> dict[str, dict[str, float]]:
    """Mean of each measure over every window a scale exists for, and OWA against Naive2."""
    valid = per_window.dropna(subset=["mase"])
    means = valid.groupby("model")[["smape", "mase", "msis", "coverage"]].mean()
    found: dict[str, dict[str, float]] = {}
    for name, row in means.iterrows():
        values = {key: float(row[key]) for key in means.columns}
        if naive2 in means.index:
            base = means.loc[naive2]
            values["owa"] = owa(row["smape"], row["mase"], base["smape"], base["mase"])
        found[str(name)] = values
    return found
