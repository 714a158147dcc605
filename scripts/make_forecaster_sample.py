"""Generate the forecaster template's bundled sample (synthetic, so it may be redistributed).

A monthly retail panel (16 series x 144 months: trend, yearly seasonality, promotions, two
intermittent slow movers) in long format unique_id, ds, y. The generator lives in the package
(mlscaffold.cohort.generators.forecaster), where the grader also makes fresh series with it.

    python scripts/make_forecaster_sample.py   # rewrites templates/forecaster/data/sample/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mlscaffold.cohort.generators import forecaster  # noqa: E402

OUT = ROOT / "templates" / "forecaster" / "data" / "sample"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write (the template's)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    path = out / "series.csv"
    path.write_bytes(forecaster.csv_text(forecaster.bundled()).encode("utf-8"))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
