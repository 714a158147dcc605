"""Any answer text yields valid TOML, YAML, Python, JSON and Markdown (hypothesis)."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATES, new_project, run_cli
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


# 15 projects generated and linted per run (a few seconds each); hypothesis draws new text
# every CI run, so the runs together cover far more
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
            # Jinja the template left unrendered; answers are removed first, longest first (a
            # short answer, "0", must not break a longer one up). An answer with a brace is
            # written escaped in YAML and TOML, where it cannot be removed: that case only
            # checks the files' syntax and lint
            if any("{" in answer for answer in (name, description, author)):
                continue
            # Grafana's own legend templates ("{{route}}") in deploy/grafana/dashboard.json
            text = re.sub(r'"legendFormat": "(?:\{\{\w+\}\}| )*"', "", text)
            for answer in sorted((name, description, author), key=len, reverse=True):
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
    for path in root.rglob("*"):  # the dashboard, the notebook, the workflows, the manifests
        if path.suffix in (".json", ".ipynb"):
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix in (".yml", ".yaml"):
            list(yaml.safe_load_all(path.read_text(encoding="utf-8")))


@settings(max_examples=20, deadline=None)
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


# ---- answers YAML would read as something else --------------------------------------------

# Each reads as a number, bool, null, date or float when written bare into YAML.
YAML_WORDS = [
    "123",
    "yes",
    "No",
    "on",
    "off",
    "null",
    "~",
    "true",
    "1e3",
    "0x10",
    "2024-01-01",
    ".inf",
    "YES",
    "Off",
    "NULL",
    "False",
]
_PLAIN_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")  # the column questions' validator
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")  # the competition question's validator
# kind: (answers that make it write the columns, {question: (config keys, validator)})
WRITTEN = {
    "kaggle-entry": (
        {},
        {
            "competition": (("competition", "slug"), _SLUG),
            "target_column": (("competition", "target"), _PLAIN_COLUMN),
            "id_column": (("competition", "id"), _PLAIN_COLUMN),
        },
    ),
    "recommender": (
        {"recommender_dataset": "csv"},
        {
            "user_column": (("data", "columns", "user"), _PLAIN_COLUMN),
            "item_column": (("data", "columns", "item"), _PLAIN_COLUMN),
            "rating_column": (("data", "columns", "rating"), _PLAIN_COLUMN),
            "timestamp_column": (("data", "columns", "timestamp"), _PLAIN_COLUMN),
        },
    ),
    "sentiment-classifier": (
        {"sentiment_dataset": "csv"},
        {
            "text_column": (("data", "text_column"), re.compile(".+")),
            "label_column": (("data", "label_column"), re.compile(".+")),
        },
    ),
}


def _yaml_word_projects() -> list:
    """As few projects as cover every (question group, accepted word) once: questions that
    share a validator take consecutive words, so paired columns always differ."""
    params = []
    for kind, (base, questions) in WRITTEN.items():
        groups: dict[re.Pattern[str], list[str]] = {}
        for name, (_keys, accepts) in questions.items():
            groups.setdefault(accepts, []).append(name)
        words = {p: [w for w in YAML_WORDS if p.fullmatch(w)] for p in groups}
        count = max(-(-len(words[p]) // len(names)) for p, names in groups.items())
        for j in range(count):
            answers = dict(base)
            for pattern, names in groups.items():
                for i, name in enumerate(names):
                    answers[name] = words[pattern][(j * len(names) + i) % len(words[pattern])]
            params.append(pytest.param(kind, answers, id=f"{kind}-{j}"))
    return params


def _load_with_the_projects_loader(root: Path, package: str) -> dict:
    """configs/config.yaml through the generated project's own typed loader."""
    sys.path.insert(0, str(root / "src"))
    try:
        config = importlib.import_module(f"{package}.plumbing.config")
        settings = importlib.import_module(f"{package}.settings")
        loaded = config.load_config(root / "configs" / "config.yaml", settings.Settings)
        return config.as_dict(loaded)
    finally:
        sys.path.remove(str(root / "src"))
        for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
            del sys.modules[name]


@pytest.mark.parametrize(("kind", "answers"), _yaml_word_projects())
def test_answers_yaml_reads_as_other_types_stay_exact_strings(
    tmp_path: Path, kind: str, answers: dict[str, str]
) -> None:
    package = "words_" + re.sub(r"\W", "_", kind)
    root = new_project(tmp_path / "p", kind, package_name=package, **answers)
    raw = yaml.safe_load((root / "configs" / "config.yaml").read_text(encoding="utf-8"))
    loaded = _load_with_the_projects_loader(root, package)
    for name, (keys, _accepts) in WRITTEN[kind][1].items():
        for tree in (raw, loaded):
            value = tree
            for key in keys:
                value = value[key]
            assert type(value) is str and value == answers[name], (name, value)


# ---- control characters -----------------------------------------------------------------------


class _IncludeIgnoringLoader(yaml.SafeLoader):
    pass


_IncludeIgnoringLoader.add_constructor("!include", lambda loader, node: None)


def _free_text_questions() -> list[tuple[str, str]]:
    """(kind, question) for every question answered with free text (no choices) of every
    kind, read from the template: a new question is covered without editing this list."""
    shared = [
        doc
        for doc in yaml.load_all(
            (TEMPLATES / "copier.yml").read_text(encoding="utf-8"), _IncludeIgnoringLoader
        )
        if isinstance(doc, dict)
    ]
    found = [
        ("sentiment-classifier", name)
        for doc in shared
        for name, q in doc.items()
        if isinstance(q, dict) and q.get("type") == "str" and "choices" not in q
    ]
    for path in sorted((TEMPLATES / "_questions").glob("*.yml")):
        own = yaml.safe_load(path.read_text(encoding="utf-8"))
        found += [
            (path.stem, n) for n, q in own.items() if q["type"] == "str" and "choices" not in q
        ]
    return found


CONTROL = [
    "\x00",
    "\t",
    "\n",
    "\r",
    "\x1b",
    "\x7f",
    "\x80",
    "\x85",
    "\x9b",
    "\x9f",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
]


def _control_cases() -> list:
    cases = []
    for i, (kind, name) in enumerate(_free_text_questions()):
        for char in (CONTROL[(2 * i) % len(CONTROL)], CONTROL[(2 * i + 1) % len(CONTROL)]):
            cases.append(pytest.param(kind, name, char, id=f"{name}-U+{ord(char):04X}"))
    return cases


def test_every_free_text_question_is_covered() -> None:
    names = {name for _kind, name in _free_text_questions()}
    assert {"project_name", "author_email", "csv_source", "competition", "user_column"} <= names
    assert len(names) >= 19


@pytest.mark.parametrize(("kind", "name", "char"), _control_cases())
def test_control_characters_are_refused_in_every_free_text_answer(
    tmp_path: Path, kind: str, name: str, char: str
) -> None:
    value = f"a{char}b@example.com" if name == "author_email" else f"a{char}b"
    answers = {"package_name": "ctrl_pkg", name: value}
    if name == "repository_name":
        answers["github_user"] = "someone"
    with pytest.raises(InvalidAnswerError) as caught:
        new_project(tmp_path / "p", kind, **answers)
    message = caught.value.message
    assert name in message and "control characters" in message, message
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", message), message
    assert not (tmp_path / "p").exists()


def test_control_characters_are_refused_on_the_d_and_answers_file_paths(tmp_path: Path) -> None:
    """Checked before Copier, so whatever template version is asked for (--vcs-ref)."""
    dest = tmp_path / "p"
    done = run_cli(
        "new", "kaggle-entry", str(dest), "--defaults", "-d", "author_email=a\x7fb@example.com"
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and "author_email" in lines[0] and "control characters" in lines[0]
    answers = tmp_path / "answers.yml"
    answers.write_text('description: "one\\x85line"\n', encoding="utf-8")
    done = run_cli("new", "kaggle-entry", str(dest), "--answers-file", str(answers))
    assert done.returncode == 2, done.stderr
    assert "description" in done.stderr and "U+0085" in done.stderr
    assert not dest.exists()
