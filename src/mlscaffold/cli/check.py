"""`mlscaffold check`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mlscaffold.cli.output import handle_errors, say


@click.command(
    epilog="""\b
Examples:
  mlscaffold check                      # in a project folder
  mlscaffold check path/to/project --json
\b
Exit status: 0 up to date (or ahead: made by a newer mlscaffold), 1 behind,
2 not a project or bad usage.
"""
)
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def check(path: Path, as_json: bool) -> None:
    """Tell whether the project at PATH is on the newest template version."""
    from mlscaffold.check import State
    from mlscaffold.check import check as run_check
    from mlscaffold.errors import MlscaffoldError

    try:
        result = run_check(path, progress=say)
    except MlscaffoldError as exc:
        if as_json:  # scripts reading stdout get an object too; people get stderr's lines
            error = {"message": exc.message, "hint": exc.hint, "exit_code": exc.exit_code}
            click.echo(json.dumps({"error": error}, indent=2))
        raise
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif result.state is State.AHEAD:
        click.echo(
            f"ahead: {result.kind} project on template {result.current}, newer than this "
            f"mlscaffold knows ({result.latest}); upgrade mlscaffold to update it"
        )
    elif result.state is State.UP_TO_DATE:
        click.echo(f"up to date: {result.kind} project on template {result.current}")
    else:
        click.echo(
            f"behind: {result.kind} project on template {result.current}, newest is {result.latest}"
            " (run 'mlscaffold update')"
        )
    sys.exit(0 if result.up_to_date else 1)
