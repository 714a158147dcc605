"""Scores from outside the sandbox (mlscaffold.cohort.scoring): the metrics against known
values, the hold-out splits, untrusted predictions refused with one safe line, and, per kind,
a generated project graded end to end (prepare, pipeline, driver, score)."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import new_project

from mlscaffold import catalog
from mlscaffold.cohort import scoring
from mlscaffold.cohort.scoring import arrays, base, metrics
from mlscaffold.errors import UsageError

# ---- metrics --------------------------------------------------------------------------------


def test_accuracy_and_macro_scores_match_hand_counts() -> None:
    truth = ["a", "a", "b", "c"]
    predicted = ["a", "b", "b", "a"]
    assert metrics.accuracy(truth, predicted) == 0.5
    # a: tp 1 fp 1 fn 1; b: tp 1 fp 1 fn 0; c: tp 0 fp 0 fn 1 (precision undefined: 0)
    precision, recall, f1 = metrics.macro_scores(truth, predicted, ["a", "b", "c"])
    assert precision == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert recall == pytest.approx((0.5 + 1 + 0) / 3)
    assert f1 == pytest.approx((0.5 + 2 / 3 + 0) / 3)


def test_log_loss_is_clipped_at_1e_15() -> None:
    assert metrics.log_loss([0.5, 0.25]) == pytest.approx((math.log(2) + math.log(4)) / 2)
    assert metrics.log_loss([0.0]) == pytest.approx(-math.log(1e-15))
    assert metrics.log_loss([1.0]) == 0.0


def test_roc_auc_averages_tied_ranks() -> None:
    # positive 0.8 beats both negatives; positive 0.4 ties one (1/2) and beats one: 3.5 / 4
    assert metrics.roc_auc([True, False, True, False], [0.8, 0.4, 0.4, 0.1]) == 0.875
    assert metrics.roc_auc([True, False], [0.3, 0.3]) == 0.5  # a constant scores 0.5
    assert metrics.roc_auc([False, True], [0.9, 0.1]) == 0.0
    assert metrics.roc_auc([True, True], [0.1, 0.2]) is None  # one class: undefined


def test_top_k_accuracy_breaks_ties_towards_the_earlier_class() -> None:
    rows = [[0.2, 0.5, 0.3], [0.4, 0.3, 0.3], [0.1, 0.1, 0.8]]
    assert metrics.top_k_accuracy([2, 2, 0], rows, 2) == pytest.approx(2 / 3)
    assert metrics.top_k_accuracy([0, 0, 2], rows, 1) == pytest.approx(2 / 3)


def test_regression_metrics() -> None:
    truth, predicted = [1.0, 2.0, 3.0], [2.0, 2.0, 5.0]
    assert metrics.rmse(truth, predicted) == pytest.approx(math.sqrt(5 / 3))
    assert metrics.mae(truth, predicted) == 1.0
    # log1p, with a negative prediction clipped to 0 (the Kaggle kind's rmse_log)
    expected = math.sqrt(((math.log1p(0) - math.log1p(3)) ** 2 + 0) / 2)
    assert metrics.rmse_log([3.0, 9.0], [-4.0, 9.0]) == pytest.approx(expected)


def test_ranking_metrics_match_hand_computation() -> None:
    recommended = [["a", "b", "c"], ["x", "y"], ["a"]]
    relevant = [{"b", "z"}, {"q"}, set()]  # the third user has nothing held out: skipped
    result = metrics.ranking(recommended, relevant, n_items=10, k=3)
    dcg = 1 / math.log2(3)
    ideal = 1 + 1 / math.log2(3)
    assert result["precision@3"] == pytest.approx((1 / 3 + 0) / 2)
    assert result["recall@3"] == pytest.approx((1 / 2 + 0) / 2)
    assert result["ndcg@3"] == pytest.approx((dcg / ideal + 0) / 2)
    assert result["map@3"] == pytest.approx(((1 / 2) / 2 + 0) / 2)
    assert result["hit_rate@3"] == 0.5
    assert result["coverage@3"] == pytest.approx(5 / 10)  # a b c x y


def test_canonical_spellings_of_ids_and_labels() -> None:
    for value in (7, 7.0, "7", " 7 ", "007", "7.0", "+7"):
        assert base.canonical(value) == "7"
    assert base.canonical("positive ") == "positive"
    assert base.canonical("1.5") == "1.5"
    assert base.canonical("12345678901234567890") == "12345678901234567890"
    assert base.canonical("9" * 10_000) == "9" * 10_000  # past int()'s digit limit: as text
    for bad in (True, None, [1], float("nan")):
        with pytest.raises(TypeError):
            base.canonical(bad)


def test_class_order_is_numeric_for_integer_labels() -> None:
    assert base.class_order(["10", "2", "1"]) == ["1", "2", "10"]
    assert base.class_order(["pos", "neg"]) == ["neg", "pos"]


# ---- arrays without numpy -------------------------------------------------------------------


def test_npz_round_trip_and_png(tmp_path: Path) -> None:
    images = arrays.Array("|u1", (3, 2, 2, 1), bytes(range(12)))
    labels = arrays.integer_array([2, 0, 1])
    names = "".join(name.ljust(3, "\0") for name in ("ab", "c", "def"))
    classes = arrays.Array("<U3", (3,), names.encode("utf-32-le"))
    arrays.write_npz(tmp_path / "a.npz", {"x": images, "y": labels, "classes": classes})
    back = arrays.read_npz(tmp_path / "a.npz")
    assert back["x"] == images and back["y"].integers() == [2, 0, 1]
    assert back["classes"].strings() == ["ab", "c", "def"]
    assert back["x"].rows([2, 0]).data == bytes(range(8, 12)) + bytes(range(4))
    raw = arrays.npy_bytes(images)
    assert (raw.index(b"\n") + 1) % 64 == 0  # the data starts on a 64-byte boundary, as numpy's
    png = arrays.png_bytes(bytes(range(12)), 2, 2, 3)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", png[16:26])
    assert (width, height, depth, colour) == (2, 2, 8, 2)
    start = png.index(b"IDAT") + 4
    (length,) = struct.unpack(">I", png[start - 8 : start - 4])
    assert zlib.decompress(png[start : start + length]) == b"\0" + bytes(range(6)) + b"\0" + bytes(
        range(6, 12)
    )


# ---- the registry ---------------------------------------------------------------------------


def test_one_adapter_per_kind() -> None:
    assert set(scoring.ADAPTERS) == {kind.name for kind in catalog.available()}
    assert scoring.for_kind("recommender") is scoring.ADAPTERS["recommender"]
    with pytest.raises(KeyError) as caught:
        scoring.for_kind("recomender")
    assert isinstance(caught.value, UsageError)
    assert "recomender" in str(caught.value) and "recommender" in str(caught.value)


@pytest.mark.parametrize("kind", sorted(scoring.ADAPTERS))
def test_drivers_compile_and_refuse_odd_package_names(kind: str) -> None:
    adapter = scoring.for_kind(kind)
    source = adapter.driver("my_pkg")
    compile(source, "driver.py", "exec")
    assert "PACKAGE = 'my_pkg'" in source
    with pytest.raises(ValueError):
        adapter.driver("x; import os")


def test_a_failing_driver_exits_1_with_one_line(tmp_path: Path) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(scoring.for_kind("sentiment-classifier").driver("no_such_pkg"))
    done = subprocess.run(
        [sys.executable, str(driver), str(tmp_path), str(tmp_path / "out.json")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and not (tmp_path / "out.json").exists()
    assert done.stderr.strip().splitlines() == [
        "driver: ModuleNotFoundError: No module named 'no_such_pkg'"
    ]


# ---- prepare: synthetic labelled data --------------------------------------------------------


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    sample, inputs = tmp_path / "sample", tmp_path / "inputs"
    sample.mkdir(parents=True)
    inputs.mkdir()
    return sample, inputs


def _titanic(tmp_path: Path, rows: int = 80) -> Path:
    source = tmp_path / "source"
    header = ["PassengerId", "Survived", "Pclass", "Fare"]
    _write(
        source / "train.csv", header, [[i, int(i % 3 == 0), i % 3, i * 1.5] for i in range(rows)]
    )
    _write(source / "test.csv", ["PassengerId", "Pclass", "Fare"], [[1000, 1, 2.0]])
    _write(source / "sample_submission.csv", ["PassengerId", "Survived"], [[1000, 0]])
    return source


def _kaggle(tmp_path: Path, seed: int = 0) -> tuple[scoring.Holdout, Path, Path]:
    source = _titanic(tmp_path)
    sample, inputs = _folders(tmp_path / f"out{seed}")
    answers = {"target_column": "Survived", "id_column": "PassengerId", "task": "binary"}
    holdout = scoring.for_kind("kaggle-entry").prepare(source, sample, inputs, answers, seed)
    return holdout, sample, inputs


def test_kaggle_prepare_holds_out_a_stratified_quarter(tmp_path: Path) -> None:
    holdout, sample, inputs = _kaggle(tmp_path)
    training = _read(sample / "train.csv")
    evaluation = _read(inputs / "test.csv")
    assert len(holdout.labels) == len(evaluation) == 20 and len(training) == 60
    assert "Survived" not in evaluation[0]  # the labels stay outside
    assert {r["PassengerId"] for r in training}.isdisjoint(holdout.labels)
    assert sorted(holdout.labels) == sorted(r["PassengerId"] for r in evaluation)
    assert sorted(holdout.labels.values()).count("1") in (6, 7)  # 27 of 80 survive: a quarter
    assert holdout.info == {
        "task": "binary",
        "metric": "accuracy",
        "classes": ["0", "1"],
        "counts": [40, 20],
    }
    assert (sample / "test.csv").is_file() and (sample / "sample_submission.csv").is_file()
    assert json.loads((inputs / "meta.json").read_text()) == {"id": "PassengerId", "task": "binary"}
    json.dumps(holdout.to_dict())  # JSON-able: the grader keeps it in a file
    assert scoring.Holdout.from_dict(holdout.to_dict()) == holdout


def test_prepare_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    first, _, _ = _kaggle(tmp_path / "a", seed=3)
    again, _, _ = _kaggle(tmp_path / "b", seed=3)
    other, _, _ = _kaggle(tmp_path / "c", seed=4)
    assert first == again and first.labels.keys() != other.labels.keys()


def test_kaggle_settings_are_checked(tmp_path: Path) -> None:
    sample, inputs = _folders(tmp_path)
    adapter = scoring.for_kind("kaggle-entry")
    with pytest.raises(scoring.PrepareError, match="does not fit"):
        adapter.prepare(
            _titanic(tmp_path), sample, inputs, {"task": "regression", "metric": "accuracy"}
        )
    with pytest.raises(scoring.PrepareError, match="no column 'Target'"):
        adapter.prepare(_titanic(tmp_path), sample, inputs, {"target_column": "Target"})


def _sentiment(tmp_path: Path) -> tuple[scoring.Holdout, Path, Path]:
    source = tmp_path / "source"
    rows = [[f"text {i}, with a comma\nand a line", "pos" if i % 5 else "neg"] for i in range(40)]
    rows.append(["   ", "pos"])  # no text: dropped, as the kind drops it
    _write(source / "reviews.csv", ["text", "label"], rows)
    sample, inputs = _folders(tmp_path)
    holdout = scoring.for_kind("sentiment-classifier").prepare(source, sample, inputs, {}, 0)
    return holdout, sample, inputs


def test_sentiment_prepare_sends_texts_without_labels(tmp_path: Path) -> None:
    holdout, sample, inputs = _sentiment(tmp_path)
    texts = _read(inputs / "texts.csv")
    assert list(texts[0]) == ["id", "text"] and len(texts) == len(holdout.labels) == 10
    assert sorted(holdout.labels.values()) == ["neg"] * 2 + ["pos"] * 8
    training = _read(sample / "reviews.csv")
    assert len(training) == 30 and "\n" in training[0]["text"]
    assert {r["text"] for r in training}.isdisjoint(r["text"] for r in texts)
    assert holdout.info == {"classes": ["neg", "pos"], "counts": [6, 24]}


def _ratings(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    rows = []
    for user in range(1, 7):
        for n in range(8):  # each user: 8 items, later ones later in time
            rows.append([user, (user * 3 + n) % 20 + 1, 4, 1000 + n * 10 + user])
    rows.append([1, 4, 5, 1])  # a repeated pair: the last rating counts
    _write(source / "ratings.csv", ["user", "item", "rating", "timestamp"], rows)
    _write(
        source / "items.csv", ["item", "title", "genres"], [[i, f"t{i}", ""] for i in range(1, 13)]
    )
    return source


def test_recommender_prepare_holds_out_each_users_latest_interactions(tmp_path: Path) -> None:
    source = _ratings(tmp_path)
    sample, inputs = _folders(tmp_path)
    holdout = scoring.for_kind("recommender").prepare(source, sample, inputs, {}, 0)
    training = _read(sample / "ratings.csv")
    assert {r["user"] for r in training} == {str(u) for u in range(1, 7)}  # every user kept
    assert len(training) == 6 * 6  # 8 each, 2 held out (a quarter)
    users = json.loads((inputs / "users.json").read_text())
    assert sorted(users["users"]) == sorted(holdout.labels) and users["k"] == 10
    for user, items in holdout.labels.items():
        mine = [r for r in training if r["user"] == user]
        latest = max(int(r["timestamp"]) for r in mine)
        assert all(r["item"] not in items for r in mine)
        assert latest < 1000 + 60 + int(user)  # held out: the two latest
    assert (sample / "items.csv").read_text() == (source / "items.csv").read_text()
    catalogue = set(holdout.info["catalogue"])
    for user, top in holdout.info["popular"].items():
        seen = {r["item"] for r in training if r["user"] == user}
        assert len(top) == 10 and not seen & set(top) and set(top) <= catalogue


def _npz(tmp_path: Path, per_class: int = 8) -> Path:
    source = tmp_path / "source"
    source.mkdir(parents=True)
    labels = [c for c in range(3) for _ in range(per_class)]
    pixels = b"".join(bytes([label * 80 + n % 7] * 4) for n, label in enumerate(labels))
    names = "".join(name.ljust(6, "\0") for name in ("Shirt", "Bag", "Sandal"))
    arrays.write_npz(
        source / "images.npz",
        {
            "classes": arrays.Array("<U6", (3,), names.encode("utf-32-le")),
            "train_x": arrays.Array("|u1", (len(labels), 2, 2, 1), pixels),
            "train_y": arrays.integer_array(labels),
        },
    )
    return source


def test_image_prepare_writes_pngs_and_a_smaller_npz(tmp_path: Path) -> None:
    sample, inputs = _folders(tmp_path)
    holdout = scoring.for_kind("image-classifier").prepare(_npz(tmp_path), sample, inputs, {}, 0)
    files = sorted(p.name for p in (inputs / "images").iterdir())
    assert files == sorted(holdout.labels) == [f"{n:05d}.png" for n in range(6)]
    assert sorted(holdout.labels.values()) == ["Bag", "Bag", "Sandal", "Sandal", "Shirt", "Shirt"]
    stored = arrays.read_npz(sample / "images.npz")
    assert stored["classes"].strings() == ["Shirt", "Bag", "Sandal"]
    assert stored["train_x"].shape[0] + stored["test_x"].shape[0] == 18
    assert sorted(stored["test_y"].integers()) == [0, 0, 1, 1, 2, 2]
    assert holdout.info == {"classes": ["Shirt", "Bag", "Sandal"], "counts": [6, 6, 6]}


def test_image_prepare_splits_class_folders(tmp_path: Path) -> None:
    source = tmp_path / "source"
    for label in ("cat", "dog"):
        for n in range(8):
            path = source / "images" / label / f"{n}.PNG"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(arrays.png_bytes(bytes([n]), 1, 1, 1))
    (source / "images" / "cat" / ".DS_Store").write_text("")
    sample, inputs = _folders(tmp_path)
    holdout = scoring.for_kind("image-classifier").prepare(source, sample, inputs, {}, 0)
    assert sorted(holdout.labels.values()) == ["cat", "cat", "dog", "dog"]
    assert all(name.endswith(".png") for name in holdout.labels)
    assert len(list((sample / "images").rglob("*.PNG"))) == 12


# ---- score: perfect, constant and malformed predictions --------------------------------------


def _perfect(holdout: scoring.Holdout) -> dict[str, Any]:
    classes = holdout.info["classes"]
    rows = {k: [float(c == label) for c in classes] for k, label in holdout.labels.items()}
    return {"classes": classes, "probabilities": rows}


def _constant(holdout: scoring.Holdout) -> dict[str, Any]:
    classes, counts = holdout.info["classes"], holdout.info["counts"]
    row = [float(c == classes[counts.index(max(counts))]) for c in classes]
    return {"classes": classes, "probabilities": {k: list(row) for k in holdout.labels}}


def test_classification_scores_perfect_and_constant(tmp_path: Path) -> None:
    holdout, _, _ = _kaggle(tmp_path)
    adapter = scoring.for_kind("kaggle-entry")
    result = adapter.score(_perfect(holdout), holdout)
    assert result["headline"] == "accuracy" and result["higher_is_better"] is True
    assert result["model"]["accuracy"] == result["model"]["cv_mean"] == 1.0
    assert result["model"]["roc_auc"] == 1.0 and result["model"]["log_loss"] < 1e-9
    assert result["baseline"]["roc_auc"] == 0.5
    flat = adapter.score(_constant(holdout), holdout)
    assert flat["model"]["accuracy"] == flat["baseline"]["accuracy"] == pytest.approx(13 / 20)


def test_regression_scores_against_the_training_mean(tmp_path: Path) -> None:
    source = tmp_path / "source"
    _write(source / "train.csv", ["Id", "x", "SalePrice"], [[i, i, 100 + i] for i in range(40)])
    sample, inputs = _folders(tmp_path)
    answers = {"target_column": "SalePrice", "id_column": "Id", "task": "regression"}
    answers["metric"] = "rmse_log"
    adapter = scoring.for_kind("kaggle-entry")
    holdout = adapter.prepare(source, sample, inputs, answers, 0)
    assert len(holdout.labels) == 10 and (sample / "test.csv").is_file()  # stands in
    exact = adapter.score({"values": dict(holdout.labels)}, holdout)
    assert exact["model"] == {"rmse": 0.0, "mae": 0.0, "rmse_log": 0.0, "cv_mean": 0.0}
    assert exact["headline"] == "rmse_log" and exact["higher_is_better"] is False
    mean = {key: holdout.info["mean"] for key in holdout.labels}
    flat = adapter.score({"values": mean}, holdout)
    assert flat["model"] == flat["baseline"] and flat["baseline"]["rmse"] > 0


def test_recommender_scores_against_popularity(tmp_path: Path) -> None:
    sample, inputs = _folders(tmp_path)
    adapter = scoring.for_kind("recommender")
    holdout = adapter.prepare(_ratings(tmp_path), sample, inputs, {}, 0)
    perfect = {"recommendations": {user: items for user, items in holdout.labels.items()}}
    result = adapter.score(perfect, holdout)
    assert result["headline"] == "ndcg@10" and result["model"]["ndcg@10"] == 1.0
    assert result["model"]["hit_rate@10"] == 1.0
    popular = {"recommendations": holdout.info["popular"]}
    same = adapter.score(popular, holdout)
    assert same["model"] == same["baseline"]


def _error(adapter: str, predictions: Any, holdout: scoring.Holdout) -> str:
    with pytest.raises(scoring.ScoringError) as caught:
        scoring.for_kind(adapter).score(predictions, holdout)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 200, message
    return message


def test_classification_predictions_are_validated(tmp_path: Path) -> None:
    holdout, _, _ = _sentiment(tmp_path)
    good = _perfect(holdout)
    some = next(iter(holdout.labels))

    def changed(**rows: Any) -> dict[str, Any]:
        return {**good, "probabilities": {**good["probabilities"], **rows}}

    fewer = dict(list(good["probabilities"].items())[1:])
    cases = {
        "wrong length": ({**good, "probabilities": fewer}, "expected 10 predictions, got 9"),
        "extra id": (changed(extra=[1.0, 0.0]), "expected 10 predictions, got 11"),
        "unknown id": (
            {**good, "probabilities": {**fewer, "999": [1.0, 0.0]}},
            "unknown id '999'",
        ),
        "same id twice": (
            {**good, "probabilities": {**fewer, f" {next(iter(fewer))}": [1.0, 0.0]}},
            "twice",
        ),
        "NaN": (changed(**{some: [float("nan"), 1.0]}), "not a finite number"),
        "infinity": (changed(**{some: [float("inf"), 0.0]}), "not a finite number"),
        "a bool": (changed(**{some: [True, False]}), "not a number"),
        "a string": (changed(**{some: "pos"}), "not a list of 2 numbers"),
        "short row": (changed(**{some: [1.0]}), "not a list of 2 numbers"),
        "negative": (changed(**{some: [-0.5, 1.5]}), "outside [0, 1]"),
        "not summing to 1": (changed(**{some: [0.2, 0.2]}), "do not sum to 1"),
        "unknown class": ({**good, "classes": ["neg", "maybe"]}, "'maybe' is not a class"),
        "class twice": ({**good, "classes": ["neg", "neg"]}, "listed twice"),
        "no classes": ({"probabilities": good["probabilities"]}, "need `classes`"),
        "a list": ([1, 2, 3], "must be a JSON object, not a list"),
        "no probabilities": ({"classes": good["classes"]}, "no `probabilities` object"),
    }
    for name, (predictions, expected) in cases.items():
        message = _error("sentiment-classifier", predictions, holdout)
        assert expected in message, (name, message)


def test_huge_predictions_are_refused_before_they_are_read(tmp_path: Path) -> None:
    holdout, _, _ = _sentiment(tmp_path)
    huge = {"classes": ["neg", "pos"], "probabilities": {str(i): [1, 0] for i in range(10**6)}}
    assert "got 1000000" in _error("sentiment-classifier", huge, holdout)
    long_id = {**_perfect(holdout)}
    rows = dict(list(long_id["probabilities"].items())[1:])
    rows["x" * 10**6] = [1.0, 0.0]
    message = _error("sentiment-classifier", {**long_id, "probabilities": rows}, holdout)
    assert "unknown id 'xxxx" in message and len(message) < 120
    path = tmp_path / "out.json"
    path.write_text(json.dumps(huge))
    with pytest.raises(scoring.ScoringError, match="over the limit"):
        scoring.read_predictions(path, limit=1024)


def test_read_predictions_refuses_what_json_would_hide(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    with pytest.raises(scoring.ScoringError, match="no predictions were written"):
        scoring.read_predictions(path)
    path.write_text('{"values": {"1": 2.0, "1": 3.0}}')
    with pytest.raises(scoring.ScoringError, match="repeat the key '1'"):
        scoring.read_predictions(path)
    path.write_text('{"values": ')
    with pytest.raises(scoring.ScoringError, match="not valid JSON"):
        scoring.read_predictions(path)
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(scoring.ScoringError, match="not valid JSON"):
        scoring.read_predictions(path)
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(scoring.ScoringError, match="not UTF-8"):
        scoring.read_predictions(path)
    path.write_text('{"values": {"1": NaN}}')
    assert math.isnan(scoring.read_predictions(path)["values"]["1"])  # score names the id


def test_regression_and_ranking_predictions_are_validated(tmp_path: Path) -> None:
    source = tmp_path / "source"
    _write(source / "train.csv", ["Id", "x", "y"], [[i, i, i] for i in range(40)])
    sample, inputs = _folders(tmp_path)
    answers = {"target_column": "y", "id_column": "Id", "task": "regression", "metric": "rmse"}
    holdout = scoring.for_kind("kaggle-entry").prepare(source, sample, inputs, answers, 0)
    some = next(iter(holdout.labels))
    for value, expected in ((float("nan"), "not a finite"), ("3", "not a number"), (None, "")):
        values = {**holdout.labels, some: value}
        assert expected in _error("kaggle-entry", {"values": values}, holdout)

    sample, inputs = _folders(tmp_path / "rec")
    rec = scoring.for_kind("recommender").prepare(_ratings(tmp_path), sample, inputs, {}, 0)
    user = next(iter(rec.labels))
    good = dict(rec.info["popular"])
    cases = {
        "too many": ({**good, user: rec.info["catalogue"][:11]}, "up to 10 items"),
        "repeated": ({**good, user: ["1", "1"]}, "repeat an item"),
        "unknown item": ({**good, user: ["1", "9999"]}, "'9999' is not in the training data"),
        "float item": ({**good, user: [1.5]}, "is not in the training data"),
        "a dict item": ({**good, user: [{"item": 1}]}, "not a string or an integer"),
        "missing user": ({k: v for k, v in good.items() if k != user}, "expected"),
    }
    for name, (recommendations, expected) in cases.items():
        message = _error("recommender", {"recommendations": recommendations}, rec)
        assert expected in message, (name, message)
    ints = {u: [int(i) for i in items] for u, items in good.items()}  # ids as numbers: fine
    assert scoring.for_kind("recommender").score({"recommendations": ints}, rec)


def test_errors_never_quote_hidden_labels(tmp_path: Path) -> None:
    """The ids and class names an error may show are the student's own or the inputs';
    a held-out row's label never appears, whatever is wrong."""
    source = tmp_path / "source"
    rows = [[f"t{i}", "HIDDEN_A" if i % 2 else "HIDDEN_B"] for i in range(20)]
    _write(source / "reviews.csv", ["text", "label"], rows)
    sample, inputs = _folders(tmp_path)
    holdout = scoring.for_kind("sentiment-classifier").prepare(source, sample, inputs, {}, 0)
    some = next(iter(holdout.labels))
    good = _perfect(holdout)
    bad = [
        {**good, "probabilities": {some: [1.0, 0.0]}},
        {**good, "probabilities": {**good["probabilities"], some: [0.3, 0.3]}},
        {**good, "probabilities": {**good["probabilities"], some: "x"}},
        {"classes": ["x"], "probabilities": good["probabilities"]},
    ]
    for predictions in bad:
        message = _error("sentiment-classifier", predictions, holdout)
        assert "HIDDEN" not in message, message


# ---- odd numbers: a metric that overflows scores as not finite, never as a crash ---------------


def test_metrics_give_inf_or_nan_where_they_used_to_raise() -> None:
    assert metrics.rmse([1.0], [1e308]) == math.inf  # (1e308 - 1) ** 2 raised OverflowError
    assert metrics.rmse([0.0, 0.0], [1e200, -1e200]) == math.inf
    # fsum of two finite 1.7e308 overflowed: the mean of finite values stays finite
    assert metrics.mae([0.0, 0.0], [1.7e308, 1.7e308]) == pytest.approx(1.7e308)
    assert metrics.mae([0.0], [math.inf]) == math.inf
    assert math.isnan(metrics._mean([math.inf, -math.inf]))  # no mean, and no ValueError
    assert math.isnan(metrics.rmse([0.0], [math.nan]))
    assert metrics.rmse_log([1.0], [1e308]) == pytest.approx(math.log(1e308) - math.log(2))
    assert metrics.rmse_log([1.0], [math.inf]) == math.inf
    assert math.isnan(metrics.log_loss([math.nan]))
    with pytest.raises(ValueError, match="no values"):
        metrics.rmse([], [])


def _regression_holdout(tmp_path: Path) -> scoring.Holdout:
    source = tmp_path / "source"
    _write(source / "train.csv", ["Id", "x", "y"], [[i, i, 100 + i] for i in range(40)])
    sample, inputs = _folders(tmp_path)
    answers = {"target_column": "y", "id_column": "Id", "task": "regression", "metric": "rmse"}
    return scoring.for_kind("kaggle-entry").prepare(source, sample, inputs, answers, 0)


def test_a_regression_prediction_of_1e308_fails_the_metric_not_the_grader(
    tmp_path: Path,
) -> None:
    from mlscaffold.cohort import grading

    holdout = _regression_holdout(tmp_path)
    some = next(iter(holdout.labels))
    result = scoring.for_kind("kaggle-entry").score(
        {"values": {**holdout.labels, some: 1e308}}, holdout
    )
    assert result["model"]["rmse"] == result["model"]["cv_mean"] == math.inf
    assert math.isfinite(result["model"]["mae"]) and math.isfinite(result["baseline"]["rmse"])
    passed, message = grading._metric_check({"check": "beats_baseline"}, result)
    assert not passed and message == "model.rmse is not a finite number"
    expr = {"check": "metric", "name": "rmse", "expr": "model.rmse < 1000"}
    assert grading._metric_check(expr, result) == (False, "model.rmse is not a finite number")
    everywhere = {key: -1.7e308 for key in holdout.labels}  # sums past the largest float
    result = scoring.for_kind("kaggle-entry").score({"values": everywhere}, holdout)
    assert result["model"]["rmse"] == math.inf and result["model"]["mae"] > 1e307
    # an integer too large for a float (JSON allows one): refused with one line
    message = _error("kaggle-entry", {"values": {**holdout.labels, some: 10**400}}, holdout)
    assert "not a finite number" in message


ODD_VALUES: list[Any] = [
    1e308, -1e308, 1.7976931348623157e308, 10**400, -(10**400), 2**63, 1e-320, -0.0, -1, 0.5,
    math.nan, math.inf, -math.inf, "1e308", "nan", True, None, [], {}, [1e308], "x" * 5000,
]  # fmt: skip


def _scored_or_refused(kind: str, predictions: Any, holdout: scoring.Holdout) -> None:
    """Odd predictions give metrics (numbers, maybe not finite) or a one-line ScoringError;
    no other exception reaches the grader."""
    try:
        result = scoring.for_kind(kind).score(predictions, holdout)
    except scoring.ScoringError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 200, str(exc)
        return
    for side in ("model", "baseline"):
        assert all(isinstance(v, float) for v in result[side].values()), result[side]


def test_odd_numbers_in_every_kind_are_scored_or_refused(tmp_path: Path) -> None:
    holdouts = {
        "sentiment-classifier": _sentiment(tmp_path / "s")[0],
        "kaggle-entry": _kaggle(tmp_path / "k")[0],
        "image-classifier": scoring.for_kind("image-classifier").prepare(
            _npz(tmp_path / "i"), *_folders(tmp_path / "i"), {}, 0
        ),
    }
    for kind, holdout in holdouts.items():
        good = _perfect(holdout)
        some = next(iter(holdout.labels))
        width = len(holdout.info["classes"])
        for value in ODD_VALUES:
            rows = [[value] * width, [value] + [0.0] * (width - 1), [0.0] * (width - 1) + [value]]
            for row in rows:
                probabilities = {**good["probabilities"], some: row}
                _scored_or_refused(kind, {**good, "probabilities": probabilities}, holdout)
            every = {key: [value] * width for key in holdout.labels}
            _scored_or_refused(kind, {**good, "probabilities": every}, holdout)
            _scored_or_refused(kind, {**good, "classes": [value] * width}, holdout)
            _scored_or_refused(
                kind, {**good, "probabilities": {**every, str(value): [1.0]}}, holdout
            )

    regression = _regression_holdout(tmp_path / "r")
    some = next(iter(regression.labels))
    for value in ODD_VALUES:
        _scored_or_refused(
            "kaggle-entry", {"values": {**regression.labels, some: value}}, regression
        )
        every = {key: value for key in regression.labels}
        _scored_or_refused("kaggle-entry", {"values": every}, regression)

    sample, inputs = _folders(tmp_path / "rec")
    rec = scoring.for_kind("recommender").prepare(_ratings(tmp_path / "rec"), sample, inputs, {}, 0)
    user = next(iter(rec.labels))
    good = dict(rec.info["popular"])
    for value in ODD_VALUES:
        for items in ([value], [value, value], value, [*good[user][:9], value]):
            _scored_or_refused("recommender", {"recommendations": {**good, user: items}}, rec)


# ---- the evaluation data's layout: refused at the start, naming the missing file ----------------


def _reference(tmp_path: Path, files: dict[str, str]) -> Path:
    """A reference project's data/sample/ holding `files` (relative path: text)."""
    reference = tmp_path / "reference"
    for name, text in files.items():
        path = reference / "data" / "sample" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return reference


KAGGLE_SAMPLE = {"train.csv": "", "test.csv": "", "sample_submission.csv": ""}


def _layout_error(kind: str, data: Path, reference: Path, answers: Any = None) -> str:
    with pytest.raises(scoring.LayoutError) as caught:
        scoring.check_layout(kind, data, reference, answers or {})
    message = str(caught.value)
    assert isinstance(caught.value, scoring.PrepareError) and "\n" not in message
    assert str(data) in message, message
    return message


def test_kaggle_evaluation_data_needs_test_csv_and_a_sample_submission(tmp_path: Path) -> None:
    reference = _reference(tmp_path, KAGGLE_SAMPLE)
    data = tmp_path / "grading" / "data"
    _write(data / "train.csv", ["PassengerId", "Survived"], [[1, 0]])
    message = _layout_error("kaggle-entry", data, reference)
    assert message.startswith(f"{data} has no test.csv (nor sample_submission.csv"), message
    assert "train.csv, test.csv and sample_submission.csv" in message
    _write(data / "test.csv", ["PassengerId"], [[2]])
    message = _layout_error("kaggle-entry", data, reference)
    assert f"{data} has no sample_submission.csv (or *submission*.csv):" in message
    _write(data / "gender_submission.csv", ["PassengerId", "Survived"], [[2, 0]])  # Titanic's
    scoring.check_layout("kaggle-entry", data, reference, {})
    (data / "train.csv").unlink()
    assert "has no train.csv:" in _layout_error("kaggle-entry", data, reference)
    assert "has no train.csv" in _layout_error("kaggle-entry", tmp_path / "nowhere", reference)
    # an older reference without test files asks for train.csv only
    older = _reference(tmp_path / "old", {"train.csv": ""})
    assert scoring.for_kind("kaggle-entry").required(older, {})[0].name == "train.csv"
    assert len(scoring.for_kind("kaggle-entry").required(older, {})) == 1


def test_each_kinds_layout(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    sentiment = _reference(tmp_path / "s", {"reviews.csv": ""})
    assert "has no reviews.csv" in _layout_error("sentiment-classifier", data, sentiment)
    recommender = _reference(tmp_path / "r", {"ratings.csv": "", "items.csv": ""})
    assert "has no ratings.csv:" in _layout_error("recommender", data, recommender)
    (data / "reviews.csv").write_text("text,label\n")
    (data / "ratings.csv").write_text("user,item\n")
    scoring.check_layout("sentiment-classifier", data, sentiment, {})
    scoring.check_layout("recommender", data, recommender, {})  # items.csv is made when missing


def test_image_layout_is_the_one_the_project_reads(tmp_path: Path) -> None:
    arrays_ref = _reference(tmp_path / "a", {"images.npz": ""})
    folder_ref = _reference(tmp_path / "f", {"images/cat/0.png": "", "images/dog/0.png": ""})
    npz = _npz(tmp_path / "npz")
    folders = tmp_path / "folders"
    (folders / "images" / "cat").mkdir(parents=True)
    (folders / "images" / "cat" / ".hidden.png").write_text("")
    (folders / "images" / "cat" / "notes.txt").write_text("")
    kind = "image-classifier"
    scoring.check_layout(kind, npz, arrays_ref, {"image_dataset": "fashion-mnist"})
    assert "has no images.npz:" in _layout_error(kind, folders, arrays_ref)
    message = _layout_error(kind, npz, folder_ref)
    assert "has no images/ (one sub-folder of images per class)" in message
    assert "has no images/" in _layout_error(kind, folders, folder_ref)  # no image file in it
    (folders / "images" / "cat" / "sub").mkdir()
    (folders / "images" / "cat" / "sub" / "0.PNG").write_text("")
    scoring.check_layout(kind, folders, folder_ref, {})
    # no sample in the reference: the answers say which; without them either will do
    bare = tmp_path / "bare"
    assert "images.npz" in _layout_error(kind, folders, bare, {"image_dataset": "mnist"})
    assert "images/" in _layout_error(kind, npz, bare, {"image_dataset": "folder"})
    scoring.check_layout(kind, npz, bare, {})
    scoring.check_layout(kind, folders, bare, {})
    assert "images.npz or images/" in _layout_error(kind, tmp_path / "empty", bare)


def test_a_damaged_npz_is_a_prepare_error(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "images.npz").write_bytes(b"not a zip")
    sample, inputs = _folders(tmp_path)
    adapter = scoring.for_kind("image-classifier")
    with pytest.raises(scoring.PrepareError, match=r"images\.npz"):
        adapter.prepare(source, sample, inputs, {}, 0)
    arrays.write_npz(source / "images.npz", {"train_x": arrays.integer_array([1])})
    with pytest.raises(scoring.PrepareError, match="not the kind's layout"):
        adapter.prepare(source, sample, inputs, {}, 0)


def test_kaggle_test_files_are_checked_as_the_project_checks_them(tmp_path: Path) -> None:
    adapter = scoring.for_kind("kaggle-entry")
    answers = {"target_column": "Survived", "id_column": "PassengerId", "task": "binary"}

    def prepare(name: str) -> None:
        sample, inputs = _folders(tmp_path / name)
        adapter.prepare(source, sample, inputs, answers, 0)

    source = _titanic(tmp_path / "a")
    _write(source / "test.csv", ["PassengerId", "Pclass", "Fare", "Survived"], [[1000, 1, 2, 0]])
    with pytest.raises(scoring.PrepareError, match="holds the target column 'Survived'"):
        prepare("target")
    _write(source / "test.csv", ["Pclass", "Fare"], [[1, 2.0]])
    with pytest.raises(scoring.PrepareError, match=r"test\.csv has no id column 'PassengerId'"):
        prepare("id")
    _write(source / "test.csv", ["PassengerId", "Pclass", "Age"], [[1000, 1, 2.0]])
    with pytest.raises(scoring.PrepareError, match=r"column 'Age' is only in test\.csv"):
        prepare("features")
    _write(source / "test.csv", ["PassengerId", "Pclass", "Fare"], [[1000, 1, 2.0], [1001, 1, 2]])
    with pytest.raises(scoring.PrepareError, match=r"ids are not those of test\.csv"):
        prepare("ids")
    (source / "sample_submission.csv").unlink()
    _write(source / "my_submission.csv", ["PassengerId", "Survived"], [[1000, 0], [1001, 1]])
    sample, inputs = _folders(tmp_path / "other name")
    adapter.prepare(source, sample, inputs, answers, 0)
    assert (sample / "my_submission.csv").is_file()  # the project finds *submission*.csv


# ---- end to end: a generated project graded by its predictions ---------------------------------


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src")}
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _constant_predictions(kind: str, holdout: scoring.Holdout) -> dict[str, Any]:
    """The best a model that ignores its input can do: the majority class, the training
    mean, or one list of items for every user."""
    if kind == "recommender":
        first = next(iter(holdout.info["popular"].values()))
        return {"recommendations": {user: first for user in holdout.labels}}
    if kind == "forecaster":  # each series' last season's mean, flat: no season, no trend
        naive = holdout.info["naive"]
        return {"forecasts": {u: [sum(v) / len(v)] * len(v) for u, v in naive.items()}}
    if holdout.info.get("task") == "regression":
        return {"values": {key: holdout.info["mean"] for key in holdout.labels}}
    return _constant(holdout)


def _graded(
    tmp_path: Path, kind: str, overrides: tuple[str, ...] = (), **answers: Any
) -> tuple[dict, dict]:
    """Generate, split the bundled sample, run the pipeline (with config `overrides`) and the
    driver in the project's own environment, score: (the model's result, a constant
    prediction's result)."""
    from project_envs import env_python

    project = new_project(tmp_path / "project", kind, package_name="graded", **answers)
    python = str(env_python(project))
    adapter = scoring.for_kind(kind)
    sample, inputs = _folders(tmp_path)
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    holdout = adapter.prepare(project / "data" / "sample", sample, inputs, recorded, seed=0)
    shutil.rmtree(project / "data" / "sample")
    shutil.copytree(sample, project / "data" / "sample")
    done = _run([python, "-m", "graded", "all", "--sample", *overrides], project, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    driver, out = tmp_path / "driver.py", tmp_path / "predictions.json"
    driver.write_text(adapter.driver("graded"), encoding="utf-8")
    done = _run([python, str(driver), str(inputs), str(out)], project)
    assert done.returncode == 0, done.stderr[-3000:]
    result = adapter.score(scoring.read_predictions(out), holdout)
    return result, adapter.score(_constant_predictions(kind, holdout), holdout)


def _beats(result: dict[str, Any]) -> bool:
    name = result["headline"]
    model, baseline = result["model"][name], result["baseline"][name]
    return model > baseline if result["higher_is_better"] else model < baseline


LIGHT = [
    ("kaggle-entry", {}),
    (
        "kaggle-entry",
        {
            "competition": "house-prices-advanced-regression-techniques",
            "target_column": "SalePrice",
            "id_column": "Id",
            "task": "regression",
            "metric": "rmse_log",
        },
    ),
    ("sentiment-classifier", {}),
    ("recommender", {}),
    ("forecaster", {}),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "answers"),
    LIGHT,
    ids=["kaggle-titanic", "kaggle-regression", "sentiment", "recsys", "forecaster"],
)
def test_generated_project_beats_its_baseline_on_held_out_data(
    tmp_path: Path, kind: str, answers: dict[str, Any]
) -> None:
    result, constant = _graded(tmp_path, kind, **answers)
    assert _beats(result), result
    assert not _beats(constant), constant


@pytest.mark.slow
@pytest.mark.heavy
@pytest.mark.skipif(
    not os.environ.get("MLSCAFFOLD_FULL_MATRIX"), reason="heavy kind: set MLSCAFFOLD_FULL_MATRIX=1"
)
def test_image_project_beats_its_baseline_on_held_out_images(tmp_path: Path) -> None:
    # fewer epochs than the default 18: the check is the grading path, not the network
    result, constant = _graded(tmp_path, "image-classifier", ("train.epochs=6",))
    assert _beats(result), result
    assert result["model"]["top5_accuracy"] >= result["model"]["accuracy"]
    assert not _beats(constant), constant
