"""What configs/config.yaml holds for this project: every key typed, every key required."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .plumbing.config import DownloadSettings, ProjectSettings, StrictModel

Task = Literal["binary", "multiclass", "regression"]
Metric = Literal["accuracy", "roc_auc", "log_loss", "rmse", "rmse_log", "mae"]
CLASSIFICATION_METRICS = {"accuracy", "roc_auc", "log_loss"}


class CompetitionSettings(StrictModel):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    target: str = Field(min_length=1)
    id: str = Field(min_length=1)
    task: Task
    metric: Metric
    class_names: dict[str, str]  # label -> what the demo calls it ({"1": "survived"})

    @model_validator(mode="after")
    def _metric_fits_task(self) -> CompetitionSettings:
        classification = self.task != "regression"
        if classification != (self.metric in CLASSIFICATION_METRICS):
            raise ValueError(f"metric {self.metric} does not fit a {self.task} task")
        if self.metric == "roc_auc" and self.task != "binary":
            raise ValueError("roc_auc is for binary tasks")
        return self


class FeatureSettings(StrictModel):
    titanic: bool  # title, family size, deck, ticket group (Titanic's columns)
    numeric: list[str] | None  # null: inferred from the data's types
    categorical: list[str] | None
    drop: list[str]
    max_categories: int = Field(ge=2)  # wider text columns are dropped unless listed


class LinearSettings(StrictModel):
    C: float = Field(gt=0)  # inverse regularisation (classification)
    alpha: float = Field(gt=0)  # ridge regularisation (regression)


class HistGbSettings(StrictModel):
    learning_rate: float = Field(gt=0, le=1)
    max_iter: int = Field(ge=1)
    max_depth: int | None = Field(ge=1)
    min_samples_leaf: int = Field(ge=1)
    l2_regularization: float = Field(ge=0)
    # stop adding trees when a held-out share of the training rows stops improving
    # ("auto": scikit-learn's choice, on from 10,000 rows)
    early_stopping: bool | Literal["auto"]
    validation_fraction: float = Field(gt=0, lt=1)
    n_iter_no_change: int = Field(ge=1)


class ModelSettings(StrictModel):
    # auto: cross-validation picks among hist_gb, hist_gb_plain, linear (and blend, regression)
    type: Literal["auto", "hist_gb", "hist_gb_plain", "linear", "blend"]
    linear: LinearSettings
    hist_gb: HistGbSettings


class CvSettings(StrictModel):
    folds: int = Field(ge=2)
    n_jobs: int


class SearchSettings(StrictModel):
    enabled: bool  # Optuna search of the gradient-boosting parameters on the CV score
    timeout_seconds: float = Field(gt=0)
    n_trials: int = Field(ge=1)


class SubmissionSettings(StrictModel):
    threshold: float = Field(gt=0, lt=1)  # binary labels: probability above which 1


class Settings(ProjectSettings):
    data: DownloadSettings
    competition: CompetitionSettings
    features: FeatureSettings
    model: ModelSettings
    cv: CvSettings
    search: SearchSettings
    submission: SubmissionSettings
