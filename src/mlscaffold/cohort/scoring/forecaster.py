"""forecaster: the last `horizon` points of every series held out, forecast by the project's
own refit model from what precedes them, scored with the M4 definitions (MASE scaled by the
in-sample seasonal naive, sMAPE on 0-200) beside the seasonal naive forecast itself."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from mlscaffold.cohort.scoring import base

SERIES_FILE = "series.csv"
COLUMNS = ("unique_id", "ds", "y")
DEFAULT_HORIZON = 24  # the template's default answers (tourism monthly)
DEFAULT_SEASON = 12

DRIVER_BODY = '''
def predict(root, inputs, paths):
    """The project's forecasts of `horizon` steps past the end of each series it trained
    on (`python -m PKG predict` makes the same), from its refit model."""
    meta = json.loads((inputs / "meta.json").read_text(encoding="utf-8"))
    frame = project("predict").forecast_all(root, horizon=meta["horizon"])
    forecasts = {}
    for uid, part in frame.groupby("unique_id", sort=False):
        forecasts[str(uid)] = [float(v) for v in part.sort_values("ds")["y_hat"]]
    return {"forecasts": forecasts}
'''


def _int(value: Any, default: int, what: str) -> int:
    try:
        number = int(value if value not in (None, "") else default)
    except (TypeError, ValueError):
        raise base.PrepareError(f"forecaster: {what} {value!r} is not a whole number") from None
    if number < 1:
        raise base.PrepareError(f"forecaster: {what} must be at least 1, not {number}")
    return number


def settings(answers: dict[str, Any]) -> tuple[int, int]:
    """(horizon, season length m for MASE: the first of the answers' season lengths)."""
    horizon = _int(answers.get("horizon"), DEFAULT_HORIZON, "horizon")
    seasons = str(answers.get("season_length") or DEFAULT_SEASON).replace(" ", "")
    return horizon, _int(seasons.split(",")[0], DEFAULT_SEASON, "season_length")


def read_series(path: Path) -> dict[str, list[tuple[str, float]]]:
    """Each series' (ds, y) points in time order, as the long-format CSV holds them."""
    header, rows = base.read_csv(path)
    for column in COLUMNS:
        if column not in header:
            raise base.PrepareError(f"{path} has no column {column!r} (unique_id, ds, y)")
    series: dict[str, list[tuple[str, float]]] = {}
    for number, row in enumerate(rows, start=2):
        try:
            value = float(row["y"])
        except (TypeError, ValueError):
            shown = base.show(row["y"])
            raise base.PrepareError(f"{path}, row {number}: y {shown} is not a number") from None
        if not math.isfinite(value):
            raise base.PrepareError(f"{path}, row {number}: y is not a finite number")
        series.setdefault(row["unique_id"], []).append((row["ds"], value))
    for uid, points in series.items():
        points.sort(key=lambda point: point[0])  # ISO dates and times sort as text
        stamps = [ds for ds, _ in points]
        if len(set(stamps)) != len(stamps):
            raise base.PrepareError(f"{path}: series {uid!r} repeats a timestamp")
    return series


def seasonal_scale(values: list[float], m: int) -> float:
    """MASE's denominator: the in-sample mean absolute error of the seasonal naive forecast
    (the naive one where a series is shorter than a season and one point)."""
    lag = m if len(values) > m else 1
    diffs = [abs(values[t] - values[t - lag]) for t in range(lag, len(values))]
    return sum(diffs) / len(diffs) if diffs else 0.0


def seasonal_naive(values: list[float], m: int, horizon: int) -> list[float]:
    lag = min(m, len(values))
    last = values[-lag:]
    return [last[step % lag] for step in range(horizon)]


def smape(truth: list[float], predicted: list[float]) -> float:
    """M4's sMAPE, 0-200: a point where both are 0 counts as no error."""
    terms = [
        0.0 if abs(t) + abs(p) == 0 else 200 * abs(t - p) / (abs(t) + abs(p))
        for t, p in zip(truth, predicted, strict=True)
    ]
    return sum(terms) / len(terms)


def mase(truth: list[float], predicted: list[float], scale: float) -> float:
    error = sum(abs(t - p) for t, p in zip(truth, predicted, strict=True)) / len(truth)
    return error / scale


class ForecasterAdapter:
    """Cut the last `horizon` points off each series: the sandbox trains on the rest and
    forecasts them; the grader scores the forecasts against the points it kept."""

    kind = "forecaster"

    def required(self, reference: Path, answers: dict[str, Any]) -> list[base.Need]:
        return [base.file_need(SERIES_FILE)]

    def prepare(
        self, source: Path, sample: Path, inputs: Path, answers: dict[str, Any], seed: int = 0
    ) -> base.Holdout:
        horizon, m = settings(answers)
        series = read_series(source / SERIES_FILE)
        if not series:
            raise base.PrepareError(f"{source / SERIES_FILE} holds no series")
        short = [uid for uid, points in series.items() if len(points) < 3 * horizon]
        if short:
            raise base.PrepareError(
                f"{source / SERIES_FILE}: series {short[0]!r} has fewer than three horizons "
                f"({3 * horizon} points): the grader holds out one horizon and the project "
                "needs two more"
            )
        rows: list[dict[str, str]] = []
        labels: dict[str, list[float]] = {}
        scales: dict[str, float] = {}
        naive: dict[str, list[float]] = {}
        for uid, points in series.items():
            kept, held = points[:-horizon], points[-horizon:]
            rows += [{"unique_id": uid, "ds": ds, "y": repr(y)} for ds, y in kept]
            values = [y for _, y in kept]
            labels[uid] = [y for _, y in held]
            scales[uid] = seasonal_scale(values, m)
            naive[uid] = seasonal_naive(values, m, horizon)
        base.write_csv(sample / SERIES_FILE, list(COLUMNS), rows)
        (inputs / "meta.json").write_text(
            json.dumps({"horizon": horizon, "ids": sorted(series)}), encoding="utf-8"
        )
        info = {"horizon": horizon, "season_length": m, "scales": scales, "naive": naive}
        return base.Holdout(labels, info)

    def driver(self, package: str) -> str:
        return base.driver_source(self.kind, package, DRIVER_BODY)

    def score(self, predictions: Any, holdout: base.Holdout) -> dict[str, Any]:
        labels: dict[str, list[float]] = holdout.labels
        horizon = int(holdout.info["horizon"])
        found = base.keyed(predictions, "forecasts", list(labels), "series")
        forecasts: dict[str, list[float]] = {}
        for uid, values in found.items():
            if not isinstance(values, list) or len(values) != horizon:
                raise base.ScoringError(
                    f"the forecast for series {base.show(uid)} is not a list of {horizon} numbers"
                )
            what = f"a forecast for series {uid}"
            forecasts[uid] = [base.number(value, what) for value in values]
        results = [
            _scores(labels, predicted, holdout.info["scales"])
            for predicted in (forecasts, holdout.info["naive"])
        ]
        return {
            "model": results[0],
            "baseline": results[1],
            "headline": "mase",
            "higher_is_better": False,
        }


def _scores(
    labels: dict[str, list[float]], predicted: dict[str, list[float]], scales: dict[str, float]
) -> dict[str, float]:
    """Mean MASE over the series whose in-sample seasonal naive errs at all (MASE is not
    defined for the others: a constant season), mean sMAPE over every series."""
    scored = [uid for uid in labels if scales[uid] > 0]
    total = sum(mase(labels[u], predicted[u], scales[u]) for u in scored)
    return {
        "mase": total / len(scored) if scored else math.nan,
        "smape": sum(smape(labels[u], predicted[u]) for u in labels) / len(labels),
    }
