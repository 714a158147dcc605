"""Rating and top-N metrics, written out so they can be checked by hand."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def rmse(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(truth, float) - predicted) ** 2)))


def mae(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(truth, float) - predicted)))


def ranking(
    recommended: np.ndarray, relevant: Sequence[set[int]], n_items: int, k: int
) -> dict[str, float]:
    """Precision, recall, NDCG, MAP and hit rate at k (averaged over users), and catalogue
    coverage (share of all items recommended to someone). `recommended`: item columns,
    best first, one row per user; `relevant`: each user's held-out items."""
    top = recommended[:, :k]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    precision, recall, ndcg, average_precision, hits = [], [], [], [], []
    for row, wanted in zip(top, relevant, strict=True):
        if not wanted:
            continue
        gains = np.array([item in wanted for item in row], dtype=float)
        found = gains.sum()
        precision.append(found / k)
        recall.append(found / len(wanted))
        ideal = discounts[: min(len(wanted), k)].sum()
        ndcg.append(float(gains @ discounts[: len(gains)]) / ideal)
        cumulative = np.cumsum(gains) / np.arange(1, len(gains) + 1)
        average_precision.append(float((cumulative * gains).sum()) / min(len(wanted), k))
        hits.append(float(found > 0))
    return {
        f"precision@{k}": round(float(np.mean(precision)), 4),
        f"recall@{k}": round(float(np.mean(recall)), 4),
        f"ndcg@{k}": round(float(np.mean(ndcg)), 4),
        f"map@{k}": round(float(np.mean(average_precision)), 4),
        f"hit_rate@{k}": round(float(np.mean(hits)), 4),
        f"coverage@{k}": round(len(np.unique(top)) / n_items, 4),
    }
