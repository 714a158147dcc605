"""The models: baselines (global mean, user/item biases, most popular), biased matrix
factorisation by alternating least squares for ratings, and EASE for top-N."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from .plumbing import persist

MODEL_FILE = "recommender.joblib"
EVAL_FILE = "evaluation.joblib"
LIBRARIES = ("numpy", "scipy", "pandas", "pyspark")


@dataclass
class Index:
    """Raw user/item ids ↔ rows and columns of the matrices."""

    users: np.ndarray
    items: np.ndarray

    @classmethod
    def of(cls, ratings: pd.DataFrame) -> Index:
        return cls(np.sort(ratings["user"].unique()), np.sort(ratings["item"].unique()))

    def user_rows(self, users: Any) -> np.ndarray:
        """Row of each user, -1 for users not seen in training (cold start)."""
        return _positions(self.users, users)

    def item_cols(self, items: Any) -> np.ndarray:
        return _positions(self.items, items)

    def matrix(self, ratings: pd.DataFrame) -> sparse.csr_matrix:
        """Binary user x item interactions (implicit feedback) of the known users and items."""
        rows, cols = self.user_rows(ratings["user"]), self.item_cols(ratings["item"])
        keep = (rows >= 0) & (cols >= 0)
        shape = (len(self.users), len(self.items))
        values = np.ones(int(keep.sum()), dtype=np.float32)
        return sparse.csr_matrix((values, (rows[keep], cols[keep])), shape=shape)


def _positions(known: np.ndarray, values: Any) -> np.ndarray:
    values = np.asarray(values)
    found = np.clip(np.searchsorted(known, values), 0, len(known) - 1)
    return np.where(known[found] == values, found, -1)


@dataclass
class BiasModel:
    """r = mean + user bias + item bias, shrunk towards 0 for users and items with few ratings."""

    index: Index
    mean: float = 0.0
    user_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    item_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def fit(self, ratings: pd.DataFrame, shrink: float = 10.0, epochs: int = 5) -> BiasModel:
        rows, cols = self.index.user_rows(ratings["user"]), self.index.item_cols(ratings["item"])
        values = ratings["rating"].to_numpy(float)
        self.mean = float(values.mean())
        self.user_bias = np.zeros(len(self.index.users))
        self.item_bias = np.zeros(len(self.index.items))
        for _ in range(epochs):
            residual = values - self.mean - self.user_bias[rows]
            self.item_bias = np.bincount(cols, residual, len(self.index.items)) / (
                np.bincount(cols, minlength=len(self.index.items)) + shrink
            )
            residual = values - self.mean - self.item_bias[cols]
            self.user_bias = np.bincount(rows, residual, len(self.index.users)) / (
                np.bincount(rows, minlength=len(self.index.users)) + shrink
            )
        return self

    def predict(self, users: Any, items: Any) -> np.ndarray:
        rows, cols = self.index.user_rows(users), self.index.item_cols(items)
        user = np.where(rows >= 0, self.user_bias[np.maximum(rows, 0)], 0.0)
        item = np.where(cols >= 0, self.item_bias[np.maximum(cols, 0)], 0.0)
        return self.mean + user + item


@dataclass
class FactorModel:
    """Biased matrix factorisation, r = mean + b_u + b_i + p_u . q_i, fitted by alternating
    least squares with regularisation weighted by each user's and item's number of ratings
    (Zhou et al. 2008). Unknown users or items fall back to the biases (cold start)."""

    index: Index
    factors: int
    reg: float
    reg_bias: float
    epochs: int
    seed: int = 0
    mean: float = 0.0
    user_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    item_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    user_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def _solve(self, fixed: np.ndarray, other_bias: np.ndarray, groups: Any, targets: Any):
        size = self.factors + 1
        penalty = np.diag([1.0] * self.factors + [self.reg_bias / self.reg])
        out = np.zeros((len(groups), size))
        for row, (columns, values) in enumerate(zip(groups, targets, strict=True)):
            if len(columns) == 0:
                continue
            design = np.hstack([fixed[columns], np.ones((len(columns), 1))])
            target = values - self.mean - other_bias[columns]
            gram = design.T @ design + self.reg * len(columns) * penalty
            out[row] = np.linalg.solve(gram, design.T @ target)
        return out[:, : self.factors], out[:, self.factors]

    def fit(self, ratings: pd.DataFrame) -> FactorModel:
        rows, cols = self.index.user_rows(ratings["user"]), self.index.item_cols(ratings["item"])
        values = ratings["rating"].to_numpy(float)
        n_users, n_items = len(self.index.users), len(self.index.items)
        rng = np.random.default_rng(self.seed)
        self.mean = float(values.mean())
        self.user_factors = rng.normal(0, 0.1, (n_users, self.factors))
        self.item_factors = rng.normal(0, 0.1, (n_items, self.factors))
        self.user_bias, self.item_bias = np.zeros(n_users), np.zeros(n_items)
        by_user = sparse.csr_matrix((values, (rows, cols)), shape=(n_users, n_items))
        by_item = by_user.tocsc()
        user_groups = np.split(by_user.indices, by_user.indptr[1:-1])
        user_values = np.split(by_user.data, by_user.indptr[1:-1])
        item_groups = np.split(by_item.indices, by_item.indptr[1:-1])
        item_values = np.split(by_item.data, by_item.indptr[1:-1])
        for _ in range(self.epochs):
            self.user_factors, self.user_bias = self._solve(
                self.item_factors, self.item_bias, user_groups, user_values
            )
            self.item_factors, self.item_bias = self._solve(
                self.user_factors, self.user_bias, item_groups, item_values
            )
        return self

    def predict(self, users: Any, items: Any, low: float = 1.0, high: float = 5.0) -> np.ndarray:
        rows, cols = self.index.user_rows(users), self.index.item_cols(items)
        known_u, known_i = rows >= 0, cols >= 0
        r, c = np.maximum(rows, 0), np.maximum(cols, 0)
        score = (
            self.mean
            + np.where(known_u, self.user_bias[r], 0)
            + np.where(known_i, self.item_bias[c], 0)
        )
        both = known_u & known_i
        score[both] += np.sum(self.user_factors[r[both]] * self.item_factors[c[both]], axis=1)
        return np.clip(score, low, high)


@dataclass
class Popularity:
    """The most interacted-with items first: the ranking baseline every model must beat."""

    index: Index
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def fit(self, interactions: sparse.csr_matrix) -> Popularity:
        self.counts = np.asarray(interactions.sum(axis=0)).ravel()
        return self

    def scores(self, user_rows: np.ndarray) -> np.ndarray:
        return np.tile(self.counts.astype(np.float32), (len(user_rows), 1))


@dataclass
class Ease:
    """EASE (Steck 2019): B = I - P / diag(P) with P = (X'X + lambda I)^-1, diagonal zero.
    A closed form, strong on MovieLens; items with fewer interactions than
    `min_interactions` are scored by popularity alone."""

    index: Index
    lam: float
    min_interactions: int = 1
    weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    active: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    history: sparse.csr_matrix | None = None

    def fit(self, interactions: sparse.csr_matrix) -> Ease:
        counts = np.asarray(interactions.sum(axis=0)).ravel()
        self.active = counts >= self.min_interactions
        X = interactions[:, self.active]
        gram = (X.T @ X).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.lam
        inverse = np.linalg.inv(gram)
        weights = -inverse / np.diag(inverse)
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights = weights.astype(np.float32)
        self.history = interactions
        return self

    def scores(self, user_rows: np.ndarray) -> np.ndarray:
        assert self.history is not None
        scores = np.full((len(user_rows), len(self.index.items)), -np.inf, dtype=np.float32)
        seen = self.history[user_rows][:, self.active]
        scores[:, self.active] = seen @ self.weights
        return scores

    def similar(self, col: int, k: int) -> list[tuple[int, float]]:
        """Items whose EASE weights tie them most to item `col` ("because you liked...")."""
        active_cols = np.flatnonzero(self.active)
        where = np.flatnonzero(active_cols == col)
        if len(where) == 0:
            return []
        row = self.weights[where[0]] + self.weights[:, where[0]]
        best = np.argsort(-row)[:k]
        return [(int(active_cols[j]), float(row[j])) for j in best if row[j] > 0]


def top_k(scores: np.ndarray, seen: sparse.csr_matrix, k: int) -> np.ndarray:
    """Column indices of the k best unseen items per row (seen items never recommended)."""
    scores = scores.copy()
    rows, cols = seen.nonzero()
    scores[rows, cols] = -np.inf
    k = min(k, scores.shape[1])
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, best, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(best, order, axis=1)


@dataclass
class Recommender:
    """What `recommend` and `similar` load: models fitted on all interactions, titles."""

    index: Index
    rating: Any
    ranking: Ease
    popularity: Popularity
    titles: dict[int, str]
    seen: sparse.csr_matrix


def save(obj: Any, path: Path) -> None:
    persist.save(obj, path, LIBRARIES)


def load(path: Path) -> Any:
    return persist.load(path)
