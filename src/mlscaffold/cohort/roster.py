"""The class list: roster.csv with student_id, name, email, github_user (one row per student).

Every problem names its row (as a spreadsheet shows it: the header is row 1), so an
instructor can fix the file without guessing.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from mlscaffold.errors import UsageError

COLUMNS = ("student_id", "name", "email", "github_user")
EXAMPLE = (
    "student_id,name,email,github_user\n"
    "s001,Ada Lovelace,ada@example.edu,ada-l\n"
    "s002,Alan Turing,alan@example.edu,\n"
)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_GITHUB = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_EMAIL = re.compile(r"^[^@\s\"<>\\]+@[^@\s\"<>\\]+\.[^@\s\"<>\\]+$")


class RosterError(UsageError):
    """roster.csv cannot be used as it is."""


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str
    email: str
    github_user: str

    @property
    def handle(self) -> str:
        """The repository suffix: the GitHub user, else the student id."""
        return self.github_user or self.student_id


def _bad_text(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value)


def _student(row: dict[str, str], line: int, path: Path) -> Student:
    def fail(problem: str) -> RosterError:
        return RosterError(f"{path.name} row {line}: {problem}", f"fix row {line} of {path}")

    values = {key: (row.get(key) or "").strip() for key in COLUMNS}
    if not values["student_id"]:
        raise fail("student_id is empty")
    if not _ID.match(values["student_id"]):
        raise fail(f"student_id {values['student_id']!r} must be letters, digits, '.', '_' or '-'")
    if not values["name"]:
        raise fail("name is empty")
    if _bad_text(values["name"]) or len(values["name"]) > 100:
        raise fail("name has control characters or is longer than 100 characters")
    if values["email"] and (_bad_text(values["email"]) or not _EMAIL.match(values["email"])):
        raise fail(f"email {values['email']!r} does not look like an e-mail address")
    if values["github_user"] and not _GITHUB.match(values["github_user"]):
        raise fail(f"github_user {values['github_user']!r} is not a valid GitHub name")
    return Student(**values)


def read(path: Path) -> list[Student]:
    """The students in file order; duplicate ids or GitHub users are errors naming both rows."""
    if not path.is_file():
        raise RosterError(f"roster not found: {path}", "mlscaffold cohort init writes an example")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1  # as a spreadsheet numbers it: the header is 1
        raise RosterError(
            f"{path} is not UTF-8 text (row {row}, byte 0x{raw[exc.start]:02x}): save it as "
            "UTF-8 (a spreadsheet's 'CSV UTF-8')"
        ) from exc
    reader = csv.DictReader(text.splitlines())
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise RosterError(
            f"{path.name} has no column {', '.join(missing)} (header: row 1)",
            f"the header must be: {','.join(COLUMNS)}",
        )
    students: list[Student] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # blank line
        student = _student(row, line, path)
        for key in ("student_id", "github_user"):
            value = getattr(student, key).lower()
            if not value:
                continue
            if (key, value) in seen:
                raise RosterError(
                    f"{path.name} row {line}: {key} {getattr(student, key)!r} is also on row "
                    f"{seen[(key, value)]}",
                    "each student needs their own id and GitHub user",
                )
            seen[(key, value)] = line
        students.append(student)
    if not students:
        raise RosterError(f"{path.name} lists no students", "add one row per student")
    handles: dict[str, int] = {}
    for line, student in enumerate(students, start=2):
        handle = student.handle.lower()
        if handle in handles:
            raise RosterError(
                f"{path.name}: two students would share the repository suffix {handle!r}",
                "give them distinct github_user or student_id values",
            )
        handles[handle] = line
    return students
