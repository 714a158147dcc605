"""The kinds of project mlscaffold generates: one source for `list`, the docs and the tests.

A kind is listed only when its template issue has made it complete; `templates/copier.yml`
offers exactly the complete kinds (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlscaffold.errors import UnknownKindError


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    summary: str
    complete: bool


KINDS: tuple[Kind, ...] = (
    Kind(
        name="sentiment-classifier",
        title="Sentiment classifier",
        summary="text classification: TF-IDF + logistic regression (transformer option); "
        "IMDB, SST-2, UCI sentences or your own CSV",
        complete=True,
    ),
    Kind(
        name="image-classifier",
        title="Image classifier",
        summary="PyTorch CNN on Fashion-MNIST-style images (planned)",
        complete=False,
    ),
    Kind(
        name="recommender",
        title="Recommender",
        summary="collaborative filtering on MovieLens-style ratings (planned)",
        complete=False,
    ),
    Kind(
        name="kaggle-entry",
        title="Kaggle competition entry",
        summary="tabular baseline with CV and a submission file (planned)",
        complete=False,
    ),
)


def available() -> list[Kind]:
    """Kinds a user can generate today."""
    return [kind for kind in KINDS if kind.complete]


def get(name: str) -> Kind:
    for kind in available():
        if kind.name == name:
            return kind
    raise UnknownKindError(name, [kind.name for kind in available()])
