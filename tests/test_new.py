"""`new`: a complete, committed project, or nothing at all."""

from __future__ import annotations

import getpass
import os
import shlex
import subprocess
import sys
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
    # no git identity in this HOME: a neutral author (never the login name, nor "Your Name")
    author = "The Movie Reviews authors"
    assert git(dest, "log", "--format=%an|%s").startswith(f"{author}|Generate sentiment-classifier")
    assert answers["author_name"] == author != getpass.getuser()
    generated = [p for p in dest.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert not [p for p in generated if "Your Name" in p.read_text(errors="replace")]
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
    assert "git was not found" in done.stderr and "needs git even with --no-git" in done.stderr
    assert not (tmp_path / "x").exists()
    no_git = run_cli(
        "new",
        "sentiment-classifier",
        str(tmp_path / "y"),
        "--defaults",
        "--no-git",
        env={"PATH": str(bin_dir)},
    )
    assert no_git.returncode == 1 and "git was not found" in no_git.stderr
    assert "Local template must be a directory" not in no_git.stderr


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


def test_a_destination_that_cannot_be_made_is_a_usage_error(tmp_path: Path) -> None:
    """A parent that is a file (or a read-only or system folder): exit 2 naming DEST and
    where creating it failed, not an OSError about the staging folder's temporary name."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    result = CliRunner().invoke(main, ["new", "sentiment-classifier", str(blocker / "x" / "y")])
    assert result.exit_code == 2, result.output
    assert f"error: cannot create {blocker / 'x' / 'y'}: " in result.output
    assert "mlscaffold-" not in result.output and "Traceback" not in result.output
    assert blocker.read_text() == "not a folder\n" and _leftovers(tmp_path) == []


def _locked_dependency_names() -> list[object]:
    """(kind, a package name its lock resolves only indirectly) for each kind with a lock."""
    import re

    from mlscaffold import catalog, uvlock

    rows = []
    for kind in catalog.available():
        names = sorted(
            name.replace("-", "_")
            for name in uvlock.dependency_names(kind.name)
            if re.fullmatch(r"[a-z][a-z0-9]*", name) and name not in kind.reserved
        )
        if names:
            rows.append(pytest.param(kind.name, names[len(names) // 2], id=kind.name))
    return rows


@pytest.mark.parametrize(("kind", "package"), _locked_dependency_names())
def test_a_package_named_like_a_dependency_is_refused(
    tmp_path: Path, kind: str, package: str
) -> None:
    """`new forecaster h11` generated a project uv refused to install (uvicorn needs h11)."""
    from mlscaffold.errors import InvalidAnswerError
    from mlscaffold.generate import NewRequest, generate

    dest = tmp_path / package
    request = NewRequest(kind=kind, dest=dest, defaults=True, git=False, lock=False)
    with pytest.raises(InvalidAnswerError, match=f"package_name '{package}' is the name of"):
        generate(request)
    assert not dest.exists() and _leftovers(tmp_path) == []


def test_generate_uses_git_identity_when_configured(tmp_path: Path) -> None:
    (Path(os.environ["HOME"]) / ".gitconfig").write_text("[user]\n\tname = Ada\n\temail = a@b.c\n")
    dest = tmp_path / "p"
    assert run_cli("new", "sentiment-classifier", str(dest), "--defaults").returncode == 0
    assert git(dest, "log", "--format=%an <%ae>").strip() == "Ada <a@b.c>"


NEW_PATCHED = """
import os, signal, sys
import mlscaffold.generate as generate_module
def stop(*args, **kwargs):
    {action}
generate_module.git.init_and_commit = stop
from mlscaffold.cli import main
main(sys.argv[1:], prog_name="mlscaffold")
"""


PYTHON_C = [sys.executable, "-c"]
NEW_ARGS = ["new", "sentiment-classifier"]


def _new_patched(action: str, dest: Path, tmpdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PYTHON_C, NEW_PATCHED.format(action=action), *NEW_ARGS, str(dest), "--defaults"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(tmpdir)},
        timeout=120,
    )


def test_new_stopped_by_sigterm_leaves_nothing(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    dest = tmp_path / "parent" / "proj"
    done = _new_patched("os.kill(os.getpid(), signal.SIGTERM)", dest, scratch)
    assert done.returncode == 143 and "stopped by SIGTERM" in done.stderr
    assert not (tmp_path / "parent").exists(), "parent folders it made are gone too"
    assert list(scratch.iterdir()) == [], "Copier's temporary folders are not left behind"


def test_killed_new_leftovers_are_removed_by_the_next_new(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    dest = tmp_path / "proj"
    done = _new_patched("os._exit(137)", dest, scratch)  # like SIGKILL: no clean-up runs
    assert done.returncode == 137
    left = _leftovers(tmp_path)
    assert len(left) == 1 and list(scratch.iterdir()) == [], "Copier's temp files were inside"
    foreign = tmp_path / ".notes.mlscaffold-keep"  # same name shape, not ours: untouched
    foreign.mkdir()
    done = run_cli("new", "sentiment-classifier", str(dest), "--defaults")
    assert done.returncode == 0, done.stderr
    assert "left by an interrupted 'mlscaffold new'" in done.stderr
    assert _leftovers(tmp_path) == [foreign.name] and dest.is_dir()


def test_next_hint_quotes_the_path(tmp_path: Path) -> None:
    dest = tmp_path / "my project's folder"
    done = run_cli("new", "sentiment-classifier", str(dest), "--defaults")
    assert done.returncode == 0, done.stderr
    assert f"Next: cd {shlex.quote(str(dest))} && make install" in done.stdout
    # the bundled sample first (offline, seconds), the real dataset's download second
    (first,) = [line for line in done.stdout.splitlines() if line.startswith("Next:")]
    assert first.split("(")[0].rstrip().endswith("make all SAMPLE=1"), first
    (then,) = [line for line in done.stdout.splitlines() if line.startswith("Then:")]
    assert "make all" in then and "real dataset" in then


def test_git_identity_notes_name_user_email_too(tmp_path: Path) -> None:
    """No identity: the note says how to set user.name and user.email. A user.name without
    user.email: git would refuse the user's own commits, so that is said too."""
    done = run_cli("new", "sentiment-classifier", str(tmp_path / "a"), "--defaults")
    assert done.returncode == 0, done.stderr
    (note,) = [line for line in done.stderr.splitlines() if "author_name is" in line]
    assert "git config --global user.name" in note and "git config --global user.email" in note
    git(Path(os.environ["HOME"]), "config", "--global", "user.name", "Ada Lovelace")
    done = run_cli("new", "sentiment-classifier", str(tmp_path / "b"), "--defaults")
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "no user.email" in notes[0], done.stderr
    assert "git config --global user.email you@example.com" in notes[0]
    git(Path(os.environ["HOME"]), "config", "--global", "user.email", "ada@example.com")
    done = run_cli("new", "sentiment-classifier", str(tmp_path / "c"), "--defaults")
    assert "note:" not in done.stderr, done.stderr


def test_an_older_mlscaffold_generates_its_own_version(synthetic_bundles, monkeypatch) -> None:
    v1, v12 = synthetic_bundles()
    monkeypatch.setenv(source.SHIPPED_ENV, str(v12))
    assert run_cli("list").returncode == 0
    source.ensure_user_source()  # a newer mlscaffold refreshed the per-user bundle
    monkeypatch.setenv(source.SHIPPED_ENV, str(v1))
    dest = Path(os.environ["HOME"]).parent / "older"
    done = run_cli("new", "sentiment-classifier", str(dest), "--defaults")
    assert done.returncode == 0, done.stderr
    assert "from template 1.0.0" in done.stdout
    assert yaml.safe_load((dest / ".copier-answers.yml").read_text())["_commit"] == "v1.0.0"


def _new_with(tmp_path: Path, pair: str) -> subprocess.CompletedProcess[str]:
    return run_cli("new", "sentiment-classifier", str(tmp_path / "x"), "--defaults", "-d", pair)


@pytest.mark.parametrize("answer", ["project_name", "description", "author_name"])
def test_bidirectional_overrides_are_refused(tmp_path: Path, answer: str) -> None:
    done = _new_with(tmp_path, f"{answer}=safe\u202etxt.exe")
    assert done.returncode == 2 and "bidirectional" in done.stderr
    assert not (tmp_path / "x").exists()


def test_author_name_is_capped(tmp_path: Path) -> None:
    done = _new_with(tmp_path, "author_name=" + "a" * 101)
    assert done.returncode == 2 and "author_name is too long" in done.stderr


def test_own_csv_asks_for_its_file_and_checks_it(tmp_path: Path) -> None:
    common = ["--defaults", "-d", "sentiment_dataset=csv", "-d", "package_name=mine"]
    done = run_cli(
        "new",
        "sentiment-classifier",
        str(tmp_path / "a"),
        *common,
        "-d",
        "csv_source=/nowhere/reviews.csv",
    )
    assert (
        done.returncode == 2 and "csv_source '/nowhere/reviews.csv' does not exist" in done.stderr
    )
    assert not (tmp_path / "a").exists()
    data = tmp_path / "reviews.csv"
    data.write_text("text,label\ngood,pos\n")
    done = run_cli(
        "new", "sentiment-classifier", str(tmp_path / "b"), *common, "-d", f"csv_source={data}"
    )
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load((tmp_path / "b" / "configs" / "config.yaml").read_text())
    assert config["data"]["source"] == str(data)


def _invoke(*args: str) -> tuple[int, list[str]]:
    """Exit status and what stderr says besides progress lines (→ ...)."""
    result = CliRunner().invoke(main, list(args))
    lines = result.stderr.strip().splitlines()
    return result.exit_code, [line for line in lines if not line.startswith("→ ")]


@pytest.mark.parametrize(
    ("kind", "answer", "owner"),
    [
        ("sentiment-classifier", "image_dataset=mnist", "image-classifier"),
        ("image-classifier", "text_column=review", "sentiment-classifier"),
        ("kaggle-entry", "user_column=uid", "recommender"),
        ("recommender", "competition=titanic", "kaggle-entry"),
    ],
)
def test_answer_for_another_kind_is_refused(
    tmp_path: Path, kind: str, answer: str, owner: str
) -> None:
    dest = tmp_path / "x"
    code, lines = _invoke("new", kind, str(dest), "--defaults", "--no-git", "-d", answer)
    name = answer.partition("=")[0]
    assert code == 2, lines
    assert lines[0].startswith("error: ") and name in lines[0] and f"'{owner}'" in lines[0]
    assert len(lines) <= 2 and not dest.exists() and _leftovers(tmp_path) == []


def test_unknown_question_hint_lists_only_this_kinds_public_answers(tmp_path: Path) -> None:
    from mlscaffold import catalog

    code, lines = _invoke(
        "new", "recommender", str(tmp_path / "x"), "--defaults", "-d", "projct_name=Typo"
    )
    assert code == 2 and "unknown question(s): projct_name" in lines[0]
    assert lines[1].startswith("hint: ") and len(lines) == 2
    listed = set(lines[1].rpartition(": ")[2].split(", "))
    own = set(catalog.SHARED_ANSWERS) - {"kind"} | set(catalog.get("recommender").answers)
    assert listed == own
