"""Text cleaning as a pipeline step, so training and prediction see exactly the same transform."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from sklearn.base import BaseEstimator, TransformerMixin

_TAG = re.compile(r"<[^>]+>")
_URL = re.compile(r"https?://\S+|www\.\S+")
_SPACE = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Unescape HTML entities, drop tags (IMDB has <br />), mask URLs, lowercase, squeeze spaces."""
    text = html.unescape(str(text))
    text = _TAG.sub(" ", text)
    text = _URL.sub(" url ", text)
    return _SPACE.sub(" ", text).strip().lower()


class TextCleaner(BaseEstimator, TransformerMixin):
    """scikit-learn transformer wrapping `clean_text` (stateless: fit learns nothing)."""

    def fit(self, texts: Iterable[str], labels: Iterable[str] | None = None) -> TextCleaner:
        return self

    def transform(self, texts: Iterable[str]) -> list[str]:
        return [clean_text(text) for text in texts]
