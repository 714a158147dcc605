"""The `train` step: parameters chosen on validation splits (never on a test split), models
fitted for evaluation on the training parts, and the final models on every interaction."""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from . import metrics
from . import model as model_lib
from .data import load
from .model import BiasModel, Ease, FactorModel, Index, Popularity, Recommender, top_k
from .plumbing.paths import Paths
from .settings import Settings
from .splits import kfold, leave_last_out, random_split


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _scores(scores: dict[str, float]) -> str:
    """{"0.05": 0.93121..., "0.1": 0.92807...} → "(0.05: 0.9312, 0.1: 0.9281)"."""
    return "(" + ", ".join(f"{key}: {value:.4f}" for key, value in scores.items()) + ")"


def rating_model(config: Settings, train: pd.DataFrame, reg: float) -> Any:
    index = Index.of(train)
    if config.model.engine == "spark":
        from .spark import fit_als

        return fit_als(config, train, index)
    rating = config.model.rating
    return FactorModel(
        index, rating.factors, reg, rating.reg_bias, rating.epochs, seed=config.seed
    ).fit(train)


def choose_reg(config: Settings, train: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """The regularisation with the lowest RMSE on a validation split of the training part."""
    fit, valid = random_split(train, config.split.validation_size, config.seed + 1)
    if config.model.engine == "spark" or len(config.model.rating.reg_grid) == 1:
        return config.model.rating.reg_grid[0], {}
    scores = {}
    for reg in config.model.rating.reg_grid:
        model = rating_model(config, fit, reg)
        scores[str(reg)] = metrics.rmse(
            valid["rating"], model.predict(valid["user"], valid["item"])
        )
    best = min(scores, key=scores.get)  # type: ignore[arg-type]
    return float(best), scores


def ease(config: Settings, train: pd.DataFrame, lam: float) -> tuple[Ease, Popularity, Index]:
    index = Index.of(train)
    interactions = index.matrix(train)
    model = Ease(index, lam, config.model.ranking.min_item_interactions).fit(interactions)
    return model, Popularity(index).fit(interactions), index


def recommend_rows(model: Any, index: Index, seen: Any, users: np.ndarray, k: int) -> np.ndarray:
    rows = index.user_rows(users)
    return top_k(model.scores(rows), seen[rows], k)


def held_out(index: Index, test: pd.DataFrame, users: np.ndarray) -> list[set[int]]:
    cols = index.item_cols(test["item"])
    by_user: dict[Any, set[int]] = {}
    for user, col in zip(test["user"], cols, strict=True):
        if col >= 0:
            by_user.setdefault(user, set()).add(int(col))
    return [by_user.get(user, set()) for user in users]


def choose_lambda(config: Settings, train: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """The EASE lambda with the best NDCG@k when predicting each user's latest training
    interaction from the earlier ones."""
    fit, valid = leave_last_out(train)
    k = config.evaluate.k
    scores = {}
    for lam in config.model.ranking.lambda_grid:
        model, _, index = ease(config, fit, lam)
        users = valid["user"][index.user_rows(valid["user"]) >= 0].unique()
        recommended = recommend_rows(model, index, index.matrix(fit), users, k)
        relevant = held_out(index, valid, users)
        scores[str(lam)] = metrics.ranking(recommended, relevant, len(index.items), k)[f"ndcg@{k}"]
    best = max(scores, key=scores.get)  # type: ignore[arg-type]
    return float(best), scores


def train(config: Settings, paths: Paths) -> dict[str, Any]:
    ratings, items = load(paths)
    started = time.perf_counter()
    split = config.split
    train_r, test_r = random_split(ratings, split.test_size, config.seed)
    reg, reg_scores = choose_reg(config, train_r)
    if config.model.engine == "spark":
        spark = config.model.spark
        _log(f"rating model: Spark ALS on {spark.master}, rank {spark.rank}, reg {spark.reg_param}")
    else:
        _log(f"rating model: ALS, reg {reg} chosen on validation RMSE {_scores(reg_scores)}")
    rating = rating_model(config, train_r, reg)
    bias = BiasModel(Index.of(train_r)).fit(train_r)
    cv: list[float] = []
    for fold_train, fold_test in (
        kfold(ratings, split.folds, config.seed) if split.folds > 1 else []
    ):
        fold_model = rating_model(config, fold_train, reg)
        cv.append(
            metrics.rmse(
                fold_test["rating"], fold_model.predict(fold_test["user"], fold_test["item"])
            )
        )
        _log(f"fold {len(cv)}/{split.folds}: RMSE {cv[-1]:.4f}")
    train_t, test_t = leave_last_out(ratings)
    lam, lam_scores = choose_lambda(config, train_t)
    k = config.evaluate.k
    _log(f"ranking model (EASE): lambda {lam} chosen on validation NDCG@{k} {_scores(lam_scores)}")
    ease_t, pop_t, index_t = ease(config, train_t, lam)
    ease_r, pop_r, index_r = ease(config, train_r, lam)
    model_lib.save(
        {
            "random": {"train": train_r, "test": test_r, "rating": rating, "bias": bias,
                       "ease": ease_r, "popularity": pop_r, "index": index_r},
            "temporal": {"train": train_t, "test": test_t, "ease": ease_t,
                         "popularity": pop_t, "index": index_t},
        },
        paths.models / model_lib.EVAL_FILE,
    )  # fmt: skip
    final_ease, final_pop, final_index = ease(config, ratings, lam)
    titles = dict(zip(items["item"], items["title"], strict=True))
    model_lib.save(
        Recommender(final_index, rating_model(config, ratings, reg), final_ease, final_pop,
                    titles, final_index.matrix(ratings)),
        paths.models / model_lib.MODEL_FILE,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    summary: dict[str, Any] = {"reg": reg, "lambda": lam, "seconds": round(seconds, 2)}
    # NDCG@k of the chosen lambda on the validation split: what `runs` ranks by
    summary["validation"] = round(max(lam_scores.values()), 4)
    summary["validation_rmse"] = round(min(reg_scores.values()), 4) if reg_scores else None
    if cv:
        summary.update(
            cv_rmse=round(float(np.mean(cv)), 4), cv_rmse_std=round(float(np.std(cv)), 4)
        )
    _log(f"trained in {seconds:.1f} s")
    return summary
