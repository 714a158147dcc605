"""Regenerate the Kaggle template's synthetic samples (templates/_samples/kaggle-entry/).

    python scripts/make_kaggle_samples.py

Kaggle's files may not be redistributed, so the samples are generated: a Titanic-schema
passenger list whose survival follows the well-known pattern (sex, class, age, family), and
generic binary / multiclass / regression tables for any other competition. Headers use the
template's answers (`{{ id_column }}`, `{{ target_column }}`); nothing here is real data.
"""

from __future__ import annotations

import csv
import io
import math
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "templates" / "_samples" / "kaggle-entry"
ID, TARGET = "{{ id_column }}", "{{ target_column }}"
SURNAMES = ["Abbott", "Baker", "Carter", "Dawson", "Ellis", "Fisher", "Graham", "Hughes"]
SURNAMES += ["Ingram", "Jensen", "Keller", "Larsen", "Morgan", "Nolan", "Olsen", "Parker"]
SURNAMES += ["Quinn", "Reed", "Sutton", "Turner", "Usher", "Vance", "Walsh", "Young"]
GIVEN = {
    "male": ["John", "William", "Thomas", "Henry", "Arthur", "Charles", "George", "Edward"],
    "female": ["Mary", "Anna", "Elizabeth", "Margaret", "Alice", "Helen", "Florence", "Ellen"],
}


def _write(name: str, header: list[str], rows: list[list[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    (OUT / name).write_text(buffer.getvalue(), encoding="utf-8")


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


def titanic(rng: random.Random) -> None:
    features = ["Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare", "Cabin"]
    features.append("Embarked")
    train, test = [], []
    for pid in range(1, 361):
        row, survived = _passenger(rng, pid)
        train.append([row[0], survived, *row[1:]])
    for pid in range(361, 481):
        test.append(_passenger(rng, pid)[0])
    _write("titanic_train.csv", [ID, TARGET, *features], train)
    _write("titanic_test.csv", [ID, *features], test)
    _write("titanic_sample_submission.csv", [ID, TARGET], [[r[0], 0] for r in test])


def _generic_row(rng: random.Random) -> tuple[list[object], float]:
    a, b, c = rng.gauss(0, 1), rng.gauss(0, 1), rng.uniform(0, 10)
    colour = rng.choice(["red", "green", "blue"])
    size = rng.choice(["S", "M", "L", ""])
    signal = 1.5 * a - b + 0.3 * c + {"red": 1.0, "green": 0.0, "blue": -1.0}[colour]
    b_value = round(b, 4) if rng.random() > 0.05 else ""
    return [round(a, 4), b_value, round(c, 3), colour, size], signal


def generic(rng: random.Random) -> None:
    header = ["num_a", "num_b", "num_c", "colour", "size"]
    tasks = {
        "binary": lambda s: int(s + rng.gauss(0, 0.8) > 1.5),
        "multiclass": lambda s: ["low", "mid", "high"][(s > 0.8) + (s > 2.6)],
        "regression": lambda s: round(math.exp(3 + 0.35 * s + rng.gauss(0, 0.1)), 2),
    }
    for task, label in tasks.items():
        train = []
        for i in range(1, 401):
            row, signal = _generic_row(rng)
            train.append([i, *row, label(signal)])
        test = [[i, *_generic_row(rng)[0]] for i in range(401, 521)]
        placeholder = {"binary": 0, "multiclass": "low", "regression": 100.0}[task]
        _write(f"{task}_train.csv", [ID, *header, TARGET], train)
        _write(f"{task}_test.csv", [ID, *header], test)
        _write(f"{task}_sample_submission.csv", [ID, TARGET], [[r[0], placeholder] for r in test])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    titanic(random.Random(7))
    generic(random.Random(11))
    print(f"wrote {len(list(OUT.glob('*.csv')))} files to {OUT}")


if __name__ == "__main__":
    main()
