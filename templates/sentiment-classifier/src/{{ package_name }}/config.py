"""Typed view of configs/config.yaml: a misspelt key fails at once instead of being ignored."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """The config file is missing, malformed, or has an unknown or mistyped key."""


@dataclass
class DataConfig:
    dataset: str = "imdb"
    url: str | None = None
    checksum: str | None = None
    retries: int = 3
    timeout_seconds: float = 30.0
    uci_source: str = "yelp"
    source: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    test_size: float = 0.25
    max_train_rows: int | None = None


@dataclass
class TfidfConfig:
    ngram_range: list[int] = field(default_factory=lambda: [1, 2])
    min_df: float = 2
    max_df: float = 0.95
    sublinear_tf: bool = True
    max_features: int | None = None


@dataclass
class LogRegConfig:
    C_grid: list[float] = field(default_factory=lambda: [0.5, 1.0, 2.0, 4.0, 8.0, 16.0])
    cv_folds: int = 3
    max_iter: int = 2000


@dataclass
class TransformerConfig:
    pretrained: str | None = "distilbert-base-uncased"
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 5e-5
    max_length: int = 256


@dataclass
class ModelConfig:
    type: str = "tfidf_logreg"
    tfidf: TfidfConfig = field(default_factory=TfidfConfig)
    logreg: LogRegConfig = field(default_factory=LogRegConfig)
    transformer: TransformerConfig = field(default_factory=TransformerConfig)


@dataclass
class TrainConfig:
    n_jobs: int = -1


@dataclass
class EvaluateConfig:
    top_words: int = 15
    worst_examples: int = 25


@dataclass
class Config:
    seed: int = 42
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)


@dataclass(frozen=True)
class Paths:
    """Where everything lives, relative to the project root (the folder you run commands in)."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "configs" / "config.yaml"

    @property
    def sample(self) -> Path:
        return self.root / "data" / "sample" / "reviews.csv"

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def figures(self) -> Path:
        return self.root / "reports" / "figures"

    @property
    def readme(self) -> Path:
        return self.root / "README.md"


def _check_type(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        hint = next(option for option in options if option is not type(None))
        origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(f"{where} must be {hint.__name__}, got {value!r}")
    return value


def _build(cls: Any, raw: Any, where: str) -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where or 'config'} must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"unknown key(s) in {where or 'config'}: {', '.join(unknown)}")
    values = {
        name: _check_type(raw[name], hints[name], f"{where}.{name}".lstrip("."))
        for name in known
        if name in raw
    }
    return cls(**values)


def load_config(path: Path) -> Config:
    """Read and validate the YAML config; every key has a default."""
    if not path.is_file():
        raise ConfigError(f"config file not found: {path} (run commands from the project root)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    return _build(Config, raw, "")
