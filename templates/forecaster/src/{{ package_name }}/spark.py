"""The scale-out engine (`model.engine: spark`): the same statsforecast models run on a Spark
cluster through fugue, series spread over the executors; forecasts come back as pandas, so
choosing, scoring and serving are the very same code. Local mode (`local[2]`) by default."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import pandas as pd

from .plumbing.errors import ConfigError
from .settings import Settings

HINT = 'pip install -e ".[spark]" (Spark needs Java 17), or set model.engine: pandas'


def session(config: Settings) -> Any:
    """The Spark session of model.spark.master (one per process: starting one takes
    seconds), its Python workers this interpreter."""
    try:
        import fugue  # noqa: F401  (statsforecast's bridge to Spark)
        from pyspark.sql import SparkSession
    except ImportError as exc:
        missing = "model.engine is spark but pyspark or fugue is not installed"
        raise ConfigError(missing, HINT) from exc
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(config.model.spark.master)
        .appName("forecaster")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(config.model.spark.partitions))
        .getOrCreate()
    )


def run(config: Settings, series: pd.DataFrame, call: Callable[[Any], Any]) -> pd.DataFrame:
    """`call(df)` with `series` as a Spark DataFrame; the result back in pandas, numbers as
    float64 (Spark hands them back as float32)."""
    spark = session(config)
    frame = spark.createDataFrame(series[["unique_id", "ds", "y"]])
    found = call(frame).toPandas()
    numbers = [c for c in found.columns if c not in ("unique_id", "ds", "cutoff")]
    found[numbers] = found[numbers].astype("float64")
    return found
