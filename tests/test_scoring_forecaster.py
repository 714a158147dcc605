"""The forecaster's grading: the last horizon of each series held out, scored outside the
sandbox with M4's MASE and sMAPE beside the seasonal naive forecast."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mlscaffold.cohort import scoring
from mlscaffold.cohort.scoring.forecaster import ForecasterAdapter

ANSWERS = {"horizon": 3, "season_length": "4"}


def _write(folder: Path, series: dict[str, list[float]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["unique_id,ds,y"]
    for uid, values in series.items():
        lines += [f"{uid},2020-{month:02d}-01,{value}" for month, value in enumerate(values, 1)]
    (folder / "series.csv").write_text("\n".join(lines) + "\n")
    return folder


def _prepare(tmp_path: Path, series: dict[str, list[float]]) -> scoring.Holdout:
    source = _write(tmp_path / "source", series)
    sample, inputs = tmp_path / "sample", tmp_path / "inputs"
    sample.mkdir()
    inputs.mkdir()
    return ForecasterAdapter().prepare(source, sample, inputs, ANSWERS)


SERIES = {
    "a": [1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6],  # season 4, rising by 1 a season
    "b": [10, 10, 10, 12, 10, 10, 10, 12, 10, 10, 10, 12],
}


def test_prepare_holds_out_the_last_horizon_of_each_series(tmp_path: Path) -> None:
    holdout = _prepare(tmp_path, SERIES)
    assert holdout.labels == {"a": [4.0, 5.0, 6.0], "b": [10.0, 10.0, 12.0]}
    sandbox = (tmp_path / "sample" / "series.csv").read_text().splitlines()
    assert sandbox[0] == "unique_id,ds,y" and len(sandbox) == 1 + 2 * 9
    assert "2020-10-01" not in "\n".join(sandbox)  # no held-out point enters the sandbox
    meta = json.loads((tmp_path / "inputs" / "meta.json").read_text())
    assert meta == {"horizon": 3, "ids": ["a", "b"]}
    # a's in-sample seasonal naive errs by 1 at every step: MASE's scale is 1
    assert holdout.info["scales"]["a"] == 1.0
    assert holdout.info["naive"]["a"] == [3.0, 4.0, 5.0]  # the last season, repeated


def test_scores_against_the_seasonal_naive(tmp_path: Path) -> None:
    holdout = _prepare(tmp_path, SERIES)
    adapter = ForecasterAdapter()
    perfect = adapter.score({"forecasts": holdout.labels}, holdout)
    assert perfect["model"] == {"mase": 0.0, "smape": 0.0}
    assert perfect["headline"] == "mase" and perfect["higher_is_better"] is False
    # the seasonal naive misses a by 1 at each step (MASE 1); b's season never changes, so
    # its in-sample seasonal naive never errs and MASE is not defined for it: a's alone
    assert perfect["baseline"]["mase"] == pytest.approx(1.0)
    expected_smape = (200 / 7 + 200 / 9 + 200 / 11) / 3 / 2  # a's three errors, b's none
    assert perfect["baseline"]["smape"] == pytest.approx(expected_smape)
    naive = adapter.score({"forecasts": holdout.info["naive"]}, holdout)
    assert naive["model"] == naive["baseline"]


@pytest.mark.parametrize(
    ("forecasts", "message"),
    [
        ({"a": [1, 2, 3]}, "expected 2 predictions"),
        ({"a": [1, 2], "b": [1, 2, 3]}, "not a list of 3 numbers"),
        ({"a": [1, 2, math.inf], "b": [1, 2, 3]}, "not a finite number"),
        ({"a": [1, 2, "3"], "b": [1, 2, 3]}, "not a number"),
        ({"a": [1, 2, 3], "c": [1, 2, 3]}, "unknown series"),
    ],
)
def test_malformed_forecasts_are_refused(tmp_path: Path, forecasts: dict, message: str) -> None:
    holdout = _prepare(tmp_path, SERIES)
    with pytest.raises(scoring.ScoringError, match=message):
        ForecasterAdapter().score({"forecasts": forecasts}, holdout)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unique_id,ds\na,2020-01-01\n", "no column 'y'"),
        ("unique_id,ds,y\na,2020-01-01,x\n", "row 2: y 'x' is not a number"),
        ("unique_id,ds,y\na,2020-01-01,1\na,2020-01-01,2\n", "repeats a timestamp"),
        ("unique_id,ds,y\na,2020-01-01,1\n", "fewer than three horizons"),
    ],
)
def test_unusable_series_are_the_instructors_to_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "series.csv").write_text(text)
    (tmp_path / "s").mkdir()
    (tmp_path / "i").mkdir()
    with pytest.raises(scoring.PrepareError, match=message):
        ForecasterAdapter().prepare(source, tmp_path / "s", tmp_path / "i", ANSWERS)
