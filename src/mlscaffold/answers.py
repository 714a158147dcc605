"""Answers given on the command line or in a file, before Copier sees them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mlscaffold.errors import InvalidAnswerError, UsageError

# What no answer may hold, and no message may print raw: C0 and C1 controls, DEL, line and
# paragraph separators, bidirectional overrides and isolates, non-characters. The template's
# validators refuse the same set (at the prompt too); this catches it for any template version.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


def printable(text: str) -> str:
    """`text` with every control character shown as an escape (`\\x7f`), for messages."""
    return CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)


def refuse_control_characters(data: dict[str, Any]) -> dict[str, Any]:
    """Answers are one line of printable text: a DEL in an e-mail would make pyproject.toml
    invalid TOML, an escape sequence would rewrite the terminal when echoed."""
    for name, value in data.items():
        found = CONTROL.search(value) if isinstance(value, str) else None
        if found:
            raise InvalidAnswerError(
                f"{printable(name)} must not contain control characters or bidirectional "
                f"overrides (found U+{ord(found.group()):04X})",
                "retype it: an answer is one line of printable text",
            )
    return data


def parse_pairs(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`-d key=value` pairs, as Copier's `-d` takes them (values are cast by question type)."""
    data: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"bad -d '{pair}': expected key=value", "e.g. -d project_name='Movie Reviews'"
            )
        data[key.strip()] = value
    return refuse_control_characters(data)


def load_file(path: Path, keep_private: bool = False) -> dict[str, Any]:
    """A YAML mapping of answers: a cohort's preset or a previous `.copier-answers.yml`."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read answers file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where else ""
        raise UsageError(
            f"answers file {path} is not valid YAML{line}", "fix the file or drop --answers-file"
        ) from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise UsageError(f"answers file {path} must hold a mapping of question: answer")
    # Copier's private keys (_src_path, _commit) belong to a project, not to a preset.
    answers = {str(k): v for k, v in loaded.items() if keep_private or not str(k).startswith("_")}
    return refuse_control_characters(answers)
