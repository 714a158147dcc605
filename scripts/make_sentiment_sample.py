"""Generate the sentiment template's bundled sample (synthetic, so it may be redistributed).

The real datasets (IMDB, SST-2, UCI) may not be copied into a template, so the offline
sample is written by this script: short reviews composed from phrase lists, with negations
and 6% label noise so that a model must really learn (the majority baseline sits near 0.5).
The generator lives in the package (mlscaffold.cohort.generators.sentiment), where the
grader also makes fresh held-out reviews with it.

    python scripts/make_sentiment_sample.py   # rewrites the sentiment template's data/sample/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mlscaffold.cohort.generators import sentiment  # noqa: E402

OUT = ROOT / "templates" / "sentiment-classifier" / "data" / "sample"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write (the template's)")
    out = parser.parse_args().out
    binary = out / "{% if sentiment_dataset != 'csv' %}reviews.csv{% endif %}"
    three = out / "{% if sentiment_dataset == 'csv' %}reviews.csv{% endif %}"
    out.mkdir(parents=True, exist_ok=True)
    for path, variant in ((binary, "binary"), (three, "three")):
        path.write_bytes(sentiment.csv_text(sentiment.bundled(variant)).encode("utf-8"))
    print(f"wrote {binary} and {three}")


if __name__ == "__main__":
    main()
