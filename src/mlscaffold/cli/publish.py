"""`mlscaffold publish`."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mlscaffold.cli.output import handle_errors, say

if TYPE_CHECKING:
    from mlscaffold.publish import PublishResult


@click.command(
    epilog="""\b
Examples:
  mlscaffold publish                        # in a project folder: public GitHub repository
  mlscaffold publish path/to/project --private
  mlscaffold publish --name my-org/movie-reviews
  mlscaffold publish --dry-run              # print the commands, run nothing
  mlscaffold publish --remote git@gitlab.com:you/movie-reviews.git   # no gh needed
\b
With GitHub, this runs 'gh repo create NAME --source PATH --push' and then
'gh repo edit OWNER/NAME --add-topic ...' (kind, dataset, machine-learning...): install the
GitHub CLI (https://cli.github.com) and run 'gh auth login' once. NAME is --name, else
github_user/repository_name from the answers, else the folder's name; the description comes
from the answers. With --remote, the repository must exist and be empty; plain git pushes to
it and sets 'origin'.
\b
The project must be a committed git repository with no uncommitted files and no 'origin'
(--dry-run shows the commands all the same, and what a real run would refuse).
Exit status: 0 published or shown; 1 gh or git failed; 2 refused (nothing created or pushed).
"""
)
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option(
    "--name",
    metavar="[OWNER/]NAME",
    help="Repository to create (default: the answers' github_user/repository_name, "
    "else the folder's name).",
)
@click.option(
    "--public/--private",
    "public",
    default=None,
    help="Visibility on GitHub.  [default: public]",
)
@click.option(
    "--remote",
    metavar="URL",
    help="Push to this existing empty repository with plain git instead of creating one.",
)
@click.option("--dry-run", is_flag=True, help="Print the commands; create and push nothing.")
@handle_errors
def publish(
    path: Path, name: str | None, public: bool | None, remote: str | None, dry_run: bool
) -> None:
    """Create the GitHub repository for the project at PATH and push it."""
    from mlscaffold.errors import UsageError
    from mlscaffold.publish import PublishRequest, redact
    from mlscaffold.publish import publish as run_publish

    if remote is not None and public is not None:
        raise UsageError(
            "--public/--private are for GitHub through gh; with --remote the repository "
            "already exists",
            "set its visibility where you created it",
        )
    result = run_publish(
        PublishRequest(
            path=path,
            name=name,
            public=True if public is None else public,
            remote=remote,
            dry_run=dry_run,
        ),
        progress=say,
    )
    if result.dry_run:
        _show_dry_run(result)
        return
    if result.url:
        click.echo(f"published: {result.url}")
    else:
        click.echo(f"published: pushed {result.branch} to {redact(result.remote or '')}")
    if result.actions_url:
        click.echo(f"actions:   {result.actions_url}   (CI runs on this first push)")


def _show_dry_run(result: PublishResult) -> None:
    """The commands on stdout (credentials blanked), then what a real run would refuse:
    a dry run answers "what would happen" even for a tree that `make all` left dirty."""
    from mlscaffold.publish import redact

    click.echo("dry run: these commands would run (nothing was created or pushed):", err=True)
    for command in result.commands:
        click.echo(shlex.join(redact(arg) for arg in command))
    for refusal in result.refusals:
        click.echo(f"dry run: a real run would refuse: {refusal.message}", err=True)
        if refusal.hint:
            click.echo(f"hint: {refusal.hint}", err=True)
