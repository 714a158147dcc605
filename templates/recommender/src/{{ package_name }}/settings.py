"""What configs/config.yaml holds for this project: every key typed, every key required."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .plumbing.config import DownloadSettings, ProjectSettings, StrictModel


class ColumnSettings(StrictModel):
    user: str = Field(min_length=1)
    item: str = Field(min_length=1)
    rating: str = Field(min_length=1)
    timestamp: str | None  # null: no timestamps (the temporal split then uses file order)


class DataSettings(DownloadSettings):
    dataset: Literal["ml-100k", "ml-latest-small", "ml-1m", "csv"]
    source: str | None  # csv only: a path (relative to the project) or an http(s) URL
    columns: ColumnSettings  # csv only: the file's column names


class SplitSettings(StrictModel):
    test_size: float = Field(gt=0, lt=1)  # random split for rating prediction
    validation_size: float = Field(gt=0, lt=1)  # carved from training, to choose parameters
    folds: int = Field(ge=1)  # > 1: k-fold cross-validation of the rating model too


class RatingSettings(StrictModel):
    """Biased matrix factorisation fitted by alternating least squares."""

    factors: int = Field(ge=1)
    reg_grid: list[float] = Field(min_length=1)  # chosen on the validation split
    reg_bias: float = Field(ge=0)
    epochs: int = Field(ge=1)


class RankingSettings(StrictModel):
    """EASE (Steck 2019): a closed-form item-item model for top-N."""

    lambda_grid: list[float] = Field(min_length=1)  # chosen on the validation split
    min_item_interactions: int = Field(ge=1)  # rarer items are left to popularity


class SparkSettings(StrictModel):
    master: str  # local[*], or a cluster's master URL
    rank: int = Field(ge=1)
    reg_param: float = Field(gt=0)
    max_iter: int = Field(ge=1)


class ModelSettings(StrictModel):
    engine: Literal["numpy", "spark"]  # spark: rating model trained with Spark MLlib ALS
    rating: RatingSettings
    ranking: RankingSettings
    spark: SparkSettings


class EvaluateSettings(StrictModel):
    k: int = Field(ge=1)  # the cut-off of the headline ranking metrics
    k_values: list[int] = Field(min_length=1)  # for the metrics-against-K figure


class Settings(ProjectSettings):
    data: DataSettings
    split: SplitSettings
    model: ModelSettings
    evaluate: EvaluateSettings
