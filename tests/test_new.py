"""`new`: a complete, committed project, or nothing at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import git, run_cli

from mlscaffold import generate as generate_module
from mlscaffold import source
from mlscaffold.cli import main


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if ".mlscaffold-" in p.name]


def test_new_with_defaults_makes_a_committed_project(tmp_path: Path) -> None:
    dest = tmp_path / "movie-reviews"
    done = run_cli("new", "sentiment-classifier", str(dest), "--defaults")
    assert done.returncode == 0, done.stderr
    assert "✓ generated" in done.stdout and "make install && make all" in done.stdout
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == source.USER_SOURCE
    assert answers["_commit"] == "v" + str(source.versions(source.shipped_bundle())[-1])
    assert answers["project_name"] == "Movie Reviews"
    assert answers["package_name"] == "movie_reviews"
    assert (dest / "src" / "movie_reviews" / "train.py").is_file()
    # no git identity in this HOME: the commit falls back to the answers' author
    assert git(dest, "log", "--format=%an|%s").startswith("Your Name|Generate sentiment-classifier")
    assert git(dest, "status", "--porcelain") == ""
    assert _leftovers(tmp_path) == []


def test_new_records_answers_from_file_and_flags(tmp_path: Path) -> None:
    preset = tmp_path / "cohort.yml"
    preset.write_text(
        "author_name: Bootcamp Student\nlicense: Apache-2.0\nsentiment_dataset: sst2\n"
        "_src_path: ignored\n"
    )
    dest = tmp_path / "hw1"
    done = run_cli(
        "new",
        "sentiment-classifier",
        str(dest),
        "--answers-file",
        str(preset),
        "-d",
        "license=BSD-3-Clause",
        "-d",
        "project_name=HW 1 Sentiment",
    )
    assert done.returncode == 0, done.stderr
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["author_name"] == "Bootcamp Student"
    assert answers["license"] == "BSD-3-Clause", "-d wins over the answers file"
    assert answers["sentiment_dataset"] == "sst2"
    assert answers["package_name"] == "hw_1_sentiment"
    assert "BSD 3-Clause" in (dest / "LICENSE").read_text()


def test_new_refuses_non_empty_destination(tmp_path: Path) -> None:
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "thesis.tex").write_text("my work")
    done = run_cli("new", "sentiment-classifier", str(dest), "--defaults")
    assert done.returncode == 2
    assert "not empty" in done.stderr and "--force" in done.stderr
    assert [p.name for p in dest.iterdir()] == ["thesis.tex"]
    assert (dest / "thesis.tex").read_text() == "my work"


def test_new_force_writes_into_non_empty_folder(tmp_path: Path) -> None:
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    done = run_cli("new", "sentiment-classifier", str(dest), "--defaults", "--force", "--no-git")
    assert done.returncode == 0, done.stderr
    assert (dest / "keep.txt").read_text() == "mine"
    assert (dest / "Makefile").is_file() and not (dest / ".git").exists()


def test_new_into_the_current_empty_folder_keeps_the_folder(tmp_path: Path) -> None:
    dest = tmp_path / "empty"
    dest.mkdir()
    inode = dest.stat().st_ino
    done = run_cli("new", "sentiment-classifier", ".", "--defaults", cwd=dest)
    assert done.returncode == 0, done.stderr
    assert (dest / ".git").is_dir() and (dest / "src" / "empty").is_dir()
    assert dest.stat().st_ino == inode, "the user's working directory must not be replaced"


def test_invalid_answer_is_one_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "bad"
    done = run_cli(
        "new", "sentiment-classifier", str(dest), "--defaults", "-d", "package_name=9lives"
    )
    assert done.returncode == 2
    assert "package_name" in done.stderr and "-d package_name=" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 3
    assert not dest.exists() and _leftovers(tmp_path) == []


def test_unknown_question_is_refused(tmp_path: Path) -> None:
    done = run_cli(
        "new", "sentiment-classifier", str(tmp_path / "x"), "--defaults", "-d", "projct_name=Typo"
    )
    assert done.returncode == 2 and "unknown question(s): projct_name" in done.stderr


def test_bad_data_pair_and_unreadable_answers_file(tmp_path: Path) -> None:
    done = run_cli("new", "sentiment-classifier", str(tmp_path / "x"), "-d", "no-equals-sign")
    assert done.returncode == 2 and "key=value" in done.stderr
    done = run_cli(
        "new",
        "sentiment-classifier",
        str(tmp_path / "x"),
        "--answers-file",
        str(tmp_path / "missing.yml"),
    )
    assert done.returncode == 2 and "cannot read answers file" in done.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text("author_name: [unclosed\n")
    done = run_cli(
        "new", "sentiment-classifier", str(tmp_path / "x"), "--answers-file", str(broken)
    )
    assert done.returncode == 2 and "not valid YAML" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_template_version(tmp_path: Path) -> None:
    done = run_cli(
        "new", "sentiment-classifier", str(tmp_path / "x"), "--defaults", "--vcs-ref", "9.9.9"
    )
    assert done.returncode == 2
    assert "unknown template version '9.9.9'" in done.stderr and "available:" in done.stderr


def test_git_missing_is_a_clear_error(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    done = run_cli(
        "new", "sentiment-classifier", str(tmp_path / "x"), "--defaults", env={"PATH": str(bin_dir)}
    )
    assert done.returncode == 1
    assert "git was not found" in done.stderr and "--no-git" in done.stderr
    assert not (tmp_path / "x").exists()


def test_interrupted_generation_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(generate_module.git, "init_and_commit", interrupted)
    dest = tmp_path / "half"
    result = CliRunner().invoke(main, ["new", "sentiment-classifier", str(dest), "--defaults"])
    assert result.exit_code == 130
    assert "interrupted" in result.output
    assert not dest.exists() and _leftovers(tmp_path) == []


def test_failure_after_rendering_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(generate_module.git, "init_and_commit", broken)
    dest = tmp_path / "half"
    result = CliRunner().invoke(main, ["new", "sentiment-classifier", str(dest), "--defaults"])
    assert result.exit_code == 1 and "disk full" in result.output
    assert not dest.exists() and _leftovers(tmp_path) == []


def test_permission_error_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "/srv/readonly/x")

    monkeypatch.setattr(generate_module.source, "ensure_user_source", denied)
    result = CliRunner().invoke(main, ["new", "sentiment-classifier", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "error: Permission denied (/srv/readonly/x)" in result.output
    assert "unexpected" not in result.output and not (tmp_path / "x").exists()


def test_generate_uses_git_identity_when_configured(tmp_path: Path) -> None:
    (Path(os.environ["HOME"]) / ".gitconfig").write_text("[user]\n\tname = Ada\n\temail = a@b.c\n")
    dest = tmp_path / "p"
    assert run_cli("new", "sentiment-classifier", str(dest), "--defaults").returncode == 0
    assert git(dest, "log", "--format=%an <%ae>").strip() == "Ada <a@b.c>"
