"""The forecaster on Tourism Monthly (its default dataset) beside the published figures.

    python benchmarks/bench_forecaster_realdata.py --project DIR --zip tourism_monthly_dataset.zip
    python benchmarks/bench_forecaster_realdata.py --project DIR --csv tourism.csv

DIR is an installed forecaster project with default answers (`mlscaffold new forecaster DIR
--defaults && make -C DIR install`). `--zip`: the Monash archive's file from Zenodo (record
4656096; the project checks its sha256), put in the project's data/raw/ so `data` reads it
offline. `--csv`: the same series in long format (unique_id, ds, y), for a copy of the data
from elsewhere. Runs the project's own data → train → evaluate (horizon 24, season 12, the
competition's protocol) and prints every model's MASE and sMAPE on the final 24 months
beside the published figures, and the wall time. The seasonal naive's MASE must equal the
published one: it has no parameters, so it checks the data and the metric code.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

# MASE on Tourism Monthly, horizon 24, m = 12: the tourism competition's seasonal naive
# (Athanasopoulos et al. 2011) and the Monash archive's baselines (Godahewa et al. 2021).
# Quoted as we read them; check against the papers before citing.
PUBLISHED = {
    "SeasonalNaive": 1.631,
    "ETS (Monash)": 1.526,
    "Theta (Monash)": 1.649,
    "ARIMA (Monash)": 1.589,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True)
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--zip", type=Path, help="tourism_monthly_dataset.zip from Zenodo")
    given.add_argument("--csv", type=Path, help="the series in long format unique_id, ds, y")
    args = parser.parse_args()
    project = args.project.resolve()
    package = next(p.name for p in (project / "src").iterdir() if (p / "steps.py").is_file())
    overrides: list[str] = []
    if args.zip:
        raw = project / "data" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.zip, raw / "tourism_monthly_dataset.zip")  # the name `data` keeps
    else:
        overrides = [
            "data.dataset=csv",
            f"data.source={args.csv.resolve()}",
            "data.freq=MS",
            "data.season_length=[12]",
            "data.horizon=24",
        ]
    python = project / ".venv" / "bin" / "python"
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    started = time.perf_counter()
    for step in ("data", "train", "evaluate"):
        done = subprocess.run([str(python), "-m", package, step, *overrides], cwd=project, env=env)
        if done.returncode != 0:
            sys.exit(f"`{step}` failed (exit {done.returncode})")
    seconds = time.perf_counter() - started
    report = json.loads((project / "reports" / "metrics.json").read_text(encoding="utf-8"))
    print(f"\nTourism Monthly, last 24 months of each series; {seconds:.0f} s on {os.cpu_count()}"
          f" cores, load {os.getloadavg()[0]:.1f} at the end")  # fmt: skip
    print(f"{'model':<32} {'MASE':>8} {'sMAPE':>8} {'OWA':>7}   published MASE")
    for name, scores in report["models"].items():
        mark = " (champion)" if name == report.get("model_name") else ""
        published = PUBLISHED.get(name, "")
        print(f"{name + mark:<32} {scores['mase']:8.4f} {scores['smape']:8.2f} "
              f"{scores.get('owa', float('nan')):7.3f}   {published}")  # fmt: skip
    for name, value in PUBLISHED.items():
        if name not in report["models"]:
            print(f"{name:<32} {'':>8} {'':>8} {'':>7}   {value}")


if __name__ == "__main__":
    main()
