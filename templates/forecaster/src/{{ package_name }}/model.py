"""The competing models and the baselines, fitted per series with statsforecast; Naive2
(M4's benchmark) in numpy; the champion's forecasts with their 95% interval."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from .features import future_dates, naive2
from .metrics import scale
from .settings import Settings

MODEL_FILE = "model.joblib"  # the champion: its members, settings and forecasts
BACKTEST_FILE = "backtest.csv"  # every model's forecasts in the CV windows and the test
LEVEL = 95
NAMES = {
    "auto_ets": "AutoETS",
    "auto_theta": "AutoTheta",
    "mstl": "MSTL",
    "auto_arima": "AutoARIMA",
}
BASELINES = ("SeasonalNaive", "Naive", "Naive2")
ENSEMBLE = "Ensemble"


SMALL = 64  # fewer series than this: one process (starting workers costs more than it saves)


def n_jobs(config: Settings, series: int | None = None) -> int:
    """statsforecast's worker processes: config.model.n_jobs, -1 for every core here (one for
    a few series)."""
    wanted = config.model.n_jobs
    if wanted > 0:
        return wanted
    if series is not None and series < SMALL:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def candidates(config: Settings, names: list[str] | None = None) -> list[Any]:
    """The statsforecast models of model.candidates (or of `names`, their aliases). AutoETS
    is seasonal up to m = 24 (its states grow with m; R's ets refuses more) and MSTL runs
    only with a season longer than 1."""
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, AutoTheta

    seasons = config.data.season_length
    m = seasons[0]
    made = {
        "AutoETS": lambda: AutoETS(season_length=m if m <= 24 else 1, alias="AutoETS"),
        "AutoTheta": lambda: AutoTheta(season_length=m, alias="AutoTheta"),
        # the trend left by the seasonal decomposition, additive Holt (ETS AAN): as accurate
        # as the full AutoETS search on hourly series and a third faster
        "MSTL": lambda: MSTL(
            season_length=seasons, trend_forecaster=AutoETS(model="AAN"), alias="MSTL"
        ),
        "AutoARIMA": lambda: AutoARIMA(season_length=m, alias="AutoARIMA"),
    }
    wanted = names if names is not None else [NAMES[key] for key in config.model.candidates]
    if max(seasons) <= 1:
        wanted = [name for name in wanted if name != "MSTL"]
    return [made[name]() for name in wanted if name in made]


def baselines(config: Settings) -> list[Any]:
    from statsforecast.models import Naive, SeasonalNaive

    m = config.data.season_length[0]
    return [SeasonalNaive(season_length=m, alias="SeasonalNaive"), Naive(alias="Naive")]


def forecaster(
    config: Settings, models: list[Any], jobs: int | None = None, fallback: bool = True
) -> Any:
    """A StatsForecast over `models`; a model that fails on a series (too short, flat) gives
    way to the seasonal naive there (with `fallback`)."""
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    m = config.data.season_length[0]
    return StatsForecast(
        models=models,
        freq=config.data.freq,
        n_jobs=jobs if jobs is not None else n_jobs(config),
        fallback_model=SeasonalNaive(season_length=m) if fallback else None,
    )


def windows(
    config: Settings, series: pd.DataFrame, models: list[Any], n_windows: int, refit: bool
) -> pd.DataFrame:
    """Rolling-origin forecasts of the last `n_windows` horizons of `series` (step =
    horizon): unique_id, ds, cutoff, y and each model's column with -lo-95 and -hi-95."""
    from .plumbing.seeding import one_thread_per_process

    horizon = config.data.horizon
    options = {"h": horizon, "n_windows": n_windows, "step_size": horizon, "level": [LEVEL]}
    if config.model.engine == "spark":
        from .spark import run

        engine = forecaster(config, models, 1)
        return run(config, series, lambda df: engine.cross_validation(df=df, **options))
    engine = forecaster(config, models, n_jobs(config, series["unique_id"].nunique()))
    with one_thread_per_process():
        found = engine.cross_validation(df=series, refit=refit, **options)
    return found.reset_index(drop=True) if "unique_id" in found else found.reset_index()


def add_naive2(config: Settings, series: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """Naive2's forecasts beside the others, window by window, and each window's MASE scale."""
    m, horizon = config.data.season_length[0], config.data.horizon
    found = found.sort_values(["unique_id", "cutoff", "ds"]).reset_index(drop=True)
    groups = {uid: g for uid, g in series.groupby("unique_id")}
    mean = np.empty(len(found))
    lo, hi, scales = np.empty(len(found)), np.empty(len(found)), np.empty(len(found))
    keys = found[["unique_id", "cutoff"]].drop_duplicates()
    starts = found.groupby(["unique_id", "cutoff"], sort=False).indices
    for uid, cutoff in keys.itertuples(index=False):
        group = groups[uid]
        insample = group["y"].to_numpy(float)[: int((group["ds"] <= cutoff).sum())]
        rows = starts[(uid, cutoff)]
        f, low, high = naive2(insample, horizon, m)
        mean[rows], lo[rows], hi[rows] = f[: len(rows)], low[: len(rows)], high[: len(rows)]
        scales[rows] = scale(insample, m)
    found["Naive2"], found["Naive2-lo-95"], found["Naive2-hi-95"] = mean, lo, hi
    found["scale"] = scales
    return found


def add_ensemble(found: pd.DataFrame, members: list[str]) -> pd.DataFrame:
    """The mean of the members' forecasts and of their interval bounds."""
    for suffix in ("", "-lo-95", "-hi-95"):
        found[ENSEMBLE + suffix] = found[[name + suffix for name in members]].mean(axis=1)
    return found


def label(members: list[str]) -> str:
    return members[0] if len(members) == 1 else f"{ENSEMBLE} ({' + '.join(members)})"


def combine(found: pd.DataFrame, members: list[str]) -> pd.DataFrame:
    """The champion's forecasts (its members' mean) as y_hat, lo_95, hi_95."""
    out = found[["unique_id", "ds"]].copy()
    out["y_hat"] = found[members].mean(axis=1)
    out["lo_95"] = found[[f"{name}-lo-{LEVEL}" for name in members]].mean(axis=1)
    out["hi_95"] = found[[f"{name}-hi-{LEVEL}" for name in members]].mean(axis=1)
    return out


def forecast(
    config: Settings,
    series: pd.DataFrame,
    members: list[str],
    horizon: int,
    jobs: int = 0,
    fallback: bool = True,
) -> pd.DataFrame:
    """The members fitted on all of `series`, `horizon` steps ahead: unique_id, ds, y_hat,
    lo_95, hi_95 (a member that is a baseline is fitted like the others)."""
    from .plumbing.seeding import one_thread_per_process

    fitted = candidates(config, [m for m in members if m not in BASELINES])
    fitted += [b for b in baselines(config) if b.alias in members]
    found = None
    if fitted and config.model.engine == "spark" and series["unique_id"].nunique() > 1:
        from .spark import run

        engine = forecaster(config, fitted, 1, fallback)
        found = run(config, series, lambda df: engine.forecast(df=df, h=horizon, level=[LEVEL]))
    elif fitted:
        jobs = jobs or n_jobs(config, series["unique_id"].nunique())
        engine = forecaster(config, fitted, jobs, fallback)
        with one_thread_per_process():
            found = engine.forecast(df=series, h=horizon, level=[LEVEL])
        found = found.reset_index(drop=True) if "unique_id" in found else found.reset_index()
    if GLOBAL in members:
        made = global_forecast(config, series, horizon)
        found = made if found is None else found.merge(made, on=["unique_id", "ds"])
    return combine(found, members)


def history_forecast(
    config: Settings, members: list[str], ds: pd.DatetimeIndex, y: np.ndarray, horizon: int
) -> tuple[pd.DataFrame, str]:
    """A series the model has not seen: the champion's members fitted on it when it holds two
    of its longest seasons and two horizons, else the seasonal naive (one season at least)
    or the naive.
    Returns the forecast and the method used."""
    seasons = config.data.season_length
    frame = pd.DataFrame({"unique_id": "history", "ds": ds, "y": y})
    local = [name for name in members if name != GLOBAL] or ["AutoTheta"]
    needed = max(2 * max(seasons), 2 * horizon)
    if len(y) >= needed:
        # the global model's features need the other series: a history gets the
        # champion's per-series members (AutoTheta when it has none)
        return forecast(config, frame, local, horizon, jobs=1), label(local)
    method = "SeasonalNaive" if len(y) >= seasons[0] > 1 else "Naive"
    found = forecast(config, frame, [method], horizon, jobs=1, fallback=False)
    why = "one season" if method == "SeasonalNaive" else "under one season"
    return found, f"{method} ({len(y)} points, {why}: the models need {needed})"


def future(series: pd.DataFrame, horizon: int, freq: str) -> pd.DataFrame:
    """Every series' next `horizon` timestamps (what a forecast must cover)."""
    last = series.groupby("unique_id")["ds"].max()
    parts = [
        pd.DataFrame({"unique_id": uid, "ds": future_dates(ds, horizon, freq)})
        for uid, ds in last.items()
    ]
    return pd.concat(parts, ignore_index=True)


# The global model (model.family: lightgbm): one LightGBM over every series (mlforecast),
# its 95% interval from two quantile LightGBMs (2.5% and 97.5%) fitted the same way.

GLOBAL = "LightGBM"


def _date_features(freq: str) -> list[str]:
    """Calendar features the frequency can carry."""
    name = pd.tseries.frequencies.to_offset(freq).name.split("-")[0].lower()
    if name in ("h", "min", "s", "bh"):
        return ["hour", "dayofweek"]
    if name in ("d", "b"):
        return ["dayofweek", "month"]
    if name in ("w", "ms", "m", "me", "sm", "sms"):
        return ["month"]
    if name.startswith("q"):
        return ["quarter"]
    return []


def _global_model(config: Settings) -> Any:
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.target_transforms import Differences, LocalStandardScaler

    settings = config.model.lightgbm
    seasons = config.data.season_length
    params = {
        "n_estimators": settings.n_estimators,
        "learning_rate": settings.learning_rate,
        "num_leaves": settings.num_leaves,
        "min_child_samples": settings.min_child_samples,
        "random_state": config.seed,
        "n_jobs": n_jobs(config),
        "verbosity": -1,
    }
    models = {
        GLOBAL: lgb.LGBMRegressor(**params),
        f"{GLOBAL}-lo-{LEVEL}": lgb.LGBMRegressor(objective="quantile", alpha=0.025, **params),
        f"{GLOBAL}-hi-{LEVEL}": lgb.LGBMRegressor(objective="quantile", alpha=0.975, **params),
    }
    lags = settings.lags or sorted({1, 2, 3, *seasons})
    # seasonal differences first (the trees see changes on last season), then each series
    # scaled by its own mean and spread, so one model serves series of any size
    transforms = [Differences([seasons[0]])] if seasons[0] > 1 else [Differences([1])]
    return MLForecast(
        models=models,
        freq=config.data.freq,
        lags=lags,
        date_features=_date_features(config.data.freq),
        target_transforms=[*transforms, LocalStandardScaler()],
    )


def _ordered(found: pd.DataFrame) -> pd.DataFrame:
    """Quantile models fitted apart can cross: the interval holds the point forecast."""
    columns = [f"{GLOBAL}-lo-{LEVEL}", GLOBAL, f"{GLOBAL}-hi-{LEVEL}"]
    found[columns] = np.sort(found[columns].to_numpy(float), axis=1)
    return found


def global_windows(
    config: Settings, series: pd.DataFrame, n_windows: int, refit: bool = True
) -> pd.DataFrame:
    """The LightGBM's rolling-origin forecasts, in the layout of `windows`."""
    found = _global_model(config).cross_validation(
        df=series,
        n_windows=n_windows,
        h=config.data.horizon,
        step_size=config.data.horizon,
        refit=refit,
    )
    return _ordered(found.drop(columns=["y"]))


def global_forecast(config: Settings, series: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """The LightGBM fitted on all of `series`, `horizon` steps ahead."""
    found = _global_model(config).fit(series).predict(horizon)
    return _ordered(found)
