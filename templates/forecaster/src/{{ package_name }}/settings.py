"""What configs/config.yaml holds for this project: every key typed, every key required."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .plumbing.config import DownloadSettings, ProjectSettings, StrictModel

Candidate = Literal["auto_ets", "auto_theta", "mstl", "auto_arima"]


class DataSettings(DownloadSettings):
    dataset: Literal["tourism-monthly", "csv"]
    source: str | None  # csv only: a path or an http(s) URL
    freq: str = Field(min_length=1)  # a pandas alias: MS, W-SUN, D, h
    season_length: list[int] = Field(min_length=1, max_length=4)  # the first one scales MASE
    horizon: int = Field(ge=1)
    # gaps at the declared frequency: refused (null), or filled with zeros, by linear
    # interpolation or by carrying the last value forward
    fill_gaps: Literal["zero", "interpolate", "ffill"] | None

    @field_validator("season_length")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(season < 1 for season in value):
            raise ValueError("every season length must be 1 or more")
        return value

    @field_validator("freq")
    @classmethod
    def _alias(cls, value: str) -> str:
        import pandas as pd

        try:
            pd.tseries.frequencies.to_offset(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a pandas frequency (MS, W-SUN, D, h)") from exc
        return value


class CvSettings(StrictModel):
    n_windows: int = Field(ge=1)  # rolling origins before the final test, step = horizon
    # true: every model is fitted again at each origin; false: fitted once at the first and
    # updated with the new points (much faster for AutoETS and AutoTheta)
    refit: bool
    # choose on a random (seeded) subset of at most this many series: CV's cost is the bulk
    # of training on large panels, and a few hundred series rank the candidates as well
    # (null: every series long enough)
    max_series: int | None = Field(ge=2)


class LightGbmSettings(StrictModel):
    lags: list[int]  # target lags in periods; empty: 1, 2, 3 and the season lengths
    n_estimators: int = Field(ge=1)
    learning_rate: float = Field(gt=0, le=1)
    num_leaves: int = Field(ge=2)
    min_child_samples: int = Field(ge=1)


class SparkSettings(StrictModel):
    master: str = Field(min_length=1)  # local[*], local[2], spark://host:7077, yarn
    partitions: int = Field(ge=1)  # spark.sql.shuffle.partitions


class ModelSettings(StrictModel):
    # statistical: the candidates per series | lightgbm: a global LightGBM competes too
    family: Literal["statistical", "lightgbm"]
    candidates: list[Candidate] = Field(min_length=1)
    # the mean of the best two candidates joins the race (chosen when its CV MASE is better)
    ensemble: bool
    # worker processes for statsforecast: -1 every core, 1 none (small data, tests)
    n_jobs: int
    # pandas: this machine's cores (n_jobs) | spark: a Spark cluster through fugue
    engine: Literal["pandas", "spark"]
    spark: SparkSettings
    lightgbm: LightGbmSettings


class Settings(ProjectSettings):
    data: DataSettings
    cv: CvSettings
    model: ModelSettings
