"""`recommend` and `similar`: titles with scores from the model fitted on every interaction.
Unknown users get the most popular items, with a note, never an error."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from . import model as model_lib
from .model import Recommender, top_k
from .plumbing.errors import DataError
from .plumbing.paths import Paths


def load_model(paths: Paths) -> Recommender:
    return model_lib.load(paths.models / model_lib.MODEL_FILE)


def _parse_id(value: str, known: np.ndarray) -> Any:
    """Ids are read as the type the data uses (MovieLens: integers)."""
    if np.issubdtype(known.dtype, np.integer):
        try:
            return int(value)
        except ValueError as exc:
            raise DataError(f"{value!r} is not an id of this data (ids are numbers)") from exc
    return value


def recommend(model: Recommender, user: str, k: int) -> tuple[list[dict[str, Any]], str | None]:
    """The k best unseen items for `user`, and a note when the user is unknown."""
    row = model.index.user_rows([_parse_id(user, model.index.users)])
    if row[0] < 0:  # cold start: nothing known about the user yet
        scores = model.popularity.scores(row)
        note = f"user {user} is new: the most popular items (score: number of ratings)"
        best = top_k(scores, sparse.csr_matrix(scores.shape), k)[0]
    else:
        scores, note = model.ranking.scores(row), None
        best = top_k(scores, model.seen[row], k)[0]
    items = model.index.items[best]
    return [
        {
            "item": item.item(),
            "title": model.titles.get(item, str(item)),
            "score": int(s) if note else round(float(s), 4),  # popularity counts ratings
        }
        for item, s in zip(items, scores[0, best], strict=True)
    ], note


def similar(model: Recommender, item: str, k: int) -> list[dict[str, Any]]:
    """Items most tied to `item` in the top-N model ("because you liked ...")."""
    col = model.index.item_cols([_parse_id(item, model.index.items)])[0]
    if col < 0:
        raise DataError(
            f"item {item} is not in the data", "pick an id from data/processed/items.csv"
        )
    found = model.ranking.similar(int(col), k)
    return [
        {"item": model.index.items[c].item(), "title": model.titles.get(model.index.items[c], ""),
         "score": round(s, 4)}
        for c, s in found
    ]  # fmt: skip


def title_of(model: Recommender, item: str) -> str:
    parsed = _parse_id(item, model.index.items)
    return str(model.titles.get(parsed, item))
