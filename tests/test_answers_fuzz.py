"""Any answer text yields valid TOML, YAML, Python, JSON and Markdown (hypothesis)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import new_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlscaffold.errors import InvalidAnswerError

SPECIALS = [
    '"',
    "'",
    "\\",
    '"""',
    "{{ x }}",
    "{% if x %}",
    "{#",
    "-leading dash",
    "--",
    "#hash",
    "key: value",
    "[x]",
    "é ü 中文 😀",
    "\\n",
    "${{ y }}",
    "<b>&amp;</b>",
    "%",
]
printable = st.characters(
    categories=["L", "M", "N", "P", "S", "Zs"], exclude_characters="\ufffe\uffff\u2028\u2029"
)
free_text = st.one_of(
    st.sampled_from(SPECIALS),
    st.text(printable, min_size=1, max_size=30),
    st.tuples(st.sampled_from(SPECIALS), st.text(printable, max_size=20)).map("".join),
).filter(lambda s: s.strip() != "")
LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|\{#")


def _generate(tmp: Path, **answers: str) -> Path:
    return new_project(tmp / "project", **{"package_name": "fuzzed_pkg", **answers})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=free_text, description=free_text, author=free_text)
def test_any_answer_text_yields_valid_files(name: str, description: str, author: str) -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    with tempfile.TemporaryDirectory() as tmp:
        root = _generate(Path(tmp), project_name=name, description=description, author_name=author)
        pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        assert pyproject["project"]["description"] == description
        assert pyproject["project"]["authors"][0]["name"] == author
        answers = yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))
        assert answers["project_name"] == name and answers["description"] == description
        readme = (root / "README.md").read_text(encoding="utf-8")
        assert f"# {name}\n" in readme and description in readme
        assert author in (root / "LICENSE").read_text(encoding="utf-8")
        for path in root.rglob("*"):
            if not path.is_file() or path.suffix in (".csv", ".png"):
                continue
            text = path.read_text(encoding="utf-8")
            if path.suffix in (".yml", ".yaml"):
                yaml.safe_load(text)
            elif path.suffix == ".py":
                compile(text, str(path), "exec", ast.PyCF_ONLY_AST)
            elif path.suffix in (".ipynb", ".json"):
                json.loads(text)
            elif path.suffix == ".toml":
                tomllib.loads(text)
            for answer in (name, description, author):
                text = text.replace(answer, "")
            assert not LEFTOVER.search(text), f"Jinja left in {path.relative_to(root)}"
        assert_lint_clean(root)


def assert_lint_clean(root: Path) -> None:
    """The project's own `make lint` (ruff check + ruff format --check) passes."""
    for args in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=root, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "hostile", ['Say "hi"', "back\\slash \\", 'it\'s "quoted" \\ both', '"""', "{{ x }}"]
)
def test_hostile_names_give_a_project_that_lints_clean(tmp_path: Path, hostile: str) -> None:
    root = _generate(tmp_path, project_name=hostile, description=hostile, author_name=hostile)
    assert_lint_clean(root)


@settings(max_examples=30, deadline=None)
@given(
    bad=st.one_of(
        st.text(max_size=20).filter(lambda s: not re.fullmatch(r"[a-z][a-z0-9_]*", s)),
        st.sampled_from(
            ["class", "import", "9lives", "my-package", "Upper", "", "_private", "test"]
        ),
    )
)
def test_invalid_package_names_are_refused(bad: str) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        pytest.raises(InvalidAnswerError, match="package_name"),
    ):
        _generate(Path(tmp), package_name=bad)


@pytest.mark.parametrize(
    ("project_name", "package"),
    [
        ("Movie Reviews", "movie_reviews"),
        ("2024 Café Reviews!", "project_2024_caf_reviews"),
        ("  --weird--  name  ", "weird_name"),
    ],
)
def test_package_name_default_is_derived(tmp_path: Path, project_name: str, package: str) -> None:
    root = new_project(tmp_path / "p", project_name=project_name)
    assert (root / "src" / package / "__init__.py").is_file()


column = st.text(printable, min_size=1, max_size=15).filter(
    lambda s: s.strip() and '"' not in s and "\\" not in s
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_column=column, label_column=column)
def test_any_column_names_yield_valid_config_and_tests(text_column: str, label_column: str) -> None:
    if text_column == label_column:
        label_column += "_label"
    with tempfile.TemporaryDirectory() as tmp:
        root = _generate(
            Path(tmp), sentiment_dataset="csv", text_column=text_column, label_column=label_column
        )
        config = yaml.safe_load((root / "configs" / "config.yaml").read_text(encoding="utf-8"))
        assert config["data"]["text_column"] == text_column
        assert config["data"]["label_column"] == label_column
        for path in (root / "tests").glob("*.py"):
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        assert_lint_clean(root)
