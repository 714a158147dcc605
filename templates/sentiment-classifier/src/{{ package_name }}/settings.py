"""What configs/config.yaml holds for this project: every key typed, every key required."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .plumbing.config import DownloadSettings, ProjectSettings, StrictModel

NgramRange = Annotated[list[int], Field(min_length=2, max_length=2)]


class DataSettings(DownloadSettings):
    dataset: Literal["imdb", "sst2", "uci", "csv"]
    uci_source: Literal["yelp", "amazon", "imdb"]
    source: str | None  # csv only: a local path or an http(s) URL
    text_column: str
    label_column: str
    test_size: float = Field(gt=0, lt=1)
    max_train_rows: int | None = Field(ge=2)


class NbSettings(StrictModel):
    """NBSVM: binary n-gram counts scaled by naive-Bayes log-count ratios, a linear model."""

    classifier: Literal["svm", "logreg"]
    token_pattern: str
    ngram_range: NgramRange
    min_df: float = Field(gt=0)
    max_df: float = Field(gt=0, le=1)
    alpha: float = Field(gt=0)
    C_grid: list[float] = Field(min_length=1)


class TfidfSettings(StrictModel):
    ngram_range: NgramRange
    min_df: float = Field(gt=0)
    max_df: float = Field(gt=0, le=1)
    sublinear_tf: bool
    max_features: int | None = Field(ge=1)
    C_grid: list[float] = Field(min_length=1)


class LogRegSettings(StrictModel):
    cv_folds: int = Field(ge=2)
    max_iter: int = Field(ge=10)


class TransformerSettings(StrictModel):
    pretrained: str | None  # null: a tiny model trained from scratch (no download; tests)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    max_length: int = Field(ge=8)


class ModelSettings(StrictModel):
    type: Literal["nbsvm", "tfidf_logreg", "transformer"]
    nbsvm: NbSettings
    tfidf: TfidfSettings
    logreg: LogRegSettings
    transformer: TransformerSettings


class TrainSettings(StrictModel):
    n_jobs: int | Literal["auto"]  # parallel cross-validation fits (-1: all cores)


class EvaluateSettings(StrictModel):
    top_words: int = Field(ge=1)
    worst_examples: int = Field(ge=0)


class Settings(ProjectSettings):
    data: DataSettings
    model: ModelSettings
    train: TrainSettings
    evaluate: EvaluateSettings
