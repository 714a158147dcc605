"""The questionnaire: a metric only for its task, at the prompt and through -d, and validator
messages short enough for the prompt.

These generate from the template source as it is now (templates/), not from the shipped
bundle, which is re-cut only at release time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TEMPLATES, run_cli
from current_templates import current_bundle, templates_now  # noqa: F401 (fixtures)

from mlscaffold.generate import NewRequest, generate


def _new(dest: Path, kind: str, defaults: bool = True, **answers: Any) -> Path:
    generate(NewRequest(kind=kind, dest=dest, defaults=defaults, git=False, data=answers))
    return dest


def _answers(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))


# ---- the metric question refuses a metric for the other task, at the prompt too ----------

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
@pytest.mark.usefixtures("templates_now")
def test_metric_prompt_offers_only_the_metrics_of_the_task(
    tmp_path: Path, task: str, allowed: set[str], keys: str
) -> None:
    assert _prompt_metric(tmp_path / "p", task, keys) in allowed


@pytest.mark.usefixtures("templates_now")
def test_scripted_metric_for_the_other_task_is_still_refused(tmp_path: Path) -> None:
    dest = tmp_path / "x"
    done = run_cli(
        "new", "kaggle-entry", str(dest), "--defaults", "-d", "task=regression",
        "-d", "metric=accuracy",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "metric" in done.stderr and "-d metric=" in done.stderr and not dest.exists()


# ---- prompt messages fit an 80-column terminal ------------------------------------------

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


def _typed_questions() -> list[Any]:
    """(kind, question) for every question answered with a number, its kind from `when`."""
    rows = []
    for name, spec in _questions().items():
        if spec.get("type") in ("int", "float"):
            kind = re.search(r"kind == '([a-z-]+)'", str(spec.get("when", "")))
            rows.append(pytest.param(kind.group(1) if kind else "sentiment-classifier", name))
    return rows


@pytest.mark.usefixtures("templates_now")
@pytest.mark.parametrize(("kind", "question"), _typed_questions())
def test_a_number_question_answered_with_text_is_named(
    tmp_path: Path, kind: str, question: str
) -> None:
    """Copier's cast error ("invalid literal for int() with base 10: 'abc'") named no
    question: the error says which answer and what it must be."""
    dest = tmp_path / "x"
    done = run_cli("new", kind, str(dest), "--defaults", "--no-git", "-d", f"{question}=abc")
    assert done.returncode == 2, done.stderr
    first = done.stderr.strip().splitlines()[-2]
    assert f"'{question}'" in first and "'abc' is not a" in first, done.stderr
    assert "Traceback" not in done.stderr and not dest.exists()


@pytest.mark.usefixtures("templates_now")
@pytest.mark.parametrize("freq", ["bogus", "MS: 1", "15minutes"])
def test_a_frequency_pandas_does_not_know_is_refused(tmp_path: Path, freq: str) -> None:
    """The forecaster's `freq` is a pandas alias: "bogus" was accepted and failed later."""
    dest = tmp_path / "x"
    args = ["-d", "forecast_dataset=csv", "-d", f"freq={freq}"]
    done = run_cli("new", "forecaster", str(dest), "--defaults", "--no-git", *args)
    assert done.returncode == 2 and "'freq'" in done.stderr, done.stderr
    assert not dest.exists()
