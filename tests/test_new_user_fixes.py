"""What a new user ran into, generating and running each kind for the first time.

These generate from the template source as it is now (templates/, cut into a bundle for the
session), not from the shipped bundle, which is re-cut only at release time.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TEMPLATES, release, run_cli

from mlscaffold import source
from mlscaffold.generate import NewRequest, generate

KINDS = ("sentiment-classifier", "image-classifier", "recommender", "kaggle-entry")


@pytest.fixture(scope="session")
def current_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped bundle with its newest version re-cut from templates/ as they are now."""
    bundle = tmp_path_factory.mktemp("bundle") / "templates.bundle"
    shutil.copyfile(source.shipped_bundle(), bundle)
    release.release(release.package_version(), replace=True, bundle=bundle, templates=TEMPLATES)
    return bundle


@pytest.fixture
def templates_now(
    isolated_home: Path, current_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv(source.SHIPPED_ENV, str(current_bundle))
    yield current_bundle


def _new(dest: Path, kind: str, defaults: bool = True, **answers: Any) -> Path:
    generate(NewRequest(kind=kind, dest=dest, defaults=defaults, git=False, data=answers))
    return dest


def _answers(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))


# ---- 1. the metric question refuses a metric for the other task, at the prompt too ----------

KAGGLE_ANSWERS = {
    "project_name": "Prompted",
    "package_name": "prompted",
    "description": "d",
    "author_name": "Ada",
    "author_email": "",
    "github_user": "",
    "hf_user": "",
    "license": "MIT",
    "python_version": "3.11",
    "competition": "house-prices",
    "target_column": "SalePrice",
    "id_column": "Id",
}
UP, DOWN, ENTER = "\x1b[A", "\x1b[B", "\r"


def _prompt_metric(dest: Path, task: str, keys: str) -> str:
    """Answer everything but `metric` with -d, and `metric` at the (real) select prompt."""
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    with create_pipe_input() as keyboard, create_app_session(input=keyboard, output=DummyOutput()):
        keyboard.send_text(keys)
        keyboard.close()  # a question these keys do not answer ends in EOF, not a hang
        _new(dest, "kaggle-entry", defaults=False, **KAGGLE_ANSWERS, task=task)
    return _answers(dest)["metric"]


@pytest.mark.parametrize(
    ("task", "allowed", "keys"),
    [
        # from the default (rmse), up three times is where accuracy sits in the list
        ("regression", {"rmse", "rmse_log", "mae"}, UP * 3 + ENTER),
        ("regression", {"rmse", "rmse_log", "mae"}, UP * 2 + ENTER),
        ("multiclass", {"accuracy", "log_loss"}, DOWN + ENTER),
        ("multiclass", {"accuracy", "log_loss"}, DOWN * 3 + ENTER),
        ("binary", {"accuracy", "roc_auc", "log_loss"}, UP + ENTER),
    ],
)
def test_metric_prompt_offers_only_the_metrics_of_the_task(
    templates_now: Path, tmp_path: Path, task: str, allowed: set[str], keys: str
) -> None:
    assert _prompt_metric(tmp_path / "p", task, keys) in allowed


def test_scripted_metric_for_the_other_task_is_still_refused(
    templates_now: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "x"
    done = run_cli(
        "new", "kaggle-entry", str(dest), "--defaults", "-d", "task=regression",
        "-d", "metric=accuracy",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "metric" in done.stderr and "-d metric=" in done.stderr and not dest.exists()


# ---- 8. prompt messages fit an 80-column terminal ------------------------------------------

MESSAGE = re.compile(r"%\}(.*?)\{%", re.S)


def _questions() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for path in [TEMPLATES / "copier.yml", *sorted((TEMPLATES / "_questions").glob("*.yml"))]:
        for document in yaml.safe_load_all(
            path.read_text(encoding="utf-8").replace("!include", "#")
        ):
            for name, spec in (document or {}).items():
                if isinstance(spec, dict):
                    found[name] = spec
    return found


def _validator_messages(validator: str) -> list[str]:
    """The literal messages a validator can answer, `{{ expressions }}` as 8 characters."""
    padded = validator.replace("{%-", "{%") + "{%"
    messages = [m.strip() for m in MESSAGE.findall(padded)]
    return [re.sub(r"\{\{.*?\}\}", "x" * 8, m) for m in messages if m.strip()]


def test_validator_messages_fit_the_prompt() -> None:
    long = []
    for name, spec in _questions().items():
        validators = [spec.get("validator", "")]
        choices = spec.get("choices")
        if isinstance(choices, dict):
            validators += [c.get("validator", "") for c in choices.values() if isinstance(c, dict)]
        for validator in validators:
            for message in _validator_messages(validator or ""):
                if len(message) > 70:
                    long.append(f"{name}: {message} ({len(message)})")
    assert not long, "\n".join(long)


# ---- 8. wording of generated text ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "phrase"),
    [
        ("image-classifier", "An image classifier"),
        ("kaggle-entry", "A Kaggle competition entry"),
        ("recommender", "A recommender"),
        ("sentiment-classifier", "A sentiment classifier"),
    ],
)
def test_description_and_docstring_read_as_english(
    templates_now: Path, tmp_path: Path, kind: str, phrase: str
) -> None:
    root = _new(tmp_path / "p", kind, package_name="proj")
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert f"\n{phrase} built with mlscaffold.\n" in readme
    init = (root / "src" / "proj" / "__init__.py").read_text(encoding="utf-8")
    assert init.startswith(f'"""{phrase},')


@pytest.mark.parametrize("kind", KINDS)
def test_readme_project_tree_is_indented(templates_now: Path, tmp_path: Path, kind: str) -> None:
    root = _new(tmp_path / "p", kind, package_name="proj")
    readme = (root / "README.md").read_text(encoding="utf-8")
    tree = readme.split("src/proj/\n", 1)[1].split("\ntests/", 1)[0]
    lines = tree.splitlines()
    assert len(lines) > 4
    modules = [line for line in lines if line.lstrip().split(" ", 1)[0].endswith(".py")]
    assert all(line.startswith("  ") and line[2] != " " for line in modules), tree


# ---- 7. the image sample is what SOURCE.md says it is --------------------------------------


@pytest.mark.parametrize(
    ("dataset", "real"), [("fashion-mnist", True), ("folder", True), ("mnist", False)]
)
def test_image_sample_is_described_as_what_it_is(
    templates_now: Path, tmp_path: Path, dataset: str, real: bool
) -> None:
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


# ---- 9. no git identity: a neutral author, and the user is told -----------------------------


def test_no_git_identity_gives_a_neutral_author_and_says_so(
    templates_now: Path, tmp_path: Path
) -> None:
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


# ---- 10. thread pools: the shared dependency ------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_threadpoolctl_is_a_runtime_dependency(
    templates_now: Path, tmp_path: Path, kind: str
) -> None:
    import tomllib

    root = _new(tmp_path / "p", kind, package_name="proj")
    meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(d.startswith("threadpoolctl") for d in meta["dependencies"])
