"""The final test: every model's forecasts of each series' last `horizon` points (fitted on
what precedes them) scored with the M4 measures; reports/forecasts.csv, the figures, and
the results table of every model beside the baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import metrics
from . import model as model_lib
from .plumbing import persist
from .plumbing.paths import Paths
from .plumbing.reporting import Evaluation
from .settings import Settings

COLUMNS = [
    ("mase", "MASE"),
    ("smape", "sMAPE"),
    ("owa", "OWA"),
    ("msis", "MSIS"),
    ("coverage", "95% coverage"),
]
FORECASTS = "forecasts.csv"


def load_backtest(paths: Paths) -> pd.DataFrame:
    path = paths.models / model_lib.BACKTEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make train` first")
    frame = pd.read_csv(path, dtype={"unique_id": str}, parse_dates=["ds", "cutoff"])
    return frame


def _models(frame: pd.DataFrame) -> list[str]:
    """The models with forecasts in `frame`, candidates first, then the baselines."""
    found = [c for c in frame.columns if f"{c}-lo-{model_lib.LEVEL}" in frame.columns]
    rest = [c for c in found if c not in model_lib.BASELINES]
    return [*rest, *[b for b in model_lib.BASELINES if b in found]]


def _table(summary: dict[str, dict[str, float]], champion: str, names: dict[str, str]) -> str:
    lines = ["| model | " + " | ".join(t for _, t in COLUMNS) + " |"]
    lines.append("|---|" + "---:|" * len(COLUMNS))
    for key, values in summary.items():
        title = f"**{names.get(key, key)}** (champion)" if key == champion else key
        cells = " | ".join(f"{values.get(k, float('nan')):.3f}" for k, _ in COLUMNS)
        lines.append(f"| {title} | {cells} |")
    return "\n".join(lines)


def _plot_series(
    paths: Paths, test: pd.DataFrame, per: pd.DataFrame, champion: str, served: dict
) -> str:
    """History, test values and the champion's forecast with its 95% interval for the
    best, median and worst series by MASE."""
    from .plumbing.plots import plt, save

    ranked = per[per["model"] == champion].dropna(subset=["mase"]).sort_values("mase")
    picks = [ranked.iloc[0], ranked.iloc[len(ranked) // 2], ranked.iloc[-1]]
    fig, axes = plt.subplots(len(picks), 1, figsize=(8, 2.6 * len(picks)))
    history = served["history"]
    for ax, (what, row) in zip(axes, zip(("best", "median", "worst"), picks, strict=True),
                               strict=True):  # fmt: skip
        uid = row["unique_id"]
        window = test[test["unique_id"] == uid]
        past = history[(history["unique_id"] == uid) & (history["ds"] < window["ds"].min())]
        ax.plot(past["ds"], past["y"], color="black", lw=1, label="history")
        ax.plot(window["ds"], window["y"], color="black", lw=1, ls="--", label="actual (test)")
        ax.plot(window["ds"], window[champion], color="tab:blue", lw=1.5, label="forecast")
        ax.fill_between(
            window["ds"],
            window[f"{champion}-lo-95"],
            window[f"{champion}-hi-95"],
            color="tab:blue",
            alpha=0.2,
            label="95% interval",
        )
        ax.set_title(f"{what} series by MASE: {uid} (MASE {row['mase']:.2f})", fontsize=9)
    axes[0].legend(fontsize=7, loc="upper left")
    save(fig, paths.figures / "forecasts.png")
    return "reports/figures/forecasts.png"


def _plot_steps(paths: Paths, cv: pd.DataFrame, models: list[str]) -> str:
    """Scaled absolute error (MASE's terms) by step ahead, mean over the CV windows."""
    from .plumbing.plots import plt, save

    frame = cv.sort_values(["unique_id", "cutoff", "ds"]).copy()
    frame["step"] = frame.groupby(["unique_id", "cutoff"]).cumcount() + 1
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for name in models:
        error = (frame["y"] - frame[name]).abs() / frame["scale"]
        ax.plot(error.groupby(frame["step"]).mean(), label=name, lw=1.4)
    ax.set_xlabel("steps ahead")
    ax.set_ylabel("scaled absolute error")
    ax.set_title("Rolling-origin CV error by horizon step")
    ax.legend(fontsize=7)
    save(fig, paths.figures / "cv_error_by_step.png")
    return "reports/figures/cv_error_by_step.png"


def _plot_distribution(paths: Paths, per: pd.DataFrame, champion: str) -> str:
    from .plumbing.plots import plt, save

    fig, ax = plt.subplots(figsize=(7, 3.6))
    values = [per[per["model"] == n]["mase"].dropna() for n in (champion, "SeasonalNaive")]
    top = max(float(np.quantile(np.concatenate(values), 0.98)), 1e-9)
    bins = np.linspace(0, top, 30)
    for name, data in zip((champion, "SeasonalNaive"), values, strict=True):
        ax.hist(data.clip(upper=top), bins=bins, alpha=0.5, label=name)
    ax.set_xlabel("MASE on the test window (per series)")
    ax.set_ylabel("series")
    ax.set_title("Distribution of MASE across series")
    ax.legend(fontsize=7)
    save(fig, paths.figures / "mase_distribution.png")
    return "reports/figures/mase_distribution.png"


def write_forecasts(paths: Paths, test: pd.DataFrame, members: list[str]) -> pd.DataFrame:
    """reports/forecasts.csv: the champion's forecasts of the test window."""
    found = model_lib.combine(test, members)
    paths.reports.mkdir(parents=True, exist_ok=True)
    found.to_csv(paths.reports / FORECASTS, index=False)
    return found


def evaluate(config: Settings, paths: Paths) -> Evaluation:
    served = persist.load(paths.models / model_lib.MODEL_FILE)
    backtest = load_backtest(paths)
    test = backtest[backtest["window"] == "test"].copy()
    cv = backtest[backtest["window"] == "cv"].copy()
    members = served["members"]
    champion = model_lib.ENSEMBLE if len(members) > 1 else members[0]
    names = _models(test)
    per = metrics.score(test, names)
    summary = metrics.summary(per)
    write_forecasts(paths, test, members)
    figures = [
        ("Forecasts", _plot_series(paths, test, per, champion, served)),
        ("CV error by step", _plot_steps(paths, cv, [champion, "SeasonalNaive", "Naive2"])),
        ("MASE across series", _plot_distribution(paths, per, champion)),
    ]
    label = {champion: served["name"]}
    series = test["unique_id"].nunique()
    notes = [
        f"Final test: the last {config.data.horizon} points of each of {series} series, "
        f"never used to choose; the champion, {served['name']}, was chosen on "
        f"{config.cv.n_windows}-window rolling-origin CV MASE. MASE is scaled by the "
        "in-sample seasonal naive (m = "
        f"{config.data.season_length[0]}); OWA is relative to Naive2 (below 1 beats it). "
        "Every model on the test window:",
        "",
        _table(summary, champion, label),
    ]
    zeros = int(test.groupby("unique_id")["y"].apply(lambda y: (y == 0).any()).sum())
    if zeros:
        notes += [
            "",
            f"{zeros} series have zeros in the test window (intermittent demand): sMAPE "
            "counts 200 for every zero not forecast as exactly 0, so sMAPE and OWA weigh "
            "them heavily; MASE is the fairer measure there.",
        ]
    return Evaluation(
        model_name=served["name"],
        model=summary[champion],
        baseline_name="SeasonalNaive",
        baseline=summary["SeasonalNaive"],
        columns=COLUMNS,
        figures=figures,
        notes=notes,
        extra={
            "models": summary,
            "cv": served["cv"],
            "champion": served["name"],
            "members": members,
            "horizon": config.data.horizon,
            "season_length": list(config.data.season_length),
            "series": int(series),
            "forecasts": f"reports/{FORECASTS}",
        },
    )
