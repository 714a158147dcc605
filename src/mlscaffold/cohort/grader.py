#!/usr/bin/env python3
"""Grade one project against a rubric: points per check, a JSON record and a Markdown table.

The same file runs in a student's repository (`grading/grade.py`, by the grading workflow,
visible items only) and on the instructor's machine (`mlscaffold cohort grade`, every item,
hidden tests included, on a throwaway copy). It needs only the standard library and PyYAML,
which every generated project has.

    python grading/grade.py [--rubric grading/rubric.yml] [--project .] [--out grade.json]
                            [--summary FILE] [--hidden]

Rubric items (`grading/rubric.yml`):
    - {name: Tests pass, points: 20, check: pytest}                 # the project's tests
    - {name: One test, points: 5, check: pytest, node: "tests/test_x.py::test_y"}
    - {name: Hidden tests, points: 30, check: pytest, hidden: true} # tests/hidden/ (instructor)
      # probe_X/check_X pairs are judged outside the sandbox ("verified"); test_* functions
      # inside ("inside: true" says so); show_counts: true shows "3 of 4" instead of pass/fail
    - {name: Lint clean, points: 10, check: lint}                   # ruff check + format
    - {name: Pipeline runs, points: 20, check: pipeline}            # all --sample, from scratch
    - {name: Accuracy, points: 20, check: metric, expr: "model.accuracy >= 0.85"}
    - {name: Beats baseline, points: 20, check: beats_baseline}   # on the headline metric
Metrics are read from the reports/metrics.json that this grader's own pipeline run wrote: a
metrics file edited by hand never counts.
"""

from __future__ import annotations

import argparse
import json
import math
import operator
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

CHECKS = ("pytest", "lint", "pipeline", "metric", "beats_baseline")
OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
HIDDEN_TESTS = "tests/hidden"
ITEM_TIMEOUT = 900


class RubricError(Exception):
    """The rubric file is wrong (a bad check, points, or expression)."""


def load_rubric(path: Path) -> list[dict[str, Any]]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise RubricError(f"{path} is not UTF-8 text: save it as UTF-8") from None
    except (OSError, yaml.YAMLError) as exc:
        raise RubricError(f"cannot read {path}: {exc}") from exc
    items = raw.get("items") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        raise RubricError(f"{path}: expected `items:`, a list of checks")
    names: set[str] = set()
    for number, item in enumerate(items, start=1):
        where = f"{path} item {number}"
        if not isinstance(item, dict) or item.get("check") not in CHECKS:
            raise RubricError(f"{where}: `check` must be one of {', '.join(CHECKS)}")
        points = item.get("points")
        if (
            isinstance(points, bool)
            or not isinstance(points, (int, float))
            or not math.isfinite(points)
            or points < 0
        ):
            raise RubricError(f"{where}: `points` must be a number >= 0, got {points!r}")
        if item["check"] == "metric":
            parse_expression(str(item.get("expr", "")), where)
        item.setdefault("name", f"{item['check']} {number}")
        if not isinstance(item["name"], str) or not item["name"].strip():
            raise RubricError(f"{where}: `name` must be text")
        if item["name"] in names:
            raise RubricError(f"{where}: the name {item['name']!r} is used twice")
        names.add(item["name"])
        if "message" in item and not isinstance(item["message"], str):
            raise RubricError(f"{where}: `message` (shown when the item fails) must be text")
        for flag in ("hidden", "inside", "show_counts"):
            if flag in item and not isinstance(item[flag], bool):
                raise RubricError(f"{where}: `{flag}` must be true or false")
    return items


def parse_expression(text: str, where: str) -> tuple[str, str, str]:
    parts = text.split()
    if (
        len(parts) != 3
        or parts[1] not in OPERATORS
        or not all(_operand(part) for part in parts[::2])
    ):
        raise RubricError(
            f"{where}: expr must look like `model.accuracy >= 0.85` (operators: "
            f"{', '.join(OPERATORS)}), got {text!r}"
        )
    return parts[0], parts[1], parts[2]


def lookup(metrics: dict[str, Any], key: str) -> float:
    node: Any = metrics
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise KeyError(key)
    return float(node)


def package_name(project: Path) -> str:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    return str(answers["package_name"])


class Grader:
    def __init__(self, project: Path, python: str) -> None:
        self.project, self.python = project, python
        self.pipeline: tuple[bool, str] | None = None

    def run(self, *args: str) -> tuple[bool, str]:
        env = {**os.environ, "PYTHONPATH": str(self.project / "src")}
        try:
            done = subprocess.run(
                [self.python, *args],
                cwd=self.project,
                env=env,
                capture_output=True,
                text=True,
                timeout=ITEM_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return False, f"timed out after {ITEM_TIMEOUT} s"
        tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
        return done.returncode == 0, tail[0][:300]

    def run_pipeline(self) -> tuple[bool, str]:
        if self.pipeline is None:
            (self.project / "reports" / "metrics.json").unlink(missing_ok=True)
            # offline: data/sample/ holds the bundled sample or the instructor's evaluation data
            ok, tail = self.run("-m", package_name(self.project), "all", "--sample")
            self.pipeline = (ok, "the pipeline ran" if ok else f"the pipeline failed: {tail}")
        return self.pipeline

    def headline(self) -> tuple[str, bool]:
        """The metric runs are ranked by, from the project's steps (older metrics files do
        not name it)."""
        probe = "from {0} import steps; print(steps.HEADLINE, steps.HIGHER_IS_BETTER)"
        ok, tail = self.run("-c", probe.format(package_name(self.project)))
        name, _, higher = tail.partition(" ")
        return (name, higher == "True") if ok else ("?", True)

    def check(self, item: dict[str, Any]) -> tuple[bool, str]:
        kind = item["check"]
        if kind == "pytest":
            # the project's own tests; hidden ones only in their own item
            target = [item["node"]] if item.get("node") else [f"--ignore={HIDDEN_TESTS}"]
            if item.get("hidden"):
                target = [f"{HIDDEN_TESTS}/{item['node']}" if item.get("node") else HIDDEN_TESTS]
                if not (self.project / HIDDEN_TESTS).is_dir():
                    return False, "hidden tests are run by the instructor"
                self.run_pipeline()  # hidden tests may look at what the pipeline made
            ok, tail = self.run("-m", "pytest", "-q", "-p", "no:cacheprovider", *target)
            return ok, tail
        if kind == "lint":
            ok, tail = self.run("-m", "ruff", "check", ".")
            if ok:
                ok, tail = self.run("-m", "ruff", "format", "--check", ".")
            return ok, "ruff: clean" if ok else f"ruff: {tail}"
        if kind == "pipeline":
            return self.run_pipeline()
        ok, why = self.run_pipeline()
        if not ok:
            return False, why
        metrics = json.loads((self.project / "reports" / "metrics.json").read_text())
        if kind == "beats_baseline":
            stated = metrics.get("headline")
            if isinstance(stated, dict) and "metric" in stated:
                name, higher = stated["metric"], bool(stated.get("higher_is_better", True))
            else:
                name, higher = self.headline()
            symbol = ">" if higher else "<"
            left, right = f"model.{name}", f"baseline.{name}"
        else:
            left, symbol, right = parse_expression(str(item["expr"]), item["name"])
        try:
            value = lookup(metrics, left)
            bound = float(right) if _is_number(right) else lookup(metrics, right)
        except KeyError as exc:
            return False, f"reports/metrics.json has no number at {exc.args[0]}"
        passed = OPERATORS[symbol](value, bound)
        return passed, f"{left} = {value:.4f} ({symbol} {bound:.4f} needed)"


def _operand(text: str) -> bool:
    """A finite number or a dotted metric key (`model.accuracy`, `baseline.ndcg@10`)."""
    if _is_number(text):
        return math.isfinite(float(text))
    return re.fullmatch(r"[A-Za-z_][\w@.\-]*", text) is not None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def grade(
    project: Path, rubric: list[dict[str, Any]], python: str, hidden: bool, data: str
) -> dict[str, Any]:
    grader = Grader(project, python)
    results = []
    for item in rubric:
        if item.get("hidden") and not hidden:
            continue
        started = time.perf_counter()
        passed, reason = grader.check(item)
        results.append(
            {
                "name": item["name"],
                "check": item["check"],
                "points": item["points"] if passed else 0,
                "max": item["points"],
                "passed": passed,
                "reason": reason,
                "seconds": round(time.perf_counter() - started, 2),
            }
        )
    return {
        "total": sum(row["points"] for row in results),
        "max": sum(row["max"] for row in results),
        "data": data,
        "items": results,
    }


def markdown_text(text: object) -> str:
    """Text that stays what it is in Markdown: one line, no table cell break, no HTML, no
    heading (a file name with a newline cannot forge a "## Grade" line)."""
    flat = " ".join(str(text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return flat.replace("|", "\\|")


def markdown(report: dict[str, Any], title: str = "Grade") -> str:
    safe = markdown_text
    lines = [f"## {safe(title)}: {report['total']:g} / {report['max']:g}", ""]
    lines += ["| item | points | result |", "|---|---:|---|"]
    for row in report["items"]:
        mark = "pass" if row["passed"] else "FAIL"
        lines.append(
            f"| {safe(row['name'])} | {row['points']:g} / {row['max']:g} | "
            f"{mark}: {safe(row['reason'])} |"
        )
    lines += ["", f"Pipeline and metrics on {safe(report['data'])}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rubric", type=Path, default=Path("grading/rubric.yml"))
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--out", type=Path, default=Path("grade.json"))
    parser.add_argument("--summary", type=Path, help="also append the Markdown table here")
    parser.add_argument("--hidden", action="store_true", help="include hidden items")
    parser.add_argument(
        "--data", default="the bundled sample", help="what data/sample/ holds (for the record)"
    )
    args = parser.parse_args(argv)
    try:
        rubric = load_rubric(args.rubric)
    except RubricError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    project = args.project.resolve()
    report = grade(project, rubric, sys.executable, args.hidden, args.data)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    table = markdown(report)
    if args.summary:
        with args.summary.open("a", encoding="utf-8") as handle:
            handle.write(table)
    print(table, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
