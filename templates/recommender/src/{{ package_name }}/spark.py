"""The scale-out engine: ALS from Spark MLlib (`model.engine: spark`), for ratings that
outgrow one machine's memory (MovieLens 25M/32M and up). Its factors come back as NumPy
arrays, so evaluation, `recommend` and the metrics are the very same code."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .model import FactorModel, Index
from .plumbing.errors import ConfigError
from .settings import Settings


def fit_als(config: Settings, ratings: pd.DataFrame, index: Index) -> FactorModel:
    try:
        from pyspark.ml.recommendation import ALS
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError(
            "model.engine is spark but pyspark is not installed",
            'pip install -e ".[spark]" (it needs Java 17), or set model.engine: numpy',
        ) from exc
    settings = config.model.spark
    spark = (
        SparkSession.builder.master(settings.master)
        .appName("recommender")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "false")  # no pyarrow needed
        .getOrCreate()
    )
    try:
        with tempfile.TemporaryDirectory(prefix="recommender-spark-") as tmp:
            # through a file, as Spark reads data of any size (no Python rows in between)
            path = Path(tmp) / "ratings.csv"
            positions = pd.DataFrame(  # Spark's ALS takes integer ids: our matrix positions
                {
                    "user": index.user_rows(ratings["user"]),
                    "item": index.item_cols(ratings["item"]),
                    "rating": ratings["rating"].astype(float),
                }
            )
            positions.to_csv(path, index=False, header=False)
            schema = "user INT, item INT, rating DOUBLE"
            fitted = _fit(config, spark.read.csv(str(path), schema=schema), ALS)
            users = fitted.userFactors.toPandas()
            items = fitted.itemFactors.toPandas()
    finally:
        spark.stop()
    model = FactorModel(index, settings.rank, settings.reg_param, 0.0, settings.max_iter)
    model.mean = 0.0  # Spark's ALS has no biases: the factors carry everything
    model.user_bias, model.item_bias = np.zeros(len(index.users)), np.zeros(len(index.items))
    model.user_factors = _aligned(users, len(index.users))
    model.item_factors = _aligned(items, len(index.items))
    return model


def _fit(config: Settings, frame: Any, als_class: Any) -> Any:
    settings = config.model.spark
    als = als_class(
        rank=settings.rank,
        regParam=settings.reg_param,
        maxIter=settings.max_iter,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        seed=config.seed,
        nonnegative=False,
    )
    return als.fit(frame)


def _aligned(factors: pd.DataFrame, size: int) -> np.ndarray:
    """Spark's factor rows, placed at their ids (our matrix positions)."""
    vectors = np.vstack(factors["features"].to_numpy())
    out = np.zeros((size, vectors.shape[1]))
    out[factors["id"].to_numpy()] = vectors
    return out
