"""Features: a documented Titanic set (switch off with features.titanic: false for another
competition), column types inferred from the data (overridable), and the preprocessing."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .settings import FeatureSettings

COMMON_TITLES = ("Mr", "Mrs", "Miss", "Master")
TITLE_ALIASES = {"Mlle": "Miss", "Ms": "Miss", "Mme": "Mrs"}


def title(name: pd.Series) -> pd.Series:
    """ "Braund, Mr. Owen Harris" → Mr; rare titles (Dr, Rev, Countess...) → Rare."""
    found = name.astype(str).str.extract(r",\s*([^\.]+)\.", expand=False).str.strip()
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


def preprocessor(numeric: list[str], categorical: list[str], scale: bool) -> ColumnTransformer:
    """Numbers: median-imputed (and scaled for linear models); categories: most frequent
    imputed, one-hot encoded, unknown test categories ignored."""
    numbers = [("impute", SimpleImputer(strategy="median"))]
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
