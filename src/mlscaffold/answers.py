"""Answers given on the command line or in a file, before Copier sees them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mlscaffold.errors import UsageError


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
    return data


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
    return {str(k): v for k, v in loaded.items() if keep_private or not str(k).startswith("_")}
