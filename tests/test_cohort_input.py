"""Cohort input is checked before anything is written: locked answers at `init`, the
`--remote` URL template and the roster's encoding at `new`. One or two lines, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mlscaffold.cli import main

KIND = "sentiment-classifier"


def _invoke(*args: str) -> tuple[int, list[str]]:
    """Exit status and what stderr says besides progress lines (→ ...)."""
    result = CliRunner().invoke(main, list(args))
    lines = result.stderr.strip().splitlines()
    return result.exit_code, [line for line in lines if not line.startswith("→ ")]


def _assert_one_problem(code: int, lines: list[str], *named: str) -> None:
    assert code == 2, lines
    assert 1 <= len(lines) <= 2 and lines[0].startswith("error: "), lines
    assert all(name in lines[0] for name in named), lines
    assert not any("Traceback" in line for line in lines)


# ---- init: locked answers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        ("package_name=1bad", ["package_name", "1bad"]),
        ("sentiment_dataset=nope", ["sentiment_dataset", "nope"]),
        ("foo=1", ["unknown question", "foo"]),
        ("image_dataset=mnist", ["image_dataset", "'image-classifier'"]),
        ("description=one\x7fline", ["description", "control characters"]),
        ("license=GPL", ["license", "GPL"]),
    ],
)
def test_init_refuses_bad_locked_answers_before_writing(
    tmp_path: Path, answer: str, named: list[str]
) -> None:
    folder = tmp_path / "hw1"
    code, lines = _invoke("cohort", "init", str(folder), "--kind", KIND, "-d", answer)
    _assert_one_problem(code, lines, *named)
    assert not folder.exists()


def test_init_refuses_a_folder_whose_derived_package_name_is_invalid(tmp_path: Path) -> None:
    folder = tmp_path / "import"  # package_name derived from it: a Python keyword
    code, lines = _invoke("cohort", "init", str(folder), "--kind", KIND)
    _assert_one_problem(code, lines, "package_name", "keyword")
    assert not folder.exists()
    code, lines = _invoke(
        "cohort", "init", str(folder), "--kind", KIND, "-d", "package_name=import_hw"
    )
    assert code == 0, lines


def test_init_keeps_valid_locked_answers(tmp_path: Path) -> None:
    folder = tmp_path / "hw2"
    code, lines = _invoke(
        "cohort", "init", str(folder), "--kind", KIND, "-d", "sentiment_dataset=sst2"
    )
    assert code == 0, lines
    preset = yaml.safe_load((folder / "cohort.yml").read_text(encoding="utf-8"))
    assert preset["answers"]["sentiment_dataset"] == "sst2"
    assert preset["answers"]["package_name"] == "hw2"


# ---- new: --remote and the roster ---------------------------------------------------------


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cohort") / "hw1"
    code, lines = _invoke("cohort", "init", str(folder), "--kind", KIND)
    assert code == 0, lines
    return folder


@pytest.mark.parametrize(
    ("remote", "named"),
    [
        ("git@host:org/hw1-{githubuser}.git", ["{githubuser}"]),
        ("git@host:org/{assignment}-{0}.git", ["{0}"]),
        ("git@host:org/{handle.__class__}.git", ["{handle.__class__}"]),
        ("git@host:org/hw1-{.git", ["--remote"]),
        ("git@host:org/hw1-}.git", ["--remote"]),
    ],
)
def test_new_refuses_a_bad_remote_template_before_any_repository(
    assignment: Path, tmp_path: Path, remote: str, named: list[str]
) -> None:
    out = tmp_path / "repos"
    code, lines = _invoke(
        "cohort",
        "new",
        str(assignment),
        "--roster",
        str(assignment / "roster.csv"),
        "--out",
        str(out),
        "--remote",
        remote,
    )
    _assert_one_problem(code, lines, *named)
    assert "{github_user}, {student_id}, {handle}, {assignment}" in "\n".join(lines)
    assert not out.exists() or not any(out.iterdir())


def test_a_roster_that_is_not_utf8_is_one_clear_error(assignment: Path, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(
        "student_id,name,email,github_user\ns1,Ada,,\ns2,Seán Ó Briain,,\n".encode("latin-1")
    )
    out = tmp_path / "repos"
    code, lines = _invoke(
        "cohort", "new", str(assignment), "--roster", str(roster), "--out", str(out)
    )
    _assert_one_problem(code, lines, str(roster), "UTF-8", "row 3")
    assert "save it as UTF-8" in "\n".join(lines)
    assert not out.exists() or not any(out.iterdir())


def test_a_roster_email_with_a_control_character_names_its_row(tmp_path: Path) -> None:
    from mlscaffold.cohort import roster

    path = tmp_path / "roster.csv"
    path.write_text(
        "student_id,name,email,github_user\ns1,Ada,ada@example.edu,\ns2,Alan,al\x7fan@x.org,\n",
        encoding="utf-8",
    )
    with pytest.raises(roster.RosterError, match="row 3: email"):
        roster.read(path)
