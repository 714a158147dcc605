"""Features: a documented Titanic set (switch off with features.titanic: false for another
competition), column types inferred from the data (overridable), and the preprocessing."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .settings import FeatureSettings

COMMON_TITLES = ("Mr", "Mrs", "Miss", "Master")
TITLE_ALIASES = {"Mlle": "Miss", "Ms": "Miss", "Mme": "Mrs"}
TITLE = re.compile(r",\s*([^\.]+)\.")
SKEWED = 0.75  # |skewness| above which a non-negative number is taken as a log (linear models)


def title(name: pd.Series) -> pd.Series:
    """ "Braund, Mr. Owen Harris" → Mr; rare titles (Dr, Rev, Countess...) → Rare."""
    found = name.astype(str).str.extract(TITLE.pattern, expand=False).str.strip()
    found = found.replace(TITLE_ALIASES)
    return found.where(found.isin(COMMON_TITLES), "Rare")


class TitanicFeatures(BaseEstimator, TransformerMixin):
    """Title (from Name), FamilySize and IsAlone (SibSp + Parch), Deck (Cabin's letter, U when
    unknown), TicketGroup (passengers sharing the ticket, counted on the training rows) and
    FarePerPerson. Name, Ticket and Cabin are then dropped."""

    def fit(self, X: pd.DataFrame, y: Any = None) -> TitanicFeatures:
        self.ticket_counts_ = X["Ticket"].value_counts() if "Ticket" in X else pd.Series()
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        if "Name" in out:
            out["Title"] = title(out["Name"])
        if {"SibSp", "Parch"} <= set(out.columns):
            out["FamilySize"] = out["SibSp"] + out["Parch"] + 1
            out["IsAlone"] = (out["FamilySize"] == 1).astype(int)
        if "Cabin" in out:
            out["Deck"] = out["Cabin"].fillna("U").astype(str).str[0]
        if "Ticket" in out:
            out["TicketGroup"] = out["Ticket"].map(self.ticket_counts_).fillna(1).astype(float)
            if "Fare" in out:
                out["FarePerPerson"] = out["Fare"] / out["TicketGroup"]
        return out.drop(columns=[c for c in ("Name", "Ticket", "Cabin") if c in out])

    def transform_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """`transform` of one row given as {column: value} (None: unknown), without pandas
        (serving: a one-row DataFrame costs more than the model); the same values."""
        out = dict(row)
        if "Name" in out:
            name = out["Name"]
            found = TITLE.search("nan" if _missing(name) else str(name))
            title = found.group(1).strip() if found else ""
            title = TITLE_ALIASES.get(title, title)
            out["Title"] = title if title in COMMON_TITLES else "Rare"
        if "SibSp" in out and "Parch" in out:
            size = _number(out["SibSp"]) + _number(out["Parch"]) + 1
            out["FamilySize"], out["IsAlone"] = size, int(size == 1)
        if "Cabin" in out:
            cabin = "U" if _missing(out["Cabin"]) else str(out["Cabin"])
            out["Deck"] = cabin[0] if cabin else math.nan
        if "Ticket" in out:
            lookup = getattr(self, "ticket_lookup_", None)
            if lookup is None:
                lookup = self.ticket_lookup_ = self.ticket_counts_.to_dict()
            ticket = out["Ticket"]
            group = math.nan if _missing(ticket) else lookup.get(ticket, math.nan)
            out["TicketGroup"] = 1.0 if _missing(group) else float(group)
            if "Fare" in out:
                out["FarePerPerson"] = _number(out["Fare"]) / out["TicketGroup"]
        for column in ("Name", "Ticket", "Cabin"):
            out.pop(column, None)
        return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: Any) -> float:
    return math.nan if _missing(value) else float(value)


class SkewedLog(BaseEstimator, TransformerMixin):
    """log1p of the non-negative numeric columns whose skewness is above SKEWED (prices,
    areas, counts), learnt on the training rows; other columns pass unchanged. For linear
    models, which fit a straight line where a log is straighter."""

    def fit(self, X: Any, y: Any = None) -> SkewedLog:
        values = np.asarray(X, dtype=float)
        centred = values - values.mean(axis=0)
        spread = np.sqrt((centred**2).mean(axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            skew = np.where(spread > 0, (centred**3).mean(axis=0) / spread**3, 0.0)
        self.skewed_ = (np.abs(skew) > SKEWED) & (values >= 0).all(axis=0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        values = np.array(X, dtype=float)
        values[:, self.skewed_] = np.log1p(np.clip(values[:, self.skewed_], 0, None))
        return values


def infer_columns(frame: pd.DataFrame, config: FeatureSettings) -> tuple[list[str], list[str]]:
    """(numeric, categorical): from the config when given, else from the data's types; text
    columns with more than `max_categories` values (names, free text) are left out."""
    columns = [c for c in frame.columns if c not in set(config.drop)]
    numeric = config.numeric
    if numeric is None:
        numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
    categorical = config.categorical
    if categorical is None:
        categorical = [
            c
            for c in columns
            if c not in numeric and frame[c].nunique(dropna=True) <= config.max_categories
        ]
    unknown = sorted((set(numeric) | set(categorical)) - set(frame.columns))
    if unknown:
        from .plumbing.errors import ConfigError

        raise ConfigError(
            f"features lists column(s) the data does not have: {', '.join(unknown)}",
            "fix features.numeric / features.categorical in configs/config.yaml",
        )
    return list(numeric), list(categorical)


def preprocessor(
    numeric: list[str], categorical: list[str], scale: bool, log_skewed: bool = False
) -> ColumnTransformer:
    """Numbers: median-imputed (logs of skewed ones and scaled, for linear models);
    categories: most frequent imputed, one-hot encoded, unknown test categories ignored."""
    numbers: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if log_skewed:
        numbers.append(("log", SkewedLog()))
    if scale:
        numbers.append(("scale", StandardScaler()))
    categories = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer(
        [("numeric", Pipeline(numbers), numeric), ("categorical", categories, categorical)],
        remainder="drop",
    )
