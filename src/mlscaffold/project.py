"""What a generated project says about itself: its answers file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlscaffold.errors import NotAProjectError
from mlscaffold.source import USER_SOURCE, TemplateVersion

ANSWERS_FILE = ".copier-answers.yml"


@dataclass
class Project:
    root: Path
    answers: dict[str, Any]

    @property
    def src_path(self) -> str:
        return str(self.answers["_src_path"])

    @property
    def commit(self) -> str:
        return str(self.answers.get("_commit", ""))

    @property
    def template_version(self) -> TemplateVersion | None:
        return TemplateVersion.parse(self.commit)

    @property
    def version(self) -> str:
        parsed = self.template_version
        return str(parsed) if parsed else self.commit

    @property
    def kind(self) -> str:
        return str(self.answers.get("kind", "?"))


def _read_answers(answers_path: Path) -> dict[str, Any]:
    restore = f"restore it from git history: git checkout -- {ANSWERS_FILE}"
    try:
        text = answers_path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotAProjectError(f"{answers_path} is not UTF-8 text", restore) from exc
    try:
        answers = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise NotAProjectError(f"{answers_path} is not valid YAML{where}", restore) from exc
    if not isinstance(answers, dict) or "_src_path" not in answers:
        raise NotAProjectError(
            f"{answers_path} does not record a template source (_src_path)", restore
        )
    return answers


def _check_answers(answers_path: Path, answers: dict[str, Any], check_commit: bool) -> None:
    def bad(field: str, problem: str, fix: str) -> NotAProjectError:
        return NotAProjectError(f"{answers_path.name}: {field} {problem}", fix)

    fix = f"restore it from git history: git checkout -- {ANSWERS_FILE}"
    if check_commit:
        commit = answers.get("_commit")
        if commit is None or commit == "":
            raise bad("_commit", "is missing or empty (the template version)", fix)
        if TemplateVersion.parse(commit) is None:
            raise bad("_commit", f"{commit!r} is not a template version (like v0.2.0)", fix)
    src = answers["_src_path"]
    if not isinstance(src, str) or not src.strip():
        raise bad("_src_path", "is empty", fix)
    if "://" in src or src.startswith("git@"):
        raise bad(
            "_src_path",
            f"is a URL ({src}); mlscaffold reads templates from a local bundle",
            "set it to ~/.local/share/mlscaffold/templates.bundle",
        )
    local = Path(src).expanduser()
    if src != USER_SOURCE and local.is_dir() and not (local / ".git").exists():
        raise bad(
            "_src_path",
            f"is a folder that is not a git repository ({src})",
            "set it to ~/.local/share/mlscaffold/templates.bundle",
        )
    for name in ("kind", "project_name", "package_name"):
        if name in answers and (answers[name] is None or not str(answers[name]).strip()):
            raise bad(name, "is empty", f"set {name} in {ANSWERS_FILE} or {fix}")


def load(path: Path, check_commit: bool = True) -> Project:
    root = path.expanduser().absolute()
    answers_path = root / ANSWERS_FILE
    if not answers_path.is_file():
        raise NotAProjectError(
            f"{root} is not a generated project (no {ANSWERS_FILE})",
            "run this inside a project made by 'mlscaffold new', or pass its path",
        )
    answers = _read_answers(answers_path)
    _check_answers(answers_path, answers, check_commit)
    return Project(root=root, answers=answers)
