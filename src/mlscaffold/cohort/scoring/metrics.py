"""The kinds' metrics in plain Python, defined as the generated projects define them
(scikit-learn's accuracy, macro scores with zero_division=0, log loss clipped at 1e-15,
ROC AUC; the Kaggle kind's RMSE of log1p; the recommender's ranking metrics), so that a number
from the grader means what the same name means in a project's reports/metrics.json."""

from __future__ import annotations

import math
from collections.abc import Sequence

LOG_LOSS_EPS = 1e-15  # the Kaggle kind clips probabilities to [1e-15, 1]


def _mean(values: Sequence[float]) -> float:
    """The mean, never an exception for odd values: finite ones whose sum passes the largest
    float are divided first (so the mean stays finite), an infinity gives an infinity, and
    +inf with -inf, or a NaN, gives NaN (a metric that is not finite fails its check)."""
    if not values:
        raise ValueError("no values to average")
    try:
        return math.fsum(values) / len(values)
    except OverflowError:  # an intermediate sum past 1.8e308: every term was finite
        return math.fsum(value / len(values) for value in values)
    except ValueError:  # inf + -inf
        return math.nan


def _square(value: float) -> float:
    return value * value  # past 1.8e308 this is inf, where `value ** 2` raises OverflowError


def accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    return _mean([float(t == p) for t, p in zip(truth, predicted, strict=True)])


def macro_scores(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> tuple[float, float, float]:
    """Macro-averaged (precision, recall, F1) over `labels`, 0 where a score is undefined
    (scikit-learn's `average="macro", zero_division=0`)."""
    precision, recall, f1 = [], [], []
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p != label)
        precision.append(tp / (tp + fp) if tp + fp else 0.0)
        recall.append(tp / (tp + fn) if tp + fn else 0.0)
        f1.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return _mean(precision), _mean(recall), _mean(f1)


def log_loss(true_class_probabilities: Sequence[float], eps: float = LOG_LOSS_EPS) -> float:
    """Mean negative log of the probability given to the true class, clipped to [eps, 1]."""
    return _mean([-math.log(min(max(p, eps), 1.0)) for p in true_class_probabilities])


def roc_auc(positive: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve from ranks (Mann-Whitney U), tied scores sharing the
    average of their ranks. None when the truth holds one class only (undefined)."""
    n_pos = sum(1 for p in positive if p)
    n_neg = len(positive) - n_pos
    if not n_pos or not n_neg:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        average = (start + end) / 2 + 1  # ranks are 1-based
        for i in order[start : end + 1]:
            ranks[i] = average
        start = end + 1
    rank_sum = math.fsum(r for r, p in zip(ranks, positive, strict=True) if p)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def top_k_accuracy(truth: Sequence[int], rows: Sequence[Sequence[float]], k: int) -> float:
    """Share of rows whose true class index is among the k most probable (ties: earlier
    class first, as a stable argsort)."""
    hits = []
    for t, row in zip(truth, rows, strict=True):
        best = sorted(range(len(row)), key=lambda i: -row[i])[:k]
        hits.append(float(t in best))
    return _mean(hits)


def rmse(truth: Sequence[float], predicted: Sequence[float]) -> float:
    """inf, not OverflowError, when a prediction is too far off to square (as numpy)."""
    return math.sqrt(_mean([_square(p - t) for t, p in zip(truth, predicted, strict=True)]))


def mae(truth: Sequence[float], predicted: Sequence[float]) -> float:
    return _mean([abs(p - t) for t, p in zip(truth, predicted, strict=True)])


def rmse_log(truth: Sequence[float], predicted: Sequence[float]) -> float:
    """House Prices' metric as the Kaggle kind computes it: RMSE between log1p of the
    prediction (negative ones clipped to 0) and log1p of the truth."""
    return math.sqrt(
        _mean(
            [
                _square(math.log1p(max(p, 0.0)) - math.log1p(t))
                for t, p in zip(truth, predicted, strict=True)
            ]
        )
    )


def ranking(
    recommended: Sequence[Sequence[str]], relevant: Sequence[set[str]], n_items: int, k: int
) -> dict[str, float]:
    """Precision, recall, NDCG, MAP and hit rate at k averaged over the users with something
    relevant, and catalogue coverage: the recommender kind's `metrics.ranking`, where a list
    shorter than k still counts k slots."""
    discounts = [1.0 / math.log2(position + 2) for position in range(k)]
    precision, recall, ndcg, average_precision, hits = [], [], [], [], []
    shown: set[str] = set()
    for row, wanted in zip(recommended, relevant, strict=True):
        top = list(row)[:k]
        shown.update(top)
        if not wanted:
            continue
        gains = [1.0 if item in wanted else 0.0 for item in top]
        found = sum(gains)
        cutoff = min(len(wanted), k)
        precision.append(found / k)
        recall.append(found / len(wanted))
        ndcg.append(
            math.fsum(g * d for g, d in zip(gains, discounts[: len(gains)], strict=True))
            / math.fsum(discounts[:cutoff])
        )
        running, total = 0.0, 0.0
        for position, gain in enumerate(gains, start=1):
            running += gain
            total += gain * running / position
        average_precision.append(total / cutoff)
        hits.append(float(found > 0))
    return {
        f"precision@{k}": _mean(precision),
        f"recall@{k}": _mean(recall),
        f"ndcg@{k}": _mean(ndcg),
        f"map@{k}": _mean(average_precision),
        f"hit_rate@{k}": _mean(hits),
        f"coverage@{k}": len(shown) / n_items if n_items else 0.0,
    }
