"""`mlscaffold new`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from mlscaffold import catalog
from mlscaffold.cli.output import handle_errors, say


def _complete_kinds(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    return [k.name for k in catalog.available() if k.name.startswith(incomplete)]


@click.command(
    epilog="""\b
Examples:
  mlscaffold new sentiment-classifier movie-reviews
  mlscaffold new sentiment-classifier hw1 --defaults -d sentiment_dataset=sst2
  mlscaffold new sentiment-classifier hw1 --answers-file cohort-2026.yml --vcs-ref 0.2.0
  mlscaffold new recommender movies --defaults -d recommender_dataset=ml-1m
  mlscaffold new image-classifier fashion --defaults
  mlscaffold new image-classifier pets --defaults -d image_dataset=folder -d image_folder=~/pets
  mlscaffold new kaggle-entry diabetes --defaults -d competition=my-diabetes \\
      -d target_column=progression -d id_column=patient -d task=regression -d metric=rmse
\b
Answers: -d and --answers-file take the questions' names (project_name, package_name,
description, author_name, author_email, github_user, license, python_version and each
kind's own: see 'mlscaffold list --json'). Without a terminal, questions take their defaults.
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
    "--no-lock",
    is_flag=True,
    envvar="MLSCAFFOLD_NO_LOCK",
    help="Do not run uv lock (offline, scripts); make lock writes uv.lock later.",
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
    no_lock: bool,
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
            lock=not no_lock,
        ),
        progress=say,
    )
    done = f"generated {result.files} files from template {result.version}"
    if result.locked:
        done += ", dependencies locked (uv.lock)"
    if result.committed:
        done += ", git repository initialised, first commit made"
    click.secho(f"✓ {done}", fg="green")
    for note in result.notes:
        click.secho(f"note: {note}", fg="yellow", err=True)
    where = shlex.quote(click.format_filename(str(dest)))
    # the bundled sample first (offline, seconds); the real dataset (a download) after
    click.echo(
        f"Next: cd {where} && make install && make all SAMPLE=1   (the bundled sample, offline)"
    )
    click.echo("Then: make all   (the real dataset: downloaded once, checksummed)")
