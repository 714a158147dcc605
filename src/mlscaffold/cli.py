"""The `mlscaffold` command: parse arguments, call the modules below, print, exit.

Nothing here imports Copier or GitPython at module level, so `--help`, `--version` and
`list` stay fast (Copier alone costs ~0.4 s to import).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from mlscaffold import __version__, catalog
from mlscaffold.errors import EXIT_FAILURE, EXIT_INTERRUPTED, MlscaffoldError

F = TypeVar("F", bound=Callable[..., Any])

EPILOG_MAIN = """\b
Examples:
  mlscaffold list
  mlscaffold new sentiment-classifier movie-reviews
  mlscaffold new sentiment-classifier hw1 --defaults -d author_name="Ada" --answers-file cohort.yml
  mlscaffold check path/to/project          # exit 0 up to date, 1 behind
  mlscaffold update path/to/project         # exit 1 if conflicts remain

\b
Exit status: 0 ok; 1 behind / conflicts / failure; 2 bad usage or input; 130 interrupted.
Shell completion: eval "$(mlscaffold completion bash)"   (or zsh, fish)
"""


def _say(message: str) -> None:
    """Progress lines go to stderr so stdout stays clean for --json and scripts."""
    click.secho(f"→ {message}", err=True, fg="cyan")


def _fail(message: str, hint: str | None, code: int) -> None:
    click.secho(f"error: {message}", err=True, fg="red")
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Every user-facing failure becomes one or two lines and a documented exit status."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MlscaffoldError as exc:
            _fail(exc.message, exc.hint, exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted; nothing was changed or left half-made", None, EXIT_INTERRUPTED)
        except OSError as exc:  # permissions, full disk: the user's to fix, not a bug
            where = f" ({exc.filename})" if exc.filename else ""
            _fail(
                f"{exc.strerror or exc}{where}", "check the path and its permissions", EXIT_FAILURE
            )
        except Exception as exc:  # a bug: still no traceback unless asked for
            if os.environ.get("MLSCAFFOLD_DEBUG"):
                traceback.print_exc()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            _fail(
                f"unexpected {type(exc).__name__}: {first}",
                "re-run with MLSCAFFOLD_DEBUG=1 for the traceback and report it",
                EXIT_FAILURE,
            )

    return wrapper  # type: ignore[return-value]


def _complete_kinds(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    return [k.name for k in catalog.available() if k.name.startswith(incomplete)]


@click.group(epilog=EPILOG_MAIN, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="mlscaffold")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Generate ML portfolio projects that really train, evaluate and ship.

    Each project comes from a versioned Copier template, so it can be updated to newer
    template versions later, keeping your own edits.
    """
    if os.environ.get("NO_COLOR"):
        ctx.color = False


@main.command("list", epilog="\b\nExamples:\n  mlscaffold list\n  mlscaffold list --json")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def list_kinds(as_json: bool) -> None:
    """Show the kinds of project and the template version."""
    kinds = catalog.available()
    if as_json:
        payload = {
            "template_version": __version__,
            "kinds": [{"name": k.name, "title": k.title, "summary": k.summary} for k in kinds],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"template version {__version__}")
    width = max(len(k.name) for k in kinds)
    for kind in kinds:
        click.echo(f"  {kind.name:<{width}}  {kind.summary}")


@main.command(
    epilog="""\b
Examples:
  mlscaffold new sentiment-classifier movie-reviews
  mlscaffold new sentiment-classifier hw1 --defaults -d sentiment_dataset=sst2
  mlscaffold new sentiment-classifier hw1 --answers-file cohort-2026.yml --vcs-ref 0.1.0
\b
Answers: -d and --answers-file take the questions' names (project_name, package_name,
description, author_name, author_email, github_user, license, python_version and each
kind's own). Without a terminal, questions take their defaults.
"""
)
@click.argument("kind", shell_complete=_complete_kinds)
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "-d", "--data", "pairs", multiple=True, metavar="KEY=VALUE", help="Answer a question."
)
@click.option(
    "--answers-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML file of answers (a cohort preset, or another project's .copier-answers.yml).",
)
@click.option("--defaults", is_flag=True, help="Take the default for every unanswered question.")
@click.option("--no-git", is_flag=True, help="Do not run git init or make the first commit.")
@click.option(
    "--vcs-ref", "version", metavar="VERSION", help="Template version to use (default: newest)."
)
@click.option(
    "--force", is_flag=True, help="Write into DEST even if it is not empty (overwrites same names)."
)
@handle_errors
def new(
    kind: str,
    dest: Path,
    pairs: tuple[str, ...],
    answers_file: Path | None,
    defaults: bool,
    no_git: bool,
    version: str | None,
    force: bool,
) -> None:
    """Generate a new project of KIND in folder DEST."""
    from mlscaffold import answers
    from mlscaffold.generate import NewRequest, generate

    data = {
        **(answers.load_file(answers_file) if answers_file else {}),
        **answers.parse_pairs(pairs),
    }
    interactive = sys.stdin.isatty() and not defaults
    result = generate(
        NewRequest(
            kind=kind,
            dest=dest,
            data=data,
            defaults=not interactive,
            version=version,
            git=not no_git,
            force=force,
        ),
        progress=_say,
    )
    done = f"generated {result.files} files from template {result.version}"
    if result.committed:
        done += ", git repository initialised, first commit made"
    click.secho(f"✓ {done}", fg="green")
    click.echo(f"Next: cd {click.format_filename(str(dest))} && make install && make all")


@main.command(
    epilog="""\b
Examples:
  mlscaffold check                      # in a project folder
  mlscaffold check path/to/project --json
\b
Exit status: 0 up to date, 1 behind, 2 not a project or bad usage.
"""
)
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def check(path: Path, as_json: bool) -> None:
    """Tell whether the project at PATH is on the newest template version."""
    from mlscaffold.update import check as run_check

    result = run_check(path)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif result.up_to_date and result.current != result.latest:
        click.echo(
            f"ahead: {result.kind} project on template {result.current}, newer than this "
            f"mlscaffold knows ({result.latest}); upgrade mlscaffold to update it"
        )
    elif result.up_to_date:
        click.echo(f"up to date: {result.kind} project on template {result.current}")
    else:
        click.echo(
            f"behind: {result.kind} project on template {result.current}, newest is {result.latest}"
            " (run 'mlscaffold update')"
        )
    sys.exit(0 if result.up_to_date else 1)


@main.command(
    epilog="""\b
Examples:
  mlscaffold update                     # newest version, in a project folder
  mlscaffold update path/to/project --to 0.2.0
  mlscaffold update --pretend           # rehearse: list changes and conflicts, write nothing
  mlscaffold update --conflict rej      # leave *.rej files instead of inline markers
\b
The repository must be clean. Your edits are kept; where they overlap a template change,
the file gets conflict markers (or a .rej file) and update exits 1 listing them.
"""
)
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option(
    "--to", "to", metavar="VERSION", help="Template version to update to (default: newest)."
)
@click.option("--pretend", is_flag=True, help="Show what would change and conflict; write nothing.")
@click.option(
    "--conflict",
    type=click.Choice(["inline", "rej"]),
    default="inline",
    show_default=True,
    help="How to leave conflicts.",
)
@click.option("-d", "--data", "pairs", multiple=True, metavar="KEY=VALUE", help="Change an answer.")
@handle_errors
def update(
    path: Path, to: str | None, pretend: bool, conflict: str, pairs: tuple[str, ...]
) -> None:
    """Update the project at PATH to a newer template version, keeping your edits."""
    from mlscaffold import answers
    from mlscaffold.errors import ConflictsError
    from mlscaffold.update import update as run_update

    result = run_update(
        path,
        to=to,
        pretend=pretend,
        conflict=conflict,  # type: ignore[arg-type]
        data=answers.parse_pairs(pairs),
        progress=_say,
    )
    if result.from_version == result.to_version and not result.changed:
        click.echo(f"already on template {result.to_version}: nothing to do")
        return
    verb = "pretend (nothing written): would update" if result.pretend else "updated"
    click.echo(
        f"{verb} {result.from_version} → {result.to_version}: {len(result.changed)} file(s) changed"
    )
    for name in result.changed:
        click.echo(f"  {name}")
    if result.kept_removed:
        listing = "\n".join(f"  {name}" for name in result.kept_removed)
        click.echo(
            f"the new template removes {len(result.kept_removed)} file(s) you had edited; "
            f"kept them:\n{listing}",
            err=True,
        )
    if result.conflicts or result.kept_removed:
        listing = "\n".join(f"  {name}" for name in result.conflicts)
        if result.conflicts:
            click.echo(f"conflicts in {len(result.conflicts)} file(s):\n{listing}", err=True)
        count = len(result.conflicts) + len(result.kept_removed)
        raise ConflictsError(
            f"{count} conflict(s) {'would remain' if result.pretend else 'remain'}",
            "edit the files listed (search for <<<<<<< or read the .rej files), then commit",
        )
    if not result.pretend:
        click.echo("review with 'git diff', then commit")


@main.command(
    epilog="""\b
Examples:
  eval "$(mlscaffold completion bash)"
  mlscaffold completion fish > ~/.config/fish/completions/mlscaffold.fish
"""
)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None  # Click ships all three
    comp = cls(main, {}, "mlscaffold", "_MLSCAFFOLD_COMPLETE")
    click.echo(comp.source())
