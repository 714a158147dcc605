"""Cost of serve.py's strict JSON reading (parse_json) against plain json.loads, for the
bodies a project's API takes: texts (sentiment), rows of numbers (Kaggle), emoji escaped by
an ASCII-only client, and a one-row request (median of several runs).

    PROJECT/.venv/bin/python benchmarks/bench_serve.py PROJECT [--runs 7]

PROJECT is a generated project (any kind); run it with a Python that has the project's serve
extra (its `make install` environment). parse_json checks every number as it is read and walks
the parsed body only when something may be refused, so text costs little more than
json.loads and number-dense rows about twice as much.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _package(project: Path) -> str:
    found = [p.parent.name for p in (project / "src").glob("*/serve.py")]
    if len(found) != 1:
        sys.exit(f"{project}: not a generated project (no src/<package>/serve.py)")
    return found[0]


def _median_ms(read: Any, body: bytes, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        read(body)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    project = args.project.resolve()
    sys.path.insert(0, str(project / "src"))
    serve = importlib.import_module(f"{_package(project)}.serve")
    row = {"Id": 1, "Age": 22.5, "Name": "Braund, Mr. Owen", "Sex": "male", "Fare": 7.25}
    row |= {"Embarked": "S", "Pclass": 3, "SibSp": 1, "Parch": 0, "Cabin": None}
    bodies = {
        "texts, 1 MB": {"texts": ["an ordinary review of a film, nothing special " * 3] * 6500},
        "rows, 1 MB": {"rows": [{**row, "Id": i} for i in range(7500)]},
        "emoji escaped, 1 MB": {"texts": ["great film \U0001f600 " * 10] * 4500},
        "one row": {"rows": [row]},
    }
    print(f"{'body':<22}{'bytes':>10}{'json.loads':>14}{'parse_json':>14}{'ratio':>8}")
    for name, value in bodies.items():
        body = json.dumps(value).encode()
        plain = _median_ms(json.loads, body, args.runs)
        strict = _median_ms(serve.parse_json, body, args.runs)
        print(f"{name:<22}{len(body):>10}{plain:>12.2f}ms{strict:>12.2f}ms{strict / plain:>7.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
