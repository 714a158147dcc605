"""`mlscaffold list`."""

from __future__ import annotations

import json

import click

from mlscaffold import __version__, catalog
from mlscaffold.cli.output import handle_errors


@click.command("list", epilog="\b\nExamples:\n  mlscaffold list\n  mlscaffold list --json")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def list_kinds(as_json: bool) -> None:
    """Show the kinds of project and the template version."""
    kinds = catalog.available()
    if as_json:
        payload = {
            "template_version": __version__,
            "kinds": [
                {"name": k.name, "title": k.title, "summary": k.summary, "answers": list(k.answers)}
                for k in kinds
            ],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"template version {__version__}")
    width = max(len(k.name) for k in kinds)
    for kind in kinds:
        click.echo(f"  {kind.name:<{width}}  {kind.summary}")
