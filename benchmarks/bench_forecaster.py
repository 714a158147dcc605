"""The forecaster at the acceptance check's scale: train + evaluate wall time on this machine
and whether the champion beats seasonal naive (MASE) and Naive2 (OWA).

    python benchmarks/bench_forecaster.py [--project DIR] [--only hourly|weekly]

Two generated panels shaped like M4's: hourly (400 series of 700-960 points, horizon 48,
seasons 24 and 168) and weekly (350 series of 260-900 points, horizon 13, season 52), each
with a level, a trend, multiplicative seasonality and autocorrelated noise. Each runs
through a generated forecaster project's own `all` step (`data.dataset=csv`, the config the
answers freq/season_length/horizon would write), in that project's environment: pass an
installed project with --project, or one is generated and installed (uv) in a temporary
folder.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import subprocess
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

PANELS = {
    # name: (series, lengths, step, seasons, horizon, freq, candidates)
    "hourly": (400, (700, 960), timedelta(hours=1), [24, 168], 48, "h", "[mstl]"),
    "weekly": (350, (260, 900), timedelta(weeks=1), [52], 13, "W-SUN",
               "[auto_theta,mstl]"),
}  # fmt: skip


def panel(name: str, path: Path, seed: int = 0) -> int:
    """Write the panel as unique_id, ds, y; return its number of rows."""
    count, (shortest, longest), step, seasons, _, _, _ = PANELS[name]
    rng = random.Random(seed)
    start = datetime(2017, 1, 1) if name == "hourly" else datetime(2000, 1, 2)  # a Sunday
    rows = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["unique_id", "ds", "y"])
        for number in range(count):
            length = rng.randint(shortest, longest)
            level = rng.lognormvariate(math.log(500), 1.0)
            growth = rng.uniform(-0.0005, 0.001) * (24 / seasons[0])
            shapes = [
                [1 + rng.uniform(0.1, 0.5) * math.sin(2 * math.pi * (k / m) + rng.uniform(0, 6))
                 for k in range(m)]
                for m in seasons
            ]  # fmt: skip
            noise, state = rng.uniform(0.03, 0.1), 0.0
            first = start + step * rng.randint(0, 200)
            for t in range(length):
                state = 0.7 * state + rng.gauss(0, noise)
                value = level * math.exp(growth * t + state)
                for m, shape in zip(seasons, shapes, strict=True):
                    value *= shape[t % m]
                ds = first + step * t
                writer.writerow(
                    [f"{name[0].upper()}{number}", ds.isoformat(sep=" "), round(value, 2)]
                )
                rows += 1
    return rows


def project() -> Path:
    """A forecaster project with default answers, generated and installed (uv)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-forecaster-")) / "bench_fc"
    subprocess.run(
        ["mlscaffold", "new", "forecaster", str(folder), "--defaults", "--no-lock"], check=True
    )
    subprocess.run(["make", "install"], cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return folder


def run(folder: Path, name: str) -> dict:
    count, _, _, seasons, horizon, freq, candidates = PANELS[name]
    source = folder / "data" / f"bench_{name}.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    rows = panel(name, source)
    package = next(p.name for p in (folder / "src").iterdir() if (p / "steps.py").is_file())
    overrides = [
        "data.dataset=csv",
        f"data.source={source}",
        f"data.freq={freq}",
        f"data.season_length=[{','.join(map(str, seasons))}]",
        f"data.horizon={horizon}",
        f"model.candidates={candidates}",
        f"serve.max_batch={horizon}",
    ]
    python = folder / ".venv" / "bin" / "python"
    env = {**os.environ, "PYTHONPATH": str(folder / "src")}
    started = time.perf_counter()
    subprocess.run([str(python), "-m", package, "data", *overrides], cwd=folder, env=env,
                   check=True)  # fmt: skip
    data_seconds = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([str(python), "-m", package, "train", *overrides], cwd=folder, env=env,
                   check=True)  # fmt: skip
    subprocess.run([str(python), "-m", package, "evaluate", *overrides], cwd=folder, env=env,
                   check=True)  # fmt: skip
    seconds = time.perf_counter() - started
    report = json.loads((folder / "reports" / "metrics.json").read_text())
    models = report["models"]
    return {
        "panel": name,
        "series": count,
        "rows": rows,
        "data_s": round(data_seconds, 1),
        "train_evaluate_s": round(seconds, 1),
        "champion": report["model_name"],
        "mase": report["model"]["mase"],
        "mase_seasonal_naive": report["baseline"]["mase"],
        "owa": report["model"]["owa"],
        "smape": report["model"]["smape"],
        "models": {k: {m: round(v, 4) for m, v in d.items()} for k, d in models.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="an installed forecaster project")
    parser.add_argument("--only", choices=sorted(PANELS), help="one panel only")
    args = parser.parse_args()
    folder = args.project or project()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"forecaster benchmark in {folder} ({cores} cores)")
    for name in [args.only] if args.only else list(PANELS):
        found = run(folder, name)
        verdict = (
            "beats seasonal naive" if found["mase"] < found["mase_seasonal_naive"] else "LOSES"
        )
        verdict += " and Naive2" if found["owa"] < 1 else ", not Naive2"
        print(
            f"{name:7s} {found['series']} series, {found['rows']:,} rows: train+evaluate "
            f"{found['train_evaluate_s']:.0f} s (data {found['data_s']:.0f} s); "
            f"{found['champion']}: MASE {found['mase']:.3f} vs {found['mase_seasonal_naive']:.3f} "
            f"seasonal naive, OWA {found['owa']:.3f}, sMAPE {found['smape']:.2f} ({verdict})"
        )
        print(json.dumps(found["models"], indent=None))


if __name__ == "__main__":
    main()
