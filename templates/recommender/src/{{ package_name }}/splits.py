"""The splits the field uses, built so that no test interaction reaches training, the
"already seen" filters or the popularity counts."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd


def random_split(
    ratings: pd.DataFrame, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random share of all ratings held out (rating prediction)."""
    rng = np.random.default_rng(seed)
    is_test = rng.random(len(ratings)) < test_size
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def kfold(
    ratings: pd.DataFrame, folds: int, seed: int
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Each rating in exactly one test fold."""
    fold = np.random.default_rng(seed).permutation(len(ratings)) % folds
    for k in range(folds):
        yield ratings[fold != k].reset_index(drop=True), ratings[fold == k].reset_index(drop=True)


def leave_last_out(ratings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each user's latest interaction held out (users with at least two): top-N as in use,
    predicting what comes next from what came before."""
    ordered = ratings.reset_index(drop=True).sort_values(["user", "timestamp"], kind="stable")
    last = ~ordered.duplicated("user", keep="last")
    enough = ordered.groupby("user")["user"].transform("size") >= 2
    is_test = last & enough
    return (
        ordered[~is_test].reset_index(drop=True),
        ordered[is_test].reset_index(drop=True),
    )
