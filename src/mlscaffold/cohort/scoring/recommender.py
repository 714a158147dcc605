"""recommender: each user's latest quarter of interactions held out, every user kept in
training; the project's `recommend` gives each user's top 10, scored with the kind's top-N
metrics against most-popular."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from mlscaffold.cohort.scoring import base, metrics

K = 10  # the kind's evaluate.k: its headline is ndcg@10
ITEMS_HEADER = ["item", "title", "genres"]

DRIVER_BODY = '''
def predict(root, inputs, paths):
    """Each user's top k unseen items from the saved model, through the project's `recommend`."""
    meta = json.loads((inputs / "users.json").read_text(encoding="utf-8"))
    module = project("predict")
    model = module.load_model(paths)
    k = int(meta["k"])
    found = {}
    for user in meta["users"]:
        rows, _ = module.recommend(model, str(user), k)
        found[str(user)] = [row["item"] for row in rows]
    return {"recommendations": found}
'''


def _order(values: list[str]) -> list[str]:
    return base.class_order(values)  # ids sort as the kind's index sorts them


class RecommenderAdapter:
    """Held out per user, by time: the latest quarter of each user's interactions (at least
    one, never the last one left), so every user is known to the model being graded."""

    kind = "recommender"

    def required(self, reference: Path, answers: dict[str, Any]) -> list[base.Need]:
        return [base.file_need("ratings.csv")]  # items.csv is made from the ids when missing

    def prepare(
        self, source: Path, sample: Path, inputs: Path, answers: dict[str, Any], seed: int = 0
    ) -> base.Holdout:
        path = source / "ratings.csv"
        header, rows = base.read_csv(path)
        if not {"user", "item"} <= set(header):
            raise base.PrepareError(f"{path} needs columns user and item, has {header}")
        rows = [row for row in rows if (row["user"] or "").strip() and (row["item"] or "").strip()]
        latest: dict[tuple[str, str], int] = {}  # repeated pairs: the last one counts (as the kind)
        for index, row in enumerate(rows):
            latest[(base.canonical(row["user"]), base.canonical(row["item"]))] = index
        rows = [rows[i] for i in sorted(latest.values())]
        users = [base.canonical(row["user"]) for row in rows]
        items = [base.canonical(row["item"]) for row in rows]
        times = self._times(rows)
        rng = random.Random(seed)
        tiebreak = [rng.random() for _ in rows]
        by_user: dict[str, list[int]] = {}
        for index, user in enumerate(users):
            by_user.setdefault(user, []).append(index)
        held: set[int] = set()
        for indices in by_user.values():
            indices.sort(key=lambda i: (times[i], tiebreak[i]))
            count = base.held_count(len(indices), keep=1)
            held.update(indices[len(indices) - count :])
        training = [i for i in range(len(rows)) if i not in held]
        catalogue = set(items[i] for i in training)
        relevant: dict[str, set[str]] = {}
        for i in held:
            if items[i] in catalogue:  # an item no training row has cannot be recommended
                relevant.setdefault(users[i], set()).add(items[i])
        if not relevant:
            raise base.PrepareError(f"{path} has too few interactions per user to hold any out")
        base.write_csv(sample / "ratings.csv", header, [rows[i] for i in training])
        self._items(source, sample, catalogue | set(items))
        order = _order(list(relevant))
        random.Random(seed + 1).shuffle(order)
        inputs.mkdir(parents=True, exist_ok=True)
        (inputs / "users.json").write_text(json.dumps({"users": order, "k": K}), encoding="utf-8")
        popular = self._popular(users, items, training, order)
        labels = {user: _order(list(relevant[user])) for user in order}
        info = {"k": K, "catalogue": _order(list(catalogue)), "popular": popular}
        return base.Holdout(labels, info)

    @staticmethod
    def _times(rows: list[dict[str, str]]) -> list[float]:
        """Timestamps as numbers; the file's order where there are none (as the kind does)."""
        try:
            return [float(row["timestamp"]) for row in rows]
        except (KeyError, TypeError, ValueError):
            return [float(index) for index in range(len(rows))]

    @staticmethod
    def _items(source: Path, sample: Path, known: set[str]) -> None:
        """items.csv as it is (the titles), or one made from the ids when there is none."""
        if (source / "items.csv").is_file():
            header, rows = base.read_csv(source / "items.csv")
            base.write_csv(sample / "items.csv", header, rows)
        else:
            rows = [{"item": item, "title": item, "genres": ""} for item in _order(list(known))]
            base.write_csv(sample / "items.csv", ITEMS_HEADER, rows)

    @staticmethod
    def _popular(
        users: list[str], items: list[str], training: list[int], wanted: list[str]
    ) -> dict[str, list[str]]:
        """The baseline's lists: the most interacted-with training items each user has not
        interacted with (in training), computed here from the training part."""
        counts: dict[str, int] = {}
        seen: dict[str, set[str]] = {}
        for i in training:
            counts[items[i]] = counts.get(items[i], 0) + 1
            seen.setdefault(users[i], set()).add(items[i])
        ids = _order(list(counts))
        position = {item: n for n, item in enumerate(ids)}
        ranked = sorted(ids, key=lambda item: (-counts[item], position[item]))
        popular = {}
        for user in wanted:
            mine = seen.get(user, set())
            top: list[str] = []
            for item in ranked:
                if item not in mine:
                    top.append(item)
                    if len(top) == K:
                        break
            popular[user] = top
        return popular

    def driver(self, package: str) -> str:
        return base.driver_source(self.kind, package, DRIVER_BODY)

    def score(self, predictions: Any, holdout: base.Holdout) -> dict[str, Any]:
        k = int(holdout.info["k"])
        catalogue = set(holdout.info["catalogue"])
        labels: dict[str, list[str]] = holdout.labels
        found = base.keyed(predictions, "recommendations", list(labels), "user")
        recommended = []
        for user in labels:
            values = found[user]
            if not isinstance(values, list) or len(values) > k:
                raise base.ScoringError(
                    f"the recommendations for user {user} are not a list of up to {k} items"
                )
            items = [base.student_key(value, "item") for value in values]
            if len(set(items)) != len(items):
                raise base.ScoringError(f"the recommendations for user {user} repeat an item")
            unknown = [
                value for value, item in zip(values, items, strict=True) if item not in catalogue
            ]
            if unknown:
                raise base.ScoringError(f"item {base.show(unknown[0])} is not in the training data")
            recommended.append(items)
        relevant = [set(labels[user]) for user in labels]
        popular = [holdout.info["popular"][user] for user in labels]
        return {
            "model": metrics.ranking(recommended, relevant, len(catalogue), k),
            "baseline": metrics.ranking(popular, relevant, len(catalogue), k),
            "headline": f"ndcg@{k}",
            "higher_is_better": True,
        }
