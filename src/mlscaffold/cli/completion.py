"""`mlscaffold completion`."""

from __future__ import annotations

import click


@click.command(
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

    from mlscaffold.cli import main

    cls = get_completion_class(shell)
    assert cls is not None  # Click ships all three
    comp = cls(main, {}, "mlscaffold", "_MLSCAFFOLD_COMPLETE")
    click.echo(comp.source())
