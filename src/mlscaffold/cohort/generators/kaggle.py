"""kaggle-entry's labelled tables: a Titanic-schema passenger list whose survival follows the
well-known pattern (sex, class, age, family), and generic binary / multiclass / regression
tables for any other competition; each as train.csv, test.csv and sample_submission.csv.
Nothing here is real data (Kaggle's files may not be redistributed). The bundled samples
(scripts/make_kaggle_samples.py, headers with the template's `{{ id_column }}` and
`{{ target_column }}`) and the grader's fresh held-out data (mlscaffold.cohort.fresh, headers
from the answers) are both made here. Standard library only.
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Callable, Container
from typing import Any

Table = tuple[list[str], list[list[Any]]]  # header, rows
ID, TARGET = "{{ id_column }}", "{{ target_column }}"  # the template's placeholders
PARTS = ("train", "test", "sample_submission")  # the sample's files: f"{part}.csv"
TASKS = ("binary", "multiclass", "regression")
BUNDLED_SEEDS = {"titanic": 7, "generic": 11}  # the bundled samples' seeds
TITANIC_FEATURES = ["Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare", "Cabin"]
TITANIC_FEATURES.append("Embarked")
GENERIC_FEATURES = ["num_a", "num_b", "num_c", "colour", "size"]
TITANIC_ROWS = (360, 120)  # train, test: ids 1..360, 361..480
GENERIC_ROWS = (400, 120)  # ids 1..400, 401..520
SURNAMES = ["Abbott", "Baker", "Carter", "Dawson", "Ellis", "Fisher", "Graham", "Hughes"]
SURNAMES += ["Ingram", "Jensen", "Keller", "Larsen", "Morgan", "Nolan", "Olsen", "Parker"]
SURNAMES += ["Quinn", "Reed", "Sutton", "Turner", "Usher", "Vance", "Walsh", "Young"]
GIVEN = {
    "male": ["John", "William", "Thomas", "Henry", "Arthur", "Charles", "George", "Edward"],
    "female": ["Mary", "Anna", "Elizabeth", "Margaret", "Alice", "Helen", "Florence", "Ellen"],
}


def key(features: list[Any]) -> tuple[str, ...]:
    """A row's feature values (no id, no target) as the CSV spells them: what `exclude` holds."""
    return tuple("" if value is None else str(value) for value in features)


def _passenger(rng: random.Random, pid: int) -> tuple[list[object], int]:
    sex = "female" if rng.random() < 0.36 else "male"
    pclass = rng.choices([1, 2, 3], weights=[0.24, 0.21, 0.55])[0]
    age = None if rng.random() < 0.2 else round(max(0.5, rng.gauss(30 - 4 * pclass, 13)), 1)
    child = age is not None and age < 13
    if sex == "male":
        adult = rng.choices(["Mr", "Dr", "Rev"], weights=[0.95, 0.03, 0.02])[0]
        title = "Master" if child else adult
    else:
        title = "Miss" if (child or rng.random() < 0.45) else "Mrs"
    sibsp = rng.choices([0, 1, 2, 3, 4], weights=[0.68, 0.23, 0.04, 0.03, 0.02])[0]
    parch = rng.choices([0, 1, 2, 3], weights=[0.76, 0.13, 0.09, 0.02])[0]
    surname = rng.choice(SURNAMES)
    name = f"{surname}, {title}. {rng.choice(GIVEN[sex])} {rng.choice(SURNAMES)}"
    fare = round(max(4.0, rng.lognormvariate(math.log([0, 70, 20, 9][pclass]), 0.5)), 4)
    ticket = f"{rng.choice(['', 'PC ', 'A/5 ', 'STON/O2. '])}{rng.randint(1000, 399999)}"
    has_cabin = pclass == 1 and rng.random() < 0.7
    cabin = f"{rng.choice('ABCDE')}{rng.randint(1, 120)}" if has_cabin else ""
    embarked = rng.choices(["S", "C", "Q", ""], weights=[0.72, 0.19, 0.085, 0.005])[0]
    score = (2.4 if sex == "female" else -1.2) + (0.9, 0.2, -0.8)[pclass - 1]
    score += 1.3 if title == "Master" else 0.0
    score -= 0.7 if sibsp + parch >= 4 else 0.0
    survived = int(rng.random() < 1 / (1 + math.exp(-score)))
    row = [pid, pclass, name, sex, "" if age is None else age, sibsp, parch, ticket, fare, cabin]
    return [*row, embarked], survived


def _new_passenger(
    rng: random.Random, pid: int, exclude: Container[tuple[str, ...]]
) -> tuple[list[object], int]:
    row, survived = _passenger(rng, pid)
    while key(row[1:]) in exclude:  # never by default: the bundled draws are unchanged
        row, survived = _passenger(rng, pid)
    return row, survived


def titanic(
    rng: random.Random,
    id_column: str = ID,
    target_column: str = TARGET,
    exclude: Container[tuple[str, ...]] = (),
    scale: int = 1,
) -> dict[str, Table]:
    """The Titanic-schema sample: part ("train", "test", "sample_submission") -> table. A
    passenger whose features are in `exclude` (see `key`) is drawn again; `scale` times the
    bundled sample's rows (the grader's fresh data: a larger hold-out, a steadier score)."""
    train, test = [], []
    n_train, n_test = (n * scale for n in TITANIC_ROWS)
    for pid in range(1, n_train + 1):
        row, survived = _new_passenger(rng, pid, exclude)
        train.append([row[0], survived, *row[1:]])
    for pid in range(n_train + 1, n_train + n_test + 1):
        test.append(_new_passenger(rng, pid, exclude)[0])
    return {
        "train": ([id_column, target_column, *TITANIC_FEATURES], train),
        "test": ([id_column, *TITANIC_FEATURES], test),
        "sample_submission": ([id_column, target_column], [[r[0], 0] for r in test]),
    }


def _generic_row(rng: random.Random) -> tuple[list[object], float]:
    a, b, c = rng.gauss(0, 1), rng.gauss(0, 1), rng.uniform(0, 10)
    colour = rng.choice(["red", "green", "blue"])
    size = rng.choice(["S", "M", "L", ""])
    signal = 1.5 * a - b + 0.3 * c + {"red": 1.0, "green": 0.0, "blue": -1.0}[colour]
    b_value = round(b, 4) if rng.random() > 0.05 else ""
    return [round(a, 4), b_value, round(c, 3), colour, size], signal


def _new_generic_row(
    rng: random.Random, exclude: Container[tuple[str, ...]]
) -> tuple[list[object], float]:
    row, signal = _generic_row(rng)
    while key(row) in exclude:
        row, signal = _generic_row(rng)
    return row, signal


def generic(
    rng: random.Random,
    id_column: str = ID,
    target_column: str = TARGET,
    exclude: Container[tuple[str, ...]] = (),
    scale: int = 1,
) -> dict[str, dict[str, Table]]:
    """The three generic samples, made in turn from `rng`: task -> part -> table (`scale`
    times the bundled rows)."""
    tasks: dict[str, Callable[[float], Any]] = {
        "binary": lambda s: int(s + rng.gauss(0, 0.8) > 1.5),
        "multiclass": lambda s: ["low", "mid", "high"][(s > 0.8) + (s > 2.6)],
        "regression": lambda s: round(math.exp(3 + 0.35 * s + rng.gauss(0, 0.1)), 2),
    }
    n_train, n_test = (n * scale for n in GENERIC_ROWS)
    samples = {}
    for task, label in tasks.items():
        train = []
        for i in range(1, n_train + 1):
            row, signal = _new_generic_row(rng, exclude)
            train.append([i, *row, label(signal)])
        ids = range(n_train + 1, n_train + n_test + 1)
        test = [[i, *_new_generic_row(rng, exclude)[0]] for i in ids]
        placeholder = {"binary": 0, "multiclass": "low", "regression": 100.0}[task]
        samples[task] = {
            "train": ([id_column, *GENERIC_FEATURES, target_column], train),
            "test": ([id_column, *GENERIC_FEATURES], test),
            "sample_submission": ([id_column, target_column], [[r[0], placeholder] for r in test]),
        }
    return samples


def bundled() -> dict[str, dict[str, Table]]:
    """The bundled samples, as templates/_samples/kaggle-entry/ holds them (placeholders in
    the headers): sample ("titanic" or a task) -> part -> table."""
    return {
        "titanic": titanic(random.Random(BUNDLED_SEEDS["titanic"])),
        **generic(random.Random(BUNDLED_SEEDS["generic"])),
    }


def feature_keys(table: Table) -> set[tuple[str, ...]]:
    """The `key` of every row of a sample table (its id and target columns left out)."""
    header, rows = table
    keep = [i for i, name in enumerate(header) if name not in (ID, TARGET)]
    return {key([row[i] for i in keep]) for row in rows}


def csv_text(table: Table) -> str:
    """One table as the sample's CSV file (written as csv writes it, "\\n" line ends)."""
    header, rows = table
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
