"""What a generated project says about itself: its answers file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlscaffold.errors import NotAProjectError
from mlscaffold.source import TemplateVersion

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

    @property
    def public_answers(self) -> dict[str, Any]:
        return {k: v for k, v in self.answers.items() if not k.startswith("_")}


def load(path: Path) -> Project:
    root = path.expanduser().absolute()
    answers_path = root / ANSWERS_FILE
    if not answers_path.is_file():
        raise NotAProjectError(
            f"{root} is not a generated project (no {ANSWERS_FILE})",
            "run this inside a project made by 'mlscaffold new', or pass its path",
        )
    try:
        answers = yaml.safe_load(answers_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise NotAProjectError(f"{answers_path} cannot be read: {exc}") from exc
    if not isinstance(answers, dict) or "_src_path" not in answers:
        raise NotAProjectError(
            f"{answers_path} does not record a template source (_src_path)",
            "restore it from git history: git checkout -- .copier-answers.yml",
        )
    return Project(root=root, answers=answers)
