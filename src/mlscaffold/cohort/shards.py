"""Grading a class on many machines: disjoint, stable slices of the roster (`--shard K/N`),
partial results with a manifest, and a merge that writes exactly what one machine would.

A student's shard comes from a hash of their id, never their position: adding a student to
the roster moves no one else. Each partial names the assignment it was graded with (a
digest of the rubric, the hidden tests and data, the secret seed's salted hash, the pinned
template and the grader's version) so a merge refuses results graded differently. The same
digest, kept per student with the commit graded, lets `grade` skip students whose commit
and assignment did not change (ASSIGNMENT/.mlscaffold/graded.json, never in a repository).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlscaffold.cohort import grading, roster
from mlscaffold.cohort import preset as presets
from mlscaffold.errors import UsageError

MANIFEST = "manifest.json"
ROWS = "rows.json"
RECORD = ".mlscaffold/graded.json"
FORMAT = 1
SHARD_ENV = "MLSCAFFOLD_SHARD"  # K/N: a GitHub Actions matrix sets it
SHARDS_ENV = "MLSCAFFOLD_SHARDS"  # N beside Kubernetes' JOB_COMPLETION_INDEX (not exported)
# what must be the same in every partial of one merge, as a person reads it
COMPARED = {
    "assignment": "assignment",
    "parts.rubric": "rubric",
    "parts.hidden_tests": "hidden tests",
    "parts.data": "evaluation data",
    "parts.seed": "secret seed",
    "parts.preset": "cohort.yml",
    "parts.template": "template version",
    "parts.grader": "mlscaffold version",
    "roster": "roster",
    "options.timeout": "--timeout",
    "options.before": "--before",
}


@dataclass(frozen=True)
class Shard:
    index: int  # K, from 0
    count: int  # N

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def label(self) -> str:
        return f"shard {self.index}/{self.count}"


def parse(text: str, where: str = "--shard") -> Shard:
    """`K/N` with 0 <= K < N."""
    index, _, count = text.strip().partition("/")
    if not (index.isdigit() and count.isdigit()) or not 0 <= int(index) < int(count):
        raise UsageError(
            f"{where} {text!r} is not K/N with 0 <= K < N",
            "e.g. --shard 0/4 ... --shard 3/4, or --shard auto",
        )
    return Shard(int(index), int(count))


def from_environment(env: Mapping[str, str] | None = None) -> Shard:
    """`--shard auto`: K and N from the engine's own variables (see README: sharded grading)."""
    env = os.environ if env is None else env
    if env.get(SHARD_ENV):
        return parse(env[SHARD_ENV], SHARD_ENV)
    if env.get("JOB_COMPLETION_INDEX"):
        if not env.get(SHARDS_ENV):
            raise UsageError(
                f"JOB_COMPLETION_INDEX is set but not {SHARDS_ENV} (the number of shards)",
                f"set {SHARDS_ENV} to the Job's completions in its pod template",
            )
        return parse(f"{env['JOB_COMPLETION_INDEX']}/{env[SHARDS_ENV]}", "JOB_COMPLETION_INDEX")
    if env.get("SLURM_ARRAY_TASK_ID"):
        task, low = env["SLURM_ARRAY_TASK_ID"], env.get("SLURM_ARRAY_TASK_MIN", "0")
        count = env.get("SLURM_ARRAY_TASK_COUNT", "")
        if not (task.isdigit() and low.isdigit() and count.isdigit()):
            raise UsageError(
                "SLURM_ARRAY_TASK_ID, _MIN and _COUNT must be numbers",
                "submit with sbatch --array=0-N (no step, no list)",
            )
        index = int(task) - int(low)  # --array=1-8 numbers tasks from 1
        if index >= int(count):
            raise UsageError(
                f"Slurm array task {task} is not one of {count} contiguous tasks from {low}",
                "use an array without a step or a list: sbatch --array=0-N",
            )
        return parse(f"{index}/{count}", "the Slurm array")
    raise UsageError(
        "--shard auto found no shard in the environment",
        f"set {SHARD_ENV}=K/N, or JOB_COMPLETION_INDEX with {SHARDS_ENV}=N, or run in a Slurm "
        "array; or pass --shard K/N",
    )


def shard_of(student_id: str, count: int) -> int:
    """The student's shard of `count`: a hash of their id, so it never depends on the roster's
    order or size."""
    digest = hashlib.sha256(student_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def select(students: list[roster.Student], shard: Shard) -> list[roster.Student]:
    return [s for s in students if shard_of(s.student_id, shard.count) == shard.index]


# ---- the assignment's digest ------------------------------------------------------------------


def _hash_tree(folder: Path) -> str:
    """Paths and contents of every file below `folder` (none: the hash of nothing)."""
    found = hashlib.sha256()
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            relative = path.relative_to(folder)
            if "__pycache__" in relative.parts:
                continue
            found.update(f"{relative.as_posix()}\0{path.stat().st_size}\0".encode())
            found.update(path.read_bytes())
    return found.hexdigest()


def seed_hash(seed: int) -> str:
    """The seed is 31 bits: a plain hash of it is reversed in minutes, so it is stretched
    (PBKDF2, 200,000 rounds): a manifest (a CI artifact) never gives the split away."""
    stretched = hashlib.pbkdf2_hmac("sha256", str(seed).encode(), b"mlscaffold-seed", 200_000)
    return stretched.hex()


def parts(assignment: Path, preset: presets.Preset, seed: int) -> dict[str, str]:
    """What decides every student's grade besides their own commit."""
    from mlscaffold import __version__

    grading_folder = assignment / presets.GRADING
    settings = json.dumps(preset.as_dict(), sort_keys=True, default=str)
    return {
        "rubric": hashlib.sha256((grading_folder / presets.RUBRIC).read_bytes()).hexdigest(),
        "hidden_tests": _hash_tree(grading_folder / "tests"),
        "data": _hash_tree(grading_folder / "data"),
        "seed": seed_hash(seed),
        "preset": hashlib.sha256(settings.encode()).hexdigest(),
        "template": preset.version,
        "grader": __version__,
    }


def digest(found: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(found, sort_keys=True).encode()).hexdigest()


def roster_hash(students: list[roster.Student]) -> str:
    rows = [dataclasses.astuple(s) for s in students]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


# ---- rows as JSON -----------------------------------------------------------------------------


def row(grade: grading.StudentGrade) -> dict[str, Any]:
    return dataclasses.asdict(grade)


def grade_of(data: dict[str, Any]) -> grading.StudentGrade:
    names = {f.name for f in dataclasses.fields(grading.StudentGrade)} - {"student"}
    return grading.StudentGrade(
        roster.Student(**data["student"]), **{k: v for k, v in data.items() if k in names}
    )


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---- partial results --------------------------------------------------------------------------


@dataclass
class Manifest:
    """What a partial holds and what it was graded with (manifest.json)."""

    assignment: str
    digest: str
    parts: dict[str, str]
    roster: str
    shard: str
    students: list[str]
    options: dict[str, Any]
    started: str
    ended: str = ""
    format: int = FORMAT

    def value(self, key: str) -> Any:
        found: Any = dataclasses.asdict(self)
        for name in key.split("."):
            found = found.get(name) if isinstance(found, dict) else None
        return found


def check_out(out: Path) -> None:
    """--out is a new folder or an earlier partial (re-run): never someone's other folder."""
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file())
    ):
        raise UsageError(
            f"{out} exists and is not a partial result", "give --out a new or empty folder"
        )


def write_partial(
    out: Path, manifest: Manifest, grades: list[grading.StudentGrade], title: str
) -> Path:
    """rows.json, feedback/ and, last, manifest.json: a partial without it is incomplete."""
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    for grade in grades:
        grading.write_feedback(out, grade, title)
    _write_json(out / ROWS, [row(g) for g in grades])
    _write_json(out / MANIFEST, dataclasses.asdict(manifest))
    return out


def read_partial(folder: Path) -> tuple[Manifest, list[grading.StudentGrade]]:
    try:
        manifest = Manifest(**json.loads((folder / MANIFEST).read_text(encoding="utf-8")))
        grades = [grade_of(d) for d in json.loads((folder / ROWS).read_text(encoding="utf-8"))]
    except FileNotFoundError:
        raise UsageError(
            f"{folder} is not a complete partial result (no {MANIFEST} or {ROWS})",
            "pass the --out folders of `cohort grade --shard`; re-run a shard that stopped",
        ) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(
            f"{folder}: the partial result is unreadable ({exc.__class__.__name__})",
            "re-run that shard",
        ) from None
    if manifest.format != FORMAT:
        raise UsageError(f"{folder} was written by another mlscaffold", "re-run that shard")
    return manifest, grades


def merge(
    folders: list[Path], expected: Manifest, students: list[roster.Student]
) -> tuple[list[grading.StudentGrade], dict[str, Any]]:
    """Every student of the roster exactly once, in the roster's order, and the options the
    shards were graded with; `expected` is what the local assignment would be graded with
    now (its digest and roster)."""
    read = [(folder, *read_partial(folder)) for folder in folders]
    for key, what in COMPARED.items():
        values = {folder: m.value(key) for folder, m, _ in read}
        mine = expected.value(key)
        if key.startswith("options."):  # the partials agree among themselves
            mine = next(iter(values.values()))
        odd = [str(folder) for folder, value in values.items() if value != mine]
        if odd:
            raise UsageError(
                f"{', '.join(odd)}: graded with another {what} than {expected.assignment} here",
                "re-grade those shards with this assignment (every shard the same) and merge",
            )
    shards: dict[Shard, Path] = {}
    for folder, manifest, _ in read:
        shard = parse(manifest.shard, f"{folder}: shard")
        if shard in shards:
            raise UsageError(
                f"{shard.label} is given twice: {shards[shard]} and {folder}",
                "pass each shard's folder once",
            )
        shards[shard] = folder
    counts = {s.count for s in shards}
    if len(counts) > 1:
        raise UsageError(
            f"the partials split the class differently (N = {', '.join(map(str, counts))})",
            "grade every shard with the same N",
        )
    count = counts.pop()
    missing = [str(Shard(k, count)) for k in range(count) if Shard(k, count) not in shards]
    if missing:
        raise UsageError(
            f"shard {', '.join(missing)} is missing",
            "grade it (cohort grade ... --shard K/N --out PART) and pass its folder too",
        )
    found: dict[str, tuple[Path, grading.StudentGrade]] = {}
    for folder, _, grades in read:
        for grade in grades:
            sid = grade.student.student_id
            if sid in found:
                raise UsageError(
                    f"student {sid} is graded twice: in {found[sid][0]} and {folder}",
                    "pass each shard's folder once, all graded with the same N",
                )
            found[sid] = (folder, grade)
    on_roster = {s.student_id for s in students}
    strangers = sorted(set(found) - on_roster)
    absent = [s.student_id for s in students if s.student_id not in found]
    if strangers or absent:
        raise UsageError(
            f"the partials do not hold the roster: missing {', '.join(absent) or 'none'}, "
            f"not on it {', '.join(strangers) or 'none'}",
            "re-grade every shard with the roster `cohort new` used",
        )
    grades = [dataclasses.replace(found[s.student_id][1], student=s) for s in students]
    return grades, read[0][1].options


# ---- the record of the last grading (what may be reused) -------------------------------------


def read_record(assignment: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((assignment / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    students = data.get("students")
    return students if isinstance(students, dict) else {}


def key(found_digest: str, timeout: float | None) -> dict[str, Any]:
    """What must be unchanged, besides the commit, for a grade to be reused."""
    return {"digest": found_digest, "timeout": timeout}


def reusable(
    record: dict[str, dict[str, Any]], student: roster.Student, commit: str, wanted: dict[str, Any]
) -> grading.StudentGrade | None:
    """The last grade of this commit under the same assignment; never one that timed out or
    could not be given (those may have been the machine's fault)."""
    entry = record.get(student.student_id)
    if not isinstance(entry, dict) or entry.get("commit") != commit or entry.get("key") != wanted:
        return None
    try:
        grade = grade_of(entry["grade"])
    except (KeyError, TypeError, ValueError):
        return None
    if grade.timed_out or grade.ungraded:
        return None
    return dataclasses.replace(grade, student=student, reused=True)


def update_record(
    assignment: Path, grades: list[grading.StudentGrade], wanted: dict[str, Any]
) -> None:
    """Keep each graded commit's grade (others' entries stay): the next `grade` reuses it."""
    record = read_record(assignment)
    for grade in grades:
        if grade.commit and not grade.reused:
            record[grade.student.student_id] = {
                "commit": grade.commit,
                "key": wanted,
                "grade": row(dataclasses.replace(grade, reused=False)),
            }
    (assignment / RECORD).parent.mkdir(exist_ok=True)
    _write_json(assignment / RECORD, {"format": FORMAT, "students": record})
