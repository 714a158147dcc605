"""One page on a whole class after `cohort grade` or `cohort merge`: how totals spread,
which rubric items most students miss, which repositories were slow, and who could not be
graded and why. What an instructor reads first, before 1,000 feedback files."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from mlscaffold.cohort import grader
from mlscaffold.cohort.grading import StudentGrade

SLOWEST = 5
BINS = 10


def _bin_edges(top: float) -> list[float]:
    return [top * k / BINS for k in range(BINS + 1)]


def _counts(totals: list[float], top: float) -> list[int]:
    counts = [0] * BINS
    for total in totals:
        at = BINS - 1 if top <= 0 else min(BINS - 1, max(0, int(total / top * BINS)))
        counts[at] += 1
    return counts


def markdown(title: str, rubric: list[dict[str, Any]], grades: list[StudentGrade]) -> str:
    safe = grader.markdown_text
    top = max((g.max for g in grades), default=0) or sum(i["points"] for i in rubric)
    totals = [float(g.total) for g in grades]
    reused = sum(g.reused for g in grades)
    ungraded = [g for g in grades if g.ungraded]
    zeros = [g for g in grades if g.problem and not g.ungraded]
    lines = [
        f"# {safe(title)}",
        "",
        f"{len(grades)} students: {len(grades) - len(ungraded)} graded ({reused} reused from "
        f"the last grading), {len(ungraded)} could not be graded, {len(zeros)} a zero with "
        "a reason.",
        "",
        f"## Totals (out of {top:g})",
        "",
    ]
    if totals:
        lines += [
            f"mean {statistics.fmean(totals):.1f}, median {statistics.median(totals):g}, "
            f"lowest {min(totals):g}, highest {max(totals):g}",
            "",
        ]
    edges = _bin_edges(top)
    lines += ["| total | students | |", "|---|---:|---|"]
    for k, count in enumerate(_counts(totals, top)):
        close = "]" if k == BINS - 1 else ")"
        lines.append(f"| [{edges[k]:g}, {edges[k + 1]:g}{close} | {count} | {'#' * count} |")
    lines += ["", "## Rubric items (pass rate of the students graded without a problem)", ""]
    lines += ["| item | points | passed | rate |", "|---|---:|---:|---:|"]
    scored = [g for g in grades if not g.problem]
    for item in rubric:
        passed = sum(
            any(r["name"] == item["name"] and r["passed"] for r in g.items) for g in scored
        )
        rate = f"{100 * passed / len(scored):.0f}%" if scored else "-"
        lines.append(
            f"| {safe(item['name'])} | {item['points']:g} | {passed} / {len(scored)} | {rate} |"
        )
    ran = sorted((g for g in grades if not g.reused), key=lambda g: -g.seconds)[:SLOWEST]
    lines += ["", "## Slowest repositories (this run)", ""]
    lines += ["| student | seconds | result |", "|---|---:|---|"] if ran else ["none ran"]
    for g in ran:
        result = safe(g.problem) if g.problem else f"{g.total:g} / {g.max:g}"
        lines.append(f"| {safe(g.student.student_id)} | {g.seconds:.1f} | {result} |")
    lines += time_spent([g for g in grades if not g.reused and g.steps])
    lines += ["", "## Could not be graded", ""]
    lines += [f"- {safe(g.student.student_id)}: {safe(g.problem or '?')}" for g in ungraded]
    lines += [] if ungraded else ["none"]
    if zeros:
        lines += ["", "## A zero with a reason", ""]
        lines += [f"- {safe(g.student.student_id)}: {safe(g.problem or '')}" for g in zeros]
    return "\n".join(lines) + "\n"


def time_spent(ran: list[StudentGrade]) -> list[str]:
    """Where a repository's grading time went, step by step, as a mean over those graded in
    this run: inside the sandbox (the student's code and its interpreter's start-up) and
    the grader's own work around it (a fresh copy of the tree, outputs carried)."""
    if not ran:
        return []
    totals: dict[str, list[float]] = {}
    for grade in ran:
        for step in grade.steps:
            total = totals.setdefault(str(step["step"]), [0.0, 0.0])
            total[0] += float(step["inside"])
            total[1] += float(step["host"])
    of = "1 repository" if len(ran) == 1 else f"{len(ran)} repositories"
    lines = ["", f"## Where the time went (mean of {of})", ""]
    lines += ["| step | in the sandbox, s | the grader's own, s |", "|---|---:|---:|"]
    for name, (inside, host) in totals.items():
        lines.append(
            f"| {grader.markdown_text(name)} | {inside / len(ran):.1f} | {host / len(ran):.1f} |"
        )
    inside = sum(t[0] for t in totals.values()) / len(ran)
    host = sum(t[1] for t in totals.values()) / len(ran)
    lines.append(f"| all steps | {inside:.1f} | {host:.1f} |")
    return lines


def histogram(path: Path, grades: list[StudentGrade], title: str) -> Path | None:
    """A PNG of the totals where matplotlib is importable (it is not mlscaffold's): else none."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return None
    top = max((g.max for g in grades), default=0) or 1
    figure, axes = pyplot.subplots(figsize=(6, 3.5))
    axes.hist([float(g.total) for g in grades], bins=_bin_edges(top), edgecolor="black")
    axes.set_xlabel(f"total (out of {top:g})")
    axes.set_ylabel("students")
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return path


def write(
    folder: Path, title: str, rubric: list[dict[str, Any]], grades: list[StudentGrade]
) -> list[Path]:
    """folder/summary.md, and folder/summary.png when matplotlib can draw it."""
    path = folder / "summary.md"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(markdown(title, rubric, grades), encoding="utf-8")
    tmp.replace(path)
    figure = histogram(folder / "summary.png", grades, title)
    return [path, *([figure] if figure else [])]
