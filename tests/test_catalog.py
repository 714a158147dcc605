"""One catalogue: `list`, copier.yml's `kind` choices and the template folders agree."""

from __future__ import annotations

import pytest
import yaml
from conftest import TEMPLATES

from mlscaffold import catalog
from mlscaffold.errors import UnknownKindError

SHARED_STUBS = [
    "README.md.jinja",
    "MODEL_CARD.md.jinja",
    "pyproject.toml.jinja",
    "Makefile.jinja",
    ".gitignore.jinja",
    ".editorconfig.jinja",
    ".pre-commit-config.yaml.jinja",
    ".github/workflows/ci.yml.jinja",
    "{{ _copier_conf.answers_file }}.jinja",
    "{% if license != 'none' %}LICENSE{% endif %}.jinja",
]
PUBLIC_ANSWERS = [
    "project_name",
    "package_name",
    "description",
    "author_name",
    "author_email",
    "github_user",
    "license",
    "python_version",
    "kind",
]


def test_copier_kind_choices_are_the_complete_kinds() -> None:
    config = yaml.safe_load((TEMPLATES / "copier.yml").read_text())
    choices = config["kind"]["choices"]
    offered = sorted(choices.values() if isinstance(choices, dict) else choices)
    assert offered == sorted(kind.name for kind in catalog.available())


def test_public_answer_names_are_kept() -> None:
    config = yaml.safe_load((TEMPLATES / "copier.yml").read_text())
    assert all(name in config for name in PUBLIC_ANSWERS)
    assert config["license"]["choices"] == ["MIT", "Apache-2.0", "BSD-3-Clause", "none"]


@pytest.mark.parametrize("kind", [k.name for k in catalog.available()])
def test_every_kind_uses_the_shared_layer(kind: str) -> None:
    folder = TEMPLATES / kind
    for stub in SHARED_STUBS:
        text = (folder / stub).read_text()
        assert "_shared/" in text, f"{kind}/{stub} must include or extend templates/_shared/"


def test_unknown_kind_error_suggests() -> None:
    with pytest.raises(UnknownKindError) as caught:
        catalog.get("sentiment")
    assert caught.value.hint == "did you mean 'sentiment-classifier'?"
