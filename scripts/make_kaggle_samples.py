"""Regenerate the Kaggle template's synthetic samples (templates/_samples/kaggle-entry/).

    python scripts/make_kaggle_samples.py

Kaggle's files may not be redistributed, so the samples are generated: a Titanic-schema
passenger list whose survival follows the well-known pattern (sex, class, age, family), and
generic binary / multiclass / regression tables for any other competition. Headers use the
template's answers (`{{ id_column }}`, `{{ target_column }}`); nothing here is real data.
The generator lives in the package (mlscaffold.cohort.generators.kaggle), where the grader
also makes fresh held-out tables with it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mlscaffold.cohort.generators import kaggle  # noqa: E402

OUT = ROOT / "templates" / "_samples" / "kaggle-entry"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write (the template's)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for sample, tables in kaggle.bundled().items():  # titanic, binary, multiclass, regression
        for part, table in tables.items():
            (out / f"{sample}_{part}.csv").write_bytes(kaggle.csv_text(table).encode("utf-8"))
    print(f"wrote {len(list(out.glob('*.csv')))} files to {out}")


if __name__ == "__main__":
    main()
