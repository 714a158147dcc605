"""The command surface: help with examples, version, list, completion, fast start-up."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner
from conftest import run_cli

from mlscaffold import __version__, catalog
from mlscaffold.cli import main


def test_help_lists_commands_and_examples() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("new", "list", "check", "update", "completion"):
        assert command in result.output
    assert "Examples:" in result.output and "Exit status" in result.output


def test_every_command_has_examples_in_help() -> None:
    for command in ("new", "list", "check", "update", "completion"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Examples:" in result.output, command


def test_version_subprocess() -> None:
    done = run_cli("--version")
    assert done.returncode == 0
    assert __version__ in done.stdout


def test_help_does_not_import_copier_or_gitpython() -> None:
    code = (
        "import sys\n"
        "from mlscaffold.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('copier', 'git', 'plumbum') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("[]"), done.stdout


def test_list_shows_complete_kinds_and_version() -> None:
    done = run_cli("list")
    assert done.returncode == 0
    assert f"template version {__version__}" in done.stdout
    listed = [line.split()[0] for line in done.stdout.splitlines()[1:]]
    assert listed == [kind.name for kind in catalog.available()]
    planned = [kind.name for kind in catalog.KINDS if not kind.complete]
    assert not set(planned) & set(listed), "incomplete kinds must not be listed"


def test_list_json() -> None:
    result = CliRunner().invoke(main, ["list", "--json"])
    payload = json.loads(result.output)
    assert payload["template_version"] == __version__
    assert {k["name"] for k in payload["kinds"]} == {k.name for k in catalog.available()}


def test_unknown_kind_suggests_the_closest(tmp_path) -> None:
    done = run_cli("new", "sentiment-clasifier", str(tmp_path / "x"))
    assert done.returncode == 2
    assert "unknown kind 'sentiment-clasifier'" in done.stderr
    assert "did you mean 'sentiment-classifier'" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 2
    assert not (tmp_path / "x").exists()


def test_usage_errors_exit_2() -> None:
    assert run_cli("new").returncode == 2
    assert run_cli("update", "--conflict", "maybe").returncode == 2
    assert run_cli("frobnicate").returncode == 2


def test_shell_completion_scripts() -> None:
    for shell in ("bash", "zsh", "fish"):
        result = CliRunner().invoke(main, ["completion", shell])
        assert result.exit_code == 0
        assert "_MLSCAFFOLD_COMPLETE" in result.output


def test_completion_offers_kinds() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlscaffold"],
        env={
            "_MLSCAFFOLD_COMPLETE": "bash_complete",
            "COMP_WORDS": "mlscaffold new sen",
            "COMP_CWORD": "2",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
    )
    assert "sentiment-classifier" in done.stdout
