"""The `evaluate` step: rating errors beside the bias and mean baselines, top-N metrics beside
most-popular on a random and a temporal split, and the metrics against K."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import metrics
from . import model as model_lib
from .plumbing import plots
from .plumbing.paths import Paths
from .plumbing.reporting import Evaluation
from .settings import Settings
from .train import held_out, recommend_rows


def _ranking(split: dict[str, Any], model: Any, ks: list[int]) -> dict[int, dict[str, float]]:
    index, test = split["index"], split["test"]
    users = test["user"][index.user_rows(test["user"]) >= 0].unique()
    recommended = recommend_rows(model, index, index.matrix(split["train"]), users, max(ks))
    relevant = held_out(index, test, users)
    return {k: metrics.ranking(recommended, relevant, len(index.items), k) for k in ks}


def _figure(paths: Paths, by_k: dict[str, dict[int, dict[str, float]]], ks: list[int]) -> None:
    fig, axes = plots.plt.subplots(1, 2, figsize=(8, 3.2))
    for ax, name in zip(axes, ("ndcg", "recall"), strict=True):
        for label, values in by_k.items():
            ax.plot(ks, [values[k][f"{name}@{k}"] for k in ks], marker="o", label=label)
        ax.set_xlabel("K (recommendations shown)")
        ax.set_ylabel(f"{name}@K")
        ax.set_xticks(ks)
    axes[0].legend(fontsize="small")
    fig.suptitle("Top-N on the temporal split (each user's latest interaction held out)")
    plots.save(fig, paths.figures / "ranking_at_k.png")


def evaluate(config: Settings, paths: Paths) -> Evaluation:
    bundle = model_lib.load(paths.models / model_lib.EVAL_FILE)
    random, temporal = bundle["random"], bundle["temporal"]
    test = random["test"]
    truth = test["rating"].to_numpy(float)
    k = config.evaluate.k
    ks = sorted(set(config.evaluate.k_values) | {k})
    rating = {
        "rmse": metrics.rmse(truth, random["rating"].predict(test["user"], test["item"])),
        "mae": metrics.mae(truth, random["rating"].predict(test["user"], test["item"])),
    }
    bias = random["bias"].predict(test["user"], test["item"])
    baseline = {"rmse": metrics.rmse(truth, bias), "mae": metrics.mae(truth, bias)}
    mean = np.full(len(truth), random["bias"].mean)
    ease_t, pop_t = (
        _ranking(temporal, temporal["ease"], ks),
        _ranking(temporal, temporal["popularity"], ks),
    )
    ease_r, pop_r = (
        _ranking(random, random["ease"], [k]),
        _ranking(random, random["popularity"], [k]),
    )
    _figure(paths, {"EASE": ease_t, "most popular": pop_t}, ks)
    model = {key: round(value, 4) for key, value in rating.items()} | ease_t[k]
    base = {key: round(value, 4) for key, value in baseline.items()} | pop_t[k]
    return Evaluation(
        model_name="matrix factorisation (ALS) + EASE",
        model=model,
        baseline_name="user/item biases + most popular",
        baseline=base,
        columns=[
            ("rmse", "RMSE"),
            ("mae", "MAE"),
            (f"ndcg@{k}", f"NDCG@{k}"),
            (f"precision@{k}", f"precision@{k}"),
            (f"recall@{k}", f"recall@{k}"),
            (f"map@{k}", f"MAP@{k}"),
            (f"hit_rate@{k}", f"hit rate@{k}"),
            (f"coverage@{k}", f"coverage@{k}"),
        ],  # fmt: skip
        figures=[("Top-N against K", "reports/figures/ranking_at_k.png")],
        notes=[
            f"Ratings: random {1 - config.split.test_size:.0%}/{config.split.test_size:.0%} "
            f"split of {len(random['train']) + len(test)} ratings; the global mean scores RMSE "
            f"{metrics.rmse(truth, mean):.3f}. Top-N: each user's latest interaction held out "
            f"(temporal); on the random split EASE reaches NDCG@{k} "
            f"{ease_r[k][f'ndcg@{k}']:.3f} against {pop_r[k][f'ndcg@{k}']:.3f} for most popular."
        ],
        extra={
            "global_mean_rmse": round(metrics.rmse(truth, mean), 4),
            "random_split_ranking": {"model": ease_r[k], "baseline": pop_r[k]},
            "temporal_at_k": {
                "model": {str(x): ease_t[x] for x in ks},
                "baseline": {str(x): pop_t[x] for x in ks},
            },
            "seed": config.seed,
        },  # fmt: skip
    )
