"""`cohort grade` checks the instructor's evaluation data (grading/data/) before any student:
a file missing from the kind's layout, or data that cannot be split, is the instructor's to
fix (exit 2, naming the file), not a zero for everyone. No project is generated here: the
reference project is only the files check_data reads."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlscaffold.cohort import grading
from mlscaffold.errors import EXIT_USAGE, UsageError

ANSWERS = {"kind": "kaggle-entry", "target_column": "Survived", "id_column": "PassengerId"}


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _titanic(folder: Path, rows: int = 40) -> None:
    train = [[i, i % 2, i % 3] for i in range(rows)]
    _write(folder / "train.csv", ["PassengerId", "Survived", "Pclass"], train)
    _write(folder / "test.csv", ["PassengerId", "Pclass"], [[1000, 1], [1001, 2]])
    _write(folder / "sample_submission.csv", ["PassengerId", "Survived"], [[1000, 0], [1001, 0]])


def _assignment(tmp_path: Path, answers: dict[str, Any] = ANSWERS) -> tuple[Path, Path]:
    """(assignment folder, reference project) with a Titanic-like bundled sample."""
    reference = tmp_path / "assignment" / ".reference" / "0.0.0"
    _titanic(reference / "data" / "sample")
    (reference / ".copier-answers.yml").write_text(yaml.safe_dump(answers), encoding="utf-8")
    return tmp_path / "assignment", reference


def _refused(assignment: Path, kind: str, reference: Path) -> str:
    with pytest.raises(UsageError) as caught:
        grading.check_data(assignment, kind, reference, 0)
    assert caught.value.exit_code == EXIT_USAGE
    return str(caught.value)


def test_evaluation_data_without_test_csv_is_refused_naming_it(tmp_path: Path) -> None:
    assignment, reference = _assignment(tmp_path)
    grading.check_data(assignment, "kaggle-entry", reference, 0)  # no grading/data: the sample
    data = assignment / "grading" / "data"
    _titanic(data)
    grading.check_data(assignment, "kaggle-entry", reference, 0)
    (data / "sample_submission.csv").unlink()
    message = _refused(assignment, "kaggle-entry", reference)
    assert f"{data} has no sample_submission.csv" in message, message
    (data / "test.csv").unlink()
    message = _refused(assignment, "kaggle-entry", reference)
    assert f"{data} has no test.csv" in message and "sample_submission.csv" in message


def test_evaluation_data_that_cannot_be_split_is_refused(tmp_path: Path) -> None:
    assignment, reference = _assignment(tmp_path)
    data = assignment / "grading" / "data"
    _titanic(data)
    _write(data / "test.csv", ["PassengerId", "Pclass", "Survived"], [[1000, 1, 0]])
    assert "holds the target column 'Survived'" in _refused(assignment, "kaggle-entry", reference)


def test_a_damaged_images_npz_is_refused_not_a_crash(tmp_path: Path) -> None:
    assignment, reference = _assignment(tmp_path, {"kind": "image-classifier"})
    (reference / "data" / "sample" / "images.npz").write_bytes(b"")
    data = assignment / "grading" / "data"
    data.mkdir(parents=True)
    (data / "images").mkdir()
    (data / "images" / "README.txt").write_text("no images yet")
    assert f"{data} has no images.npz" in _refused(assignment, "image-classifier", reference)
    (data / "images.npz").write_bytes(b"PK not really")
    assert "images.npz" in _refused(assignment, "image-classifier", reference)
