"""kaggle-entry: train.csv rows held out (stratified for classification), predicted by the
project's own fold models, scored in the competition's metric."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

from mlscaffold.cohort.scoring import base, metrics

HIGHER_IS_BETTER = {"accuracy": True, "roc_auc": True}  # the kind's metrics.py: others lower
CLASSIFICATION_METRICS = ("accuracy", "roc_auc", "log_loss")
REGRESSION_METRICS = ("rmse", "rmse_log", "mae")
TEST_FILE = "test.csv"
SUBMISSION_FILE = "sample_submission.csv"  # or the competition's own *submission*.csv (Titanic's
SUBMISSIONS = "*submission*.csv"  # gender_submission.csv), as the kind's data.submission_file

DRIVER_BODY = '''
def predict(root, inputs, paths):
    """The project's submission predictions, as `make train` makes test_predictions.npy:
    the model refit on all rows (template 0.5.0 on), else the fold models' average."""
    import pandas as pd

    model = project("model")
    meta = json.loads((inputs / "meta.json").read_text(encoding="utf-8"))
    frame = pd.read_csv(inputs / "test.csv")
    ids = [str(value) for value in frame[meta["id"]]]
    features = frame.drop(columns=[meta["id"]])
    regression = meta["task"] == "regression"
    refit = paths.models / getattr(model, "MODEL_FILE", "")
    if getattr(model, "MODEL_FILE", None) and refit.is_file():
        served = model.load(refit)
        average = model.predict(served["model"], features, regression)
        folds = served
    else:
        folds = model.load(paths.models / model.FOLDS_FILE)
        total = None
        for fitted in folds["models"]:
            part = model.predict(fitted, features, regression)
            total = part if total is None else total + part
        average = total / len(folds["models"])
    if regression:
        return {"values": dict(zip(ids, average.tolist()))}
    classes = [str(c) for c in folds["classes"]]
    return {"classes": classes, "probabilities": dict(zip(ids, average.tolist()))}
'''


def _settings(answers: dict[str, Any]) -> tuple[str, str, str, str]:
    """(target, id, task, metric) from the assignment's answers (the template's defaults
    where one is not recorded), checked as the template's questions check them."""
    target = str(answers.get("target_column") or "Survived")
    id_column = str(answers.get("id_column") or "PassengerId")
    task = str(answers.get("task") or "binary")
    metric = str(answers.get("metric") or ("rmse" if task == "regression" else "accuracy"))
    allowed = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    if task not in ("binary", "multiclass", "regression") or metric not in allowed:
        raise base.PrepareError(f"kaggle-entry: metric {metric!r} does not fit task {task!r}")
    if task == "multiclass" and metric == "roc_auc":
        raise base.PrepareError("kaggle-entry: roc_auc is for binary tasks")
    return target, id_column, task, metric


def submission_file(folder: Path) -> Path | None:
    """The sample submission as the kind's data.submission_file finds it."""
    if (folder / SUBMISSION_FILE).is_file():
        return folder / SUBMISSION_FILE
    return next((p for p in sorted(folder.glob(SUBMISSIONS)) if p.is_file()), None)


def _check_test_files(source: Path, train_header: list[str], target: str, id_column: str) -> None:
    """test.csv and the sample submission as the kind's pipeline checks them (its
    data.check_schema and predict.validate), so that no student's run fails on them."""
    path = source / TEST_FILE
    header, rows = base.read_csv(path)
    if id_column not in header:
        raise base.PrepareError(f"{path} has no id column {id_column!r}")
    if target in header:
        raise base.PrepareError(f"{path} holds the target column {target!r}")
    features = set(train_header) - {target}
    for column in sorted(features ^ set(header)):
        where = "train.csv" if column in features else "test.csv"
        raise base.PrepareError(f"{source}: column {column!r} is only in {where}")
    ids = [base.canonical(row[id_column] or "") for row in rows]
    if len(set(ids)) != len(ids):
        raise base.PrepareError(f"{path}: id column {id_column!r} repeats")
    submission = submission_file(source)
    if submission is None:
        return
    header, rows = base.read_csv(submission)
    if id_column not in header:
        raise base.PrepareError(f"{submission} has no id column {id_column!r}")
    if {base.canonical(row[id_column] or "") for row in rows} != set(ids) or len(rows) != len(ids):
        raise base.PrepareError(f"{submission}: its ids are not those of {path.name}")


class KaggleAdapter:
    """Hold out a quarter of train.csv; the sandbox keeps the rest (and the unlabelled
    test.csv, so the project's pipeline runs unchanged) and predicts the held-out rows."""

    kind = "kaggle-entry"

    def required(self, reference: Path, answers: dict[str, Any]) -> list[base.Need]:
        """train.csv, and test.csv and a sample submission where the project's sample has
        them (its pipeline predicts test.csv and checks the submission against the sample)."""
        sample = reference / "data" / "sample"
        needs = [base.file_need("train.csv")]
        if (sample / TEST_FILE).is_file():
            needs.append(base.file_need(TEST_FILE))
        if submission_file(sample) is not None:
            needs.append(base.file_need(SUBMISSION_FILE, SUBMISSIONS))
        return needs

    def prepare(
        self, source: Path, sample: Path, inputs: Path, answers: dict[str, Any], seed: int = 0
    ) -> base.Holdout:
        target, id_column, task, metric = _settings(answers)
        header, rows = base.read_csv(source / "train.csv")
        for column in (target, id_column):
            if column not in header:
                raise base.PrepareError(f"{source / 'train.csv'} has no column {column!r}")
        rows = [row for row in rows if (row.get(target) or "").strip()]
        ids = [base.canonical(row[id_column]) for row in rows]
        if len(set(ids)) != len(ids):
            raise base.PrepareError(f"{source / 'train.csv'}: id column {id_column!r} repeats")
        regression = task == "regression"
        if regression:
            try:
                truth: list[Any] = [float(row[target]) for row in rows]
            except ValueError:
                raise base.PrepareError(f"train.csv: {target!r} is not numeric") from None
            if not all(math.isfinite(value) for value in truth):
                raise base.PrepareError(f"train.csv: {target!r} holds inf or nan")
            keep = len(rows) - base.held_count(len(rows), keep=10)
            order = base.shuffled(range(len(rows)), seed)
            held = set(order[keep:])
        else:
            truth = [base.canonical(row[target]) for row in rows]
            held = base.stratified(truth, seed)
        if not held:
            raise base.PrepareError(f"{source / 'train.csv'} has too few rows to hold any out")
        training = [row for i, row in enumerate(rows) if i not in held]
        base.write_csv(sample / "train.csv", header, training)
        features = [column for column in header if column != target]
        evaluation = [rows[i] for i in base.shuffled(held, seed)]
        base.write_csv(inputs / "test.csv", features, evaluation)
        (inputs / "meta.json").write_text(
            json.dumps({"id": id_column, "task": task}), encoding="utf-8"
        )
        if (source / TEST_FILE).is_file():  # the project's pipeline also predicts test.csv
            _check_test_files(source, header, target, id_column)
            shutil.copyfile(source / TEST_FILE, sample / TEST_FILE)
            submission = submission_file(source)
            if submission is not None:
                shutil.copyfile(submission, sample / submission.name)
        else:  # no competition test file: the held-out inputs, unlabelled, stand in
            base.write_csv(sample / "test.csv", features, evaluation)
        labels = {ids[i]: truth[i] for i in base.shuffled(held, seed)}
        kept = [truth[i] for i in range(len(rows)) if i not in held]
        info: dict[str, Any] = {"task": task, "metric": metric}
        if regression:
            info["mean"] = sum(kept) / len(kept)
        else:
            classes = base.class_order(kept)
            info["classes"] = classes
            info["counts"] = [kept.count(name) for name in classes]
        return base.Holdout(labels, info)

    def driver(self, package: str) -> str:
        return base.driver_source(self.kind, package, DRIVER_BODY)

    def score(self, predictions: Any, holdout: base.Holdout) -> dict[str, Any]:
        metric = holdout.info["metric"]
        if holdout.info["task"] == "regression":
            model, baseline = self._regression(predictions, holdout)
        else:
            truth, rows = base.probability_rows(predictions, holdout)
            classes = holdout.info["classes"]
            names = {name: name for name in CLASSIFICATION_METRICS}
            model = base.classification(truth, rows, classes, names)
            prior = base.prior(holdout.info["counts"], len(truth))
            baseline = base.classification(truth, prior, classes, names)
        for scores in (model, baseline):
            if metric in scores:
                scores["cv_mean"] = scores[metric]  # the name older rubrics used
        return {
            "model": model,
            "baseline": baseline,
            "headline": metric,
            "higher_is_better": HIGHER_IS_BETTER.get(metric, False),
        }

    @staticmethod
    def _regression(predictions: Any, holdout: base.Holdout) -> tuple[dict, dict]:
        labels: dict[str, float] = holdout.labels
        found = base.keyed(predictions, "values", list(labels), "id")
        truth = list(labels.values())
        values = [base.number(found[key], f"the prediction for id {key}") for key in labels]
        mean = [holdout.info["mean"]] * len(truth)
        scores = []
        for predicted in (values, mean):
            result = {
                "rmse": metrics.rmse(truth, predicted),
                "mae": metrics.mae(truth, predicted),
            }
            if all(t > -1 for t in truth):
                result["rmse_log"] = metrics.rmse_log(truth, predicted)
            scores.append(result)
        return scores[0], scores[1]
