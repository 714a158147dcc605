"""Seasonal adjustment as the M4 competition defines it, for the Naive2 benchmark: a 90%
autocorrelation test for seasonality, then classical multiplicative decomposition; and the
calendar of the forecast window."""

from __future__ import annotations

import numpy as np
import pandas as pd

Z_90 = 1.645  # one-sided 90%: M4's critical value for the seasonality test
Z_95 = 1.959964  # two-sided 95% interval


def acf(x: np.ndarray, lag: int) -> float:
    """Autocorrelation at `lag`, as M4's benchmark code computes it."""
    mean = x.mean()
    denominator = float(((x - mean) ** 2).sum())
    if denominator == 0.0:
        return 0.0
    return float(((x[lag:] - mean) * (x[:-lag] - mean)).sum() / denominator)


def is_seasonal(x: np.ndarray, m: int) -> bool:
    """M4's test: the autocorrelation at lag m beyond 1.645 of its standard error (which
    sums the lags before it; M4's code starts the sum with acf(1) unsquared, kept here so
    Naive2 matches the published benchmark). Needs 3 seasons; never for m = 1."""
    x = np.asarray(x, dtype=float)
    if m <= 1 or len(x) < 3 * m:
        return False
    total = acf(x, 1) + sum(acf(x, lag) ** 2 for lag in range(2, m))
    limit = Z_90 * np.sqrt(max(1 + 2 * total, 0.0) / len(x))
    return bool(abs(acf(x, m)) > limit)


def seasonal_indices(x: np.ndarray, m: int) -> np.ndarray:
    """The m multiplicative seasonal indices of classical decomposition (mean 1), by
    position from the series' first point: a centred moving average (2×m when m is even) is
    the trend, and the ratios to it are averaged per position."""
    x = np.asarray(x, dtype=float)
    even = m % 2 == 0
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if even else np.ones(m) / m
    half = len(weights) // 2
    trend = np.full(len(x), np.nan)
    trend[half : len(x) - half] = np.convolve(x, weights, mode="valid")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = x / trend
    indices = np.array([np.nanmean(ratio[p::m]) for p in range(m)])
    return indices / indices.mean()


def naive2(insample: np.ndarray, horizon: int, m: int) -> tuple[np.ndarray, ...]:
    """M4's Naive2: the last value of the seasonally adjusted series (adjusted only when
    the test says seasonal, and only for positive data: the decomposition is
    multiplicative), seasonality put back. Returns (mean, lo_95, hi_95); the interval is the
    random walk's (one-step errors' spread × √h) on the adjusted scale."""
    y = np.asarray(insample, dtype=float)
    factors = np.ones(len(y) + horizon)
    if (y > 0).all() and is_seasonal(y, m):
        indices = seasonal_indices(y, m)
        factors = indices[np.arange(len(y) + horizon) % m]
    adjusted = y / factors[: len(y)]
    steps = np.arange(1, horizon + 1)
    mean = adjusted[-1] * factors[len(y) :]
    spread = float(np.sqrt(np.mean(np.diff(adjusted) ** 2))) if len(y) > 1 else 0.0
    width = Z_95 * spread * np.sqrt(steps) * factors[len(y) :]
    return mean, mean - width, mean + width


def future_dates(last: pd.Timestamp, horizon: int, freq: str) -> pd.DatetimeIndex:
    """The `horizon` timestamps after `last` at `freq`."""
    return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]
