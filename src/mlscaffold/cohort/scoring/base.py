"""What every kind's adapter shares: the hold-out record, the errors, reading untrusted
predictions, splitting labelled rows, and scoring class probabilities.

Standard library only: this runs in the grader's own process, outside the sandbox, where
numpy and scikit-learn are not installed (and need not be trusted to parse student output).
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mlscaffold.cohort.scoring import metrics

HOLDOUT_SHARE = 0.25  # of the labelled rows, kept out of the sandbox for scoring
MAX_PREDICTION_BYTES = 64 * 1024 * 1024  # a predictions file larger than this is refused
SUM_TOLERANCE = 1e-3  # how far a row of class probabilities may sum from 1
SHOWN = 40  # characters of a student's value quoted in an error message


@dataclass(frozen=True)
class Holdout:
    """What the grader keeps outside the sandbox: the hidden labels, and what scoring needs
    besides them (the training part's class counts for the baseline, the metric's name)."""

    labels: Any  # JSON-able; never enters the sandbox
    info: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"labels": self.labels, "info": self.info}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Holdout:
        return cls(labels=data["labels"], info=dict(data["info"]))


class ScoringError(Exception):
    """The predictions are missing or malformed. The message is one line, safe to show a
    student: it never quotes a hidden label."""


class PrepareError(ValueError):
    """The instructor's labelled data cannot be split for grading (a setup problem, not the
    student's): the message names the file or column."""


class LayoutError(PrepareError):
    """The instructor's evaluation data lacks a file of the kind's layout (the one the
    project's data/sample/ has): every student's pipeline would fail on it alike."""


@dataclass(frozen=True)
class Need:
    """One thing the evaluation data must hold: `name` says what in a message, `found`
    tells whether a folder holds it (alternatives, such as either of two file names, are
    one need)."""

    name: str
    found: Callable[[Path], bool]


def file_need(name: str, *others: str) -> Need:
    """A plain file called `name`, or one matching any of the glob patterns `others`."""
    patterns = (name, *others)
    label = f"{name} (or {' or '.join(others)})" if others else name

    def found(folder: Path) -> bool:
        return any(path.is_file() for pattern in patterns for path in folder.glob(pattern))

    return Need(label, found)


def missing(needs: Sequence[Need], folder: Path, kind: str) -> None:
    """Refuse `folder` when it lacks any of `needs`, naming the first missing one, the
    folder and the whole layout, in one line."""
    absent = [need for need in needs if not (folder.is_dir() and need.found(folder))]
    if absent:
        names = [need.name for need in needs]
        layout = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        raise LayoutError(
            f"{folder} has no {absent[0].name}"
            + (f" (nor {', '.join(n.name for n in absent[1:])})" if absent[1:] else "")
            + f": {kind} grades from {layout}, as in the project's data/sample/"
        )


class Adapter(Protocol):
    """One kind's part of grading: split the labelled data, predict inside the sandbox, score
    outside it."""

    def required(self, reference: Path, answers: dict[str, Any]) -> list[Need]:
        """What the labelled data must hold for this assignment (its reference project's
        data/sample/ and answers), checked before any student is graded."""
        ...

    def prepare(
        self, source: Path, sample: Path, inputs: Path, answers: dict[str, Any], seed: int = 0
    ) -> Holdout: ...

    def driver(self, package: str) -> str: ...

    def score(self, predictions: Any, holdout: Holdout) -> dict[str, Any]: ...


# ---- untrusted predictions ----------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ScoringError(f"the predictions repeat the key {show(key)}")
        seen[key] = value
    return seen


def read_predictions(path: Path, limit: int = MAX_PREDICTION_BYTES) -> Any:
    """The driver's output file, parsed with a size limit and no repeated keys (JSON would
    silently keep the last one). NaN and Infinity parse as floats: `score` names the row."""
    from mlscaffold.cohort import sandbox

    try:
        data = sandbox.read_output(path, limit)  # a link or FIFO the student left is refused
    except sandbox.OutputTooLarge:
        raise ScoringError(f"the predictions file is over the limit of {limit} bytes") from None
    except sandbox.OutputMissing:
        raise ScoringError("no predictions were written") from None
    except sandbox.UnsafeOutput:
        raise ScoringError("no usable predictions file was written (not a plain file)") from None
    try:
        text = data.decode("utf-8")
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise ScoringError("the predictions file is not UTF-8 text") from None
    except (ValueError, RecursionError):  # bad JSON, a 5,000-digit integer, ...
        raise ScoringError("the predictions file is not valid JSON") from None


def show(value: Any) -> str:
    """A student's value for an error message: one line, never long."""
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


_INTEGER = re.compile(r"[+-]?\d+(\.0*)?")


def canonical(value: Any) -> str:
    """One spelling per id or label, whoever wrote it: the CSV's text (`"7"`, `" 7 "`,
    `"007"`, `"7.0"`) and what pandas or numpy give back (`7`, `7.0`) all become `"7"`;
    other text is only stripped. Refuses what no CSV cell could be (bool, None, lists)."""
    if isinstance(value, bool) or value is None:
        raise TypeError(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(value)
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            try:
                return str(int(text.split(".")[0]))
            except ValueError:  # more digits than int() converts: no CSV id is that long
                return text
        return text
    raise TypeError(value)


def student_key(value: Any, what: str) -> str:
    try:
        return canonical(value)
    except TypeError:
        raise ScoringError(f"{what} {show(value)} is not a string or an integer") from None


def number(value: Any, what: str) -> float:
    """A finite number from untrusted JSON (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScoringError(f"{what} is not a number: {show(value)}")
    try:
        result = float(value)
    except OverflowError:  # an integer of hundreds of digits: JSON allows it
        raise ScoringError(f"{what} is not a finite number ({show(value)})") from None
    if not math.isfinite(result):
        raise ScoringError(f"{what} is not a finite number ({show(value)})")
    return result


def keyed(predictions: Any, field: str, expected: Sequence[str], what: str) -> dict[str, Any]:
    """`predictions[field]`, an object with exactly the `expected` ids as keys (canonical
    spelling), checked for size before anything else is read."""
    if not isinstance(predictions, dict):
        raise ScoringError(f"the predictions must be a JSON object, not {type_name(predictions)}")
    table = predictions.get(field)
    if not isinstance(table, dict):
        raise ScoringError(f"the predictions have no `{field}` object ({what} -> prediction)")
    if len(table) != len(expected):
        raise ScoringError(f"expected {len(expected)} predictions, got {len(table)}")
    wanted = set(expected)
    found: dict[str, Any] = {}
    for key, value in table.items():
        name = student_key(key, what)
        if name not in wanted:
            raise ScoringError(f"the predictions name an unknown {what} {show(key)}")
        if name in found:
            raise ScoringError(f"the predictions give {what} {show(key)} twice")
        found[name] = value
    return found  # as many keys as expected, all known and distinct: none is missing


def type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string"}.get(
        type(value), type(value).__name__
    )


# ---- labelled data ------------------------------------------------------------------------


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV file, as text (no type guessing: ids keep their spelling)."""
    if not path.is_file():
        raise PrepareError(f"{path} not found")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        header = list(reader.fieldnames or [])
    if not header:
        raise PrepareError(f"{path} is empty")
    return header, rows


def write_csv(path: Path, header: Sequence[str], rows: Iterable[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def held_count(size: int, share: float = HOLDOUT_SHARE, keep: int = 2) -> int:
    """How many of `size` rows to hold out: about `share`, leaving at least `keep`."""
    return max(0, min(int(size * share + 0.5), size - keep))


def stratified(labels: Sequence[str], seed: int, share: float = HOLDOUT_SHARE) -> set[int]:
    """Indices to hold out: about `share` of each class, the same ones for the same seed.
    A class with fewer than three rows stays whole in training (the projects refuse a class
    with one example)."""
    by_class: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_class.setdefault(label, []).append(index)
    rng = random.Random(seed)
    held: set[int] = set()
    for label in sorted(by_class):
        members = by_class[label]
        rng.shuffle(members)
        held.update(members[: held_count(len(members), share)])
    return held


def shuffled(indices: Iterable[int], seed: int) -> list[int]:
    """The held-out rows in an order unrelated to their labels or the file's order."""
    order = sorted(indices)
    random.Random(seed + 1).shuffle(order)
    return order


def class_order(labels: Iterable[str]) -> list[str]:
    """Classes sorted as scikit-learn sorts them: numerically when every one is an integer."""
    distinct = set(labels)
    if all(_INTEGER.fullmatch(label) for label in distinct):
        return sorted(distinct, key=int)
    return sorted(distinct)


# ---- class probabilities ------------------------------------------------------------------


def probability_rows(predictions: Any, holdout: Holdout) -> tuple[list[str], list[list[float]]]:
    """`{"classes": [...], "probabilities": {id: [p, ...]}}` checked against the hold-out:
    (true labels, probability rows over the training classes), both in the hold-out's order.
    A class the model never predicts gets probability 0."""
    classes: list[str] = holdout.info["classes"]
    labels: dict[str, str] = holdout.labels
    if not isinstance(predictions, dict):
        raise ScoringError(f"the predictions must be a JSON object, not {type_name(predictions)}")
    named = predictions.get("classes")
    if not isinstance(named, list) or not 1 <= len(named) <= len(classes):
        raise ScoringError(
            f"the predictions need `classes`, a list of 1 to {len(classes)} class names"
        )
    position = {name: index for index, name in enumerate(classes)}
    columns = []
    for value in named:
        name = student_key(value, "class")
        if name not in position:
            raise ScoringError(f"class {show(value)} is not a class of the training data")
        if position[name] in columns:
            raise ScoringError(f"class {show(value)} is listed twice")
        columns.append(position[name])
    found = keyed(predictions, "probabilities", list(labels), "id")
    truth, rows = [], []
    for key, label in labels.items():
        values = found[key]
        if not isinstance(values, list) or len(values) != len(columns):
            raise ScoringError(
                f"the prediction for id {key} is not a list of {len(columns)} numbers"
            )
        row = [0.0] * len(classes)
        for column, value in zip(columns, values, strict=True):
            p = number(value, f"a probability for id {key}")
            if not -1e-9 <= p <= 1 + 1e-9:
                raise ScoringError(f"a probability for id {key} is outside [0, 1]: {show(value)}")
            row[column] = min(max(p, 0.0), 1.0)
        if abs(sum(row) - 1) > SUM_TOLERANCE:
            raise ScoringError(f"the probabilities for id {key} do not sum to 1")
        truth.append(label)
        rows.append(row)
    return truth, rows


def prior(counts: Sequence[int], rows: int) -> list[list[float]]:
    """The trivial baseline: every row gets the training part's class shares."""
    total = sum(counts)
    shares = [count / total for count in counts]
    return [list(shares) for _ in range(rows)]


def argmax(row: Sequence[float]) -> int:
    """The first of the largest (numpy's argmax): ties go to the earlier class."""
    best = 0
    for index, value in enumerate(row):
        if value > row[best]:
            best = index
    return best


def classification(
    truth: Sequence[str],
    rows: Sequence[Sequence[float]],
    classes: Sequence[str],
    names: dict[str, str],
    top_k: int | None = None,
) -> dict[str, float]:
    """Every classification metric the kinds report, under the kind's own `names`
    (accuracy, macro precision/recall/F1, log loss, binary ROC AUC, top-k accuracy); a
    metric whose name maps to "" is left out, as is ROC AUC when one class is missing."""
    predicted = [classes[argmax(row)] for row in rows]
    precision, recall, f1 = metrics.macro_scores(truth, predicted, classes)
    index = {name: i for i, name in enumerate(classes)}
    values = {
        "accuracy": metrics.accuracy(truth, predicted),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "log_loss": metrics.log_loss(
            [row[index[t]] if t in index else 0.0 for t, row in zip(truth, rows, strict=True)]
        ),
    }
    if len(classes) == 2:
        positive = [t == classes[1] for t in truth]
        auc = metrics.roc_auc(positive, [row[1] for row in rows])
        if auc is not None:
            values["roc_auc"] = auc
    if top_k is not None and len(classes) > top_k:
        values["top_k"] = metrics.top_k_accuracy([index.get(t, -1) for t in truth], rows, top_k)
    return {names[key]: value for key, value in values.items() if names.get(key)}


# ---- drivers ------------------------------------------------------------------------------

DRIVER = '''\
"""Predictions for the grader: run in the sandbox after the pipeline, as
`python driver.py INPUTS_DIR OUT_FILE` from the project root with PYTHONPATH=src.
Written by mlscaffold's cohort grader ({kind}); the scores are computed outside."""

import importlib
import json
import sys
from pathlib import Path

PACKAGE = {package!r}


def project(module):
    return importlib.import_module(PACKAGE + "." + module)


def plumbing(module):
    """A shared module: in the plumbing subpackage since template 0.4.0, at the top before."""
    try:
        return importlib.import_module(PACKAGE + ".plumbing." + module)
    except ModuleNotFoundError as exc:
        if exc.name != PACKAGE + ".plumbing":
            raise
        return project(module)


{body}

def main(argv):
    if len(argv) != 3:
        print("usage: driver.py INPUTS_DIR OUT_FILE", file=sys.stderr)
        return 2
    inputs, out = Path(argv[1]), Path(argv[2])
    root = Path.cwd()
    result = predict(root, inputs, plumbing("paths").Paths(root))
    out.write_text(json.dumps(result), encoding="utf-8")  # half-written: invalid JSON
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # one line for the grader, whatever the project raised
        line = (str(exc).strip().splitlines() or [""])[0][:300]
        print(f"driver: {{type(exc).__name__}}: {{line}}", file=sys.stderr)
        sys.exit(1)
'''


def driver_source(kind: str, package: str, body: str) -> str:
    """A kind's `predict(root, inputs, paths) -> dict` wrapped in the common driver: the
    project's package imported by name, JSON written to OUT_FILE only (its folder may be
    read-only), a one-line error and exit 1 on any failure."""
    if not package.isidentifier():
        raise ValueError(f"package name {package!r} is not a Python identifier")
    return DRIVER.format(kind=kind, package=package, body=body.strip() + "\n")


def classifier_scores(
    predictions: Any, holdout: Holdout, names: Any, top_k: int | None = None
) -> dict[str, Any]:
    """A classifier's metrics on the held-out rows beside the training class shares' (the
    most-frequent-class baseline): the scoring every classifying kind shares."""
    truth, rows = probability_rows(predictions, holdout)
    classes = holdout.info["classes"]
    baseline = prior(holdout.info["counts"], len(truth))
    extra = {} if top_k is None else {"top_k": top_k}
    return {
        "model": classification(truth, rows, classes, names, **extra),
        "baseline": classification(truth, baseline, classes, names, **extra),
        "headline": "accuracy",
        "higher_is_better": True,
    }
