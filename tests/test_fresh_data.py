"""Fresh held-out data (mlscaffold.cohort.fresh): per kind and variant, the layout of the
project's data/sample/ (files, headers, row counts, labels), no row of the bundled sample,
the same bytes for a seed, accepted by the kind's scoring adapter; and the generators in
the package still make the bundled samples byte for byte (scripts/ only write them)."""

from __future__ import annotations

import csv
import importlib.util
import io
from pathlib import Path
from typing import Any

import jinja2
import pytest

from mlscaffold.cohort import fresh, scoring
from mlscaffold.cohort.generators import forecaster, kaggle, recommender, sentiment

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
TITANIC = {"competition": "titanic", "task": "binary", "metric": "accuracy"}
TITANIC |= {"id_column": "PassengerId", "target_column": "Survived"}
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("sentiment-classifier", {"sentiment_dataset": "imdb"}),
    ("sentiment-classifier", {"sentiment_dataset": "sst2"}),
    ("sentiment-classifier", {"sentiment_dataset": "csv"}),  # the 3-class sample
    ("kaggle-entry", TITANIC),
    ("kaggle-entry", {**TITANIC, "task": "regression", "metric": "rmse"}),  # titanic's sample
    ("kaggle-entry", {"competition": "spaceship", "task": "binary", "metric": "roc_auc"}),
    ("kaggle-entry", {"competition": "otto", "task": "multiclass", "metric": "log_loss"}),
    (
        "kaggle-entry",
        {
            "competition": "house-prices",
            "task": "regression",
            "metric": "rmse_log",
            "id_column": "Id",
            "target_column": "SalePrice",
        },
    ),
    ("recommender", {}),
    ("forecaster", {}),
]
IDS = [
    "sentiment-imdb",
    "sentiment-sst2",
    "sentiment-csv",
    "kaggle-titanic",
    "kaggle-titanic-regression",
    "kaggle-binary",
    "kaggle-multiclass",
    "kaggle-regression",
    "recommender",
    "forecaster",
]


def _answers(kind: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers as the project records them: the template's defaults filled in."""
    if kind == "kaggle-entry":
        return {"id_column": "PassengerId", "target_column": "Survived", **answers}
    return dict(answers)


def _bundled(kind: str, answers: dict[str, Any]) -> dict[str, str]:
    """The project's data/sample/ for `answers`, rendered from the template source: file
    name -> text (names and `.jinja` files rendered with jinja2, as copier renders them)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES))
    folder = TEMPLATES / kind / "data" / "sample"
    files = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        name = env.from_string(path.name).render(answers)
        if not name:  # a name under a false condition: not in this project
            continue
        if name.endswith(".jinja"):
            relative = path.relative_to(TEMPLATES).as_posix()
            files[name.removesuffix(".jinja")] = env.get_template(relative).render(answers)
        else:
            files[name] = path.read_text(encoding="utf-8")
    return files


def _table(text: str) -> tuple[list[str], list[list[str]]]:
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    return rows[0], rows[1:]


def _label_column(kind: str, answers: dict[str, Any]) -> tuple[str, str]:
    """(file, column) of the labels."""
    if kind == "sentiment-classifier":
        return "reviews.csv", "label"
    if kind == "kaggle-entry":
        return "train.csv", answers["target_column"]
    if kind == "forecaster":
        return "series.csv", "y"
    return "ratings.csv", "rating"


def _row_keys(kind: str, answers: dict[str, Any], files: dict[str, str]) -> set[tuple[str, ...]]:
    """What a lookup table of the data could be keyed by: a review's text, a Kaggle row's
    features (id and target left out), a whole rating, a whole series' values."""
    keys: set[tuple[str, ...]] = set()
    for name, text in files.items():
        header, rows = _table(text)
        if kind == "forecaster":
            series: dict[str, list[str]] = {}
            for row in rows:
                series.setdefault(row[0], []).append(row[2])
            keys |= {tuple(values) for values in series.values()}
            continue
        if kind == "sentiment-classifier":
            keep = [header.index("text")]
        elif kind == "kaggle-entry" and "submission" not in name:
            left_out = (answers["id_column"], answers["target_column"])
            keep = [i for i, column in enumerate(header) if column not in left_out]
        elif name == "ratings.csv":
            keep = list(range(len(header)))
        else:
            continue
        keys |= {tuple(row[i] for i in keep) for row in rows}
    return keys


def _read(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(("kind", "given"), VARIANTS, ids=IDS)
def test_fresh_data_has_the_samples_layout_and_none_of_its_rows(
    tmp_path: Path, kind: str, given: dict[str, Any]
) -> None:
    answers = _answers(kind, given)
    bundled = _bundled(kind, answers)
    assert fresh.make(kind, answers, 1234, tmp_path / "fresh")
    made = _read(tmp_path / "fresh")
    assert sorted(made) == sorted(bundled)
    for name, text in made.items():
        header, rows = _table(text)
        bundled_header, bundled_rows = _table(bundled[name])
        assert header == bundled_header, name
        if kind == "kaggle-entry":  # more rows: a larger hold-out, a steadier score
            assert len(rows) == fresh.KAGGLE_SCALE * len(bundled_rows), name
        elif kind == "forecaster":  # a horizon longer: the sandbox keeps the sample's length
            months = forecaster.MONTHS
            assert len(rows) == len(bundled_rows) // months * (months + 24), name
        elif name != "ratings.csv":  # the interactions per user are drawn: about as many
            assert len(rows) == len(bundled_rows), name
        else:
            assert 0.9 < len(rows) / len(bundled_rows) < 1.1
            assert {row[0] for row in rows} == {row[0] for row in bundled_rows}  # the users
    name, column = _label_column(kind, answers)
    header, rows = _table(made[name])
    labels = [row[header.index(column)] for row in rows]
    header, rows = _table(bundled[name])
    expected = {row[header.index(column)] for row in rows}
    generic_regression = answers.get("competition") not in (None, "titanic")
    if kind == "kaggle-entry" and generic_regression and answers["task"] == "regression":
        assert all(float(value) > 0 for value in labels)  # prices, as the bundled ones
    elif kind == "forecaster":  # sales: numbers, never negative, zeros in slow movers
        assert all(float(value) >= 0 for value in labels) and "0.0" in labels
    else:
        assert set(labels) == expected
    if kind == "kaggle-entry":  # the submission lists test.csv's ids
        test_ids = [row[0] for row in _table(made["test.csv"])[1]]
        assert [row[0] for row in _table(made["sample_submission.csv"])[1]] == test_ids
    # nothing a lookup table of the bundled sample (any variant of the kind) would find
    everything = {}
    for other_kind, other in VARIANTS:
        if other_kind == kind:
            other = _answers(kind, other)
            for file, text in _bundled(kind, other).items():
                everything[f"{len(everything)}-{file}"] = text
    assert not _row_keys(kind, answers, made) & _row_keys(kind, answers, everything)


@pytest.mark.parametrize(("kind", "given"), VARIANTS, ids=IDS)
def test_fresh_data_is_fixed_by_its_seed(tmp_path: Path, kind: str, given: dict[str, Any]) -> None:
    answers = _answers(kind, given)
    for folder, seed in (("a", 7), ("b", 7), ("c", 8)):
        assert fresh.make(kind, answers, seed, tmp_path / folder)
    assert _read(tmp_path / "a") == _read(tmp_path / "b")
    first, other = _read(tmp_path / "a"), _read(tmp_path / "c")
    name = _label_column(kind, answers)[0]
    assert first[name] != other[name]


@pytest.mark.parametrize(("kind", "given"), VARIANTS, ids=IDS)
def test_the_scoring_adapter_takes_fresh_data(
    tmp_path: Path, kind: str, given: dict[str, Any]
) -> None:
    answers = _answers(kind, given)
    data = tmp_path / "data"
    assert fresh.make(kind, answers, 99, data)
    reference = tmp_path / "reference"  # a project's data/sample/, for the layout check
    (reference / "data" / "sample").mkdir(parents=True)
    for name, text in _bundled(kind, answers).items():
        (reference / "data" / "sample" / name).write_text(text, encoding="utf-8")
    scoring.check_layout(kind, data, reference, answers)
    sample, inputs = tmp_path / "sample", tmp_path / "inputs"
    sample.mkdir()
    inputs.mkdir()
    holdout = scoring.for_kind(kind).prepare(data, sample, inputs, answers, seed=0)
    assert holdout.labels
    assert any(inputs.iterdir()) and any(sample.iterdir())


def test_kinds_and_variants_not_made_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert not fresh.make("image-classifier", {"image_dataset": "folder"}, 1, out / "i")
    assert not fresh.make("no-such-kind", {}, 1, out / "n")
    odd = {"competition": "x", "task": "ranking"}
    assert not fresh.make("kaggle-entry", odd, 1, out / "k")
    assert not out.exists()
    assert fresh.supported("recommender", {}) and not fresh.supported("image-classifier", {})


def test_a_draw_that_repeats_an_excluded_row_is_drawn_again() -> None:
    labels = sentiment.BINARY
    first = sentiment.make(labels, 20, seed=5)
    again = sentiment.make(labels, 20, seed=5, exclude={first[0][0]})
    assert first[0][0] not in {text for text, _ in again}
    assert len(again) == 20


# ---- the bundled samples come from the same code ----------------------------------------------


def test_the_package_generators_make_the_bundled_samples() -> None:
    folder = TEMPLATES / "sentiment-classifier" / "data" / "sample"
    binary = folder / "{% if sentiment_dataset != 'csv' %}reviews.csv{% endif %}"
    three = folder / "{% if sentiment_dataset == 'csv' %}reviews.csv{% endif %}"
    assert sentiment.csv_text(sentiment.bundled("binary")).encode() == binary.read_bytes()
    assert sentiment.csv_text(sentiment.bundled("three")).encode() == three.read_bytes()
    folder = TEMPLATES / "_samples" / "kaggle-entry"
    tables = kaggle.bundled()
    for sample, parts in tables.items():
        for part, table in parts.items():
            path = folder / f"{sample}_{part}.csv"
            assert kaggle.csv_text(table).encode() == path.read_bytes(), path.name
    assert len(tables) * len(kaggle.PARTS) == len(list(folder.glob("*.csv")))


@pytest.mark.skipif(importlib.util.find_spec("numpy") is None, reason="the script needs numpy")
def test_the_recommender_sample_script_makes_the_bundled_sample(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = ROOT / "scripts" / "make_recommender_sample.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True)
    folder = TEMPLATES / "recommender" / "data" / "sample"
    for name in ("ratings.csv", "items.csv"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes()
    assert _table((folder / "ratings.csv").read_text())[0] == recommender.RATINGS_HEADER
