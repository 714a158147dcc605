"""What generated files say: descriptions and docstrings in plain English, the README's
project tree, the image sample described as what it is, a neutral author without a git
identity (and the user told), threadpoolctl among the runtime dependencies.

These generate from the template source as it is now (templates/), not from the shipped
bundle, which is re-cut only at release time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import run_cli
from current_templates import current_bundle, templates_now  # noqa: F401 (fixtures)

from mlscaffold.generate import NewRequest, generate

pytestmark = pytest.mark.usefixtures("templates_now")

KINDS = (
    "sentiment-classifier",
    "image-classifier",
    "recommender",
    "kaggle-entry",
    "forecaster",
)


def _new(dest: Path, kind: str, defaults: bool = True, **answers: Any) -> Path:
    generate(NewRequest(kind=kind, dest=dest, defaults=defaults, git=False, data=answers))
    return dest


def _answers(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))


# ---- wording of generated text ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "phrase"),
    [
        ("image-classifier", "An image classifier"),
        ("kaggle-entry", "A Kaggle competition entry"),
        ("recommender", "A recommender"),
        ("sentiment-classifier", "A sentiment classifier"),
        ("forecaster", "A forecaster"),
    ],
)
def test_description_and_docstring_read_as_english(tmp_path: Path, kind: str, phrase: str) -> None:
    root = _new(tmp_path / "p", kind, package_name="proj")
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert f"\n{phrase} built with mlscaffold.\n" in readme
    init = (root / "src" / "proj" / "__init__.py").read_text(encoding="utf-8")
    assert init.startswith(f'"""{phrase},')


@pytest.mark.parametrize("kind", KINDS)
def test_readme_project_tree_is_indented(tmp_path: Path, kind: str) -> None:
    root = _new(tmp_path / "p", kind, package_name="proj")
    readme = (root / "README.md").read_text(encoding="utf-8")
    tree = readme.split("src/proj/\n", 1)[1].split("\ntests/", 1)[0]
    lines = tree.splitlines()
    assert len(lines) > 4
    modules = [line for line in lines if line.lstrip().split(" ", 1)[0].endswith(".py")]
    assert all(line.startswith("  ") and line[2] != " " for line in modules), tree


# ---- the image sample is what SOURCE.md says it is --------------------------------------


@pytest.mark.parametrize(
    ("dataset", "real"), [("fashion-mnist", True), ("folder", True), ("mnist", False)]
)
def test_image_sample_is_described_as_what_it_is(tmp_path: Path, dataset: str, real: bool) -> None:
    answers = {"image_dataset": dataset}
    if dataset == "folder":
        (tmp_path / "pets").mkdir()
        answers["image_folder"] = str(tmp_path / "pets")
    root = _new(tmp_path / "p", "image-classifier", package_name="proj", **answers)
    readme = (root / "README.md").read_text(encoding="utf-8")
    card = (root / "MODEL_CARD.md").read_text(encoding="utf-8")
    steps = (root / "src" / "proj" / "steps.py").read_text(encoding="utf-8")
    if real:
        for text in (readme, card, steps):
            assert "synthetic" not in text.lower()
            assert "real Fashion-MNIST images" in text
    else:
        assert "generated" in readme and "generated" in steps
    plumbing = root / "src" / "proj" / "plumbing"
    assert "synthetic" not in (plumbing / "reporting.py").read_text().lower()
    assert "synthetic" not in (plumbing / "datameta.py").read_text().lower()


# ---- no git identity: a neutral author, and the user is told -----------------------------


def test_no_git_identity_gives_a_neutral_author_and_says_so(tmp_path: Path) -> None:
    import getpass

    dest = tmp_path / "movie-reviews"
    done = run_cli("new", "sentiment-classifier", str(dest), "--defaults")
    assert done.returncode == 0, done.stderr
    author = _answers(dest)["author_name"]
    assert author == "The Movie Reviews authors"
    year = time.strftime("%Y")
    licence = (dest / "LICENSE").read_text(encoding="utf-8")
    assert f"Copyright (c) {year} The Movie Reviews authors\n" in licence
    assert f"Copyright (c) {year} {getpass.getuser()}\n" not in licence
    card = (dest / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "Developed by: The Movie Reviews authors" in card
    said = done.stdout + done.stderr
    assert "author_name" in said and "The Movie Reviews authors" in said
    # an author given is used, and nothing is said about it
    given = run_cli(
        "new", "sentiment-classifier", str(tmp_path / "y"), "--defaults", "-d", "author_name=Ada"
    )
    assert given.returncode == 0 and "author_name" not in given.stdout + given.stderr
    assert f"Copyright (c) {year} Ada\n" in (tmp_path / "y" / "LICENSE").read_text()


# ---- thread pools: the shared dependency ------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_threadpoolctl_is_a_runtime_dependency(tmp_path: Path, kind: str) -> None:
    import tomllib

    root = _new(tmp_path / "p", kind, package_name="proj")
    meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(d.startswith("threadpoolctl") for d in meta["dependencies"])


# ---- first steps: what install and test say ----------------------------------------------


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_image_readme_gives_the_same_lock_advice_as_make_install(tmp_path: Path) -> None:
    """TORCH_INDEX: the README, make install's output (and `new`'s note, tests/test_installs.py)
    say the same thing about the uv.lock it resolves; the mirror is remembered."""
    root = _new(tmp_path / "p", "image-classifier", package_name="proj")
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    (advice,) = [line for line in makefile.splitlines() if line.startswith("TORCH_LOCK_ADVICE =")]
    readme = _flat((root / "README.md").read_text(encoding="utf-8"))
    assert advice.split(" = ", 1)[1] in readme
    assert "unless CI should use it" not in readme  # the advice it contradicted
    assert "make install TORCH_INDEX=<a mirror of it>" in readme and ".torch-index" in readme
    assert "CUDA build" in readme  # a general index, said before it happens


@pytest.mark.parametrize("kind", KINDS)
def test_readme_states_what_make_test_takes(tmp_path: Path, kind: str) -> None:
    """Measured on 2 busy cores: the image kind's tests take 1-2 minutes (PyTorch, ONNX,
    torchrun), so its README does not promise under a minute."""
    readme = (_new(tmp_path / "p", kind, package_name="proj") / "README.md").read_text()
    (line,) = [line for line in readme.splitlines() if line.startswith("make test ")]
    assert "on 2 CPU cores" in line
    assert ("under a minute" in line) == (kind in ("sentiment-classifier", "recommender"))
    assert "under a minute" not in readme.split("## Development")[0].split("tests/")[-1]


def test_a_submission_from_the_sample_says_so_in_its_name(tmp_path: Path) -> None:
    """`make submission SAMPLE=1` writes submissions/sample-<time>-cv<score>.csv: a file
    that cannot be taken for a real entry; from the real data, no prefix."""
    import subprocess

    from project_envs import env_python

    root = _new(tmp_path / "p", "kaggle-entry", package_name="proj")
    python = str(env_python(root))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, "-m", "proj", *args],
            cwd=root,
            env={**os.environ, "PYTHONPATH": "src"},  # as make runs the steps
            capture_output=True,
            text=True,
            timeout=300,
        )

    done = run("all", "--sample")
    assert done.returncode == 0, done.stderr
    done = run("submission")
    assert done.returncode == 0, done.stderr
    (written,) = (root / "submissions").glob("*.csv")
    assert written.name.startswith("sample-") and "-cv" in written.name, written.name
    assert written.name in done.stdout
