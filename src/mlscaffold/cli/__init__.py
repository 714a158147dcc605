"""The `mlscaffold` command: parse arguments, call the modules below, print, exit.

Subcommands are loaded lazily (see `lazy.py`): `--help`, `--version` and `list` never import
Copier or GitPython (Copier alone costs ~0.4 s to import). A new command or command group
(`cohort`) is one line in COMMANDS.
"""

from __future__ import annotations

import os

import click

from mlscaffold import __version__
from mlscaffold.cli.lazy import LazyCommand, LazyGroup

EPILOG_MAIN = """\b
Examples:
  mlscaffold list
  mlscaffold new sentiment-classifier movie-reviews
  mlscaffold new kaggle-entry titanic --defaults
  mlscaffold new sentiment-classifier hw1 --defaults -d author_name="Ada" --answers-file cohort.yml
  mlscaffold check path/to/project          # exit 0 up to date, 1 behind
  mlscaffold update path/to/project         # exit 1 if conflicts remain
  mlscaffold publish path/to/project        # GitHub repository via gh, pushed

\b
Exit status: 0 ok; 1 behind / conflicts / failure; 2 bad usage or input; 130 interrupted;
143/129 stopped by SIGTERM/SIGHUP (cleaned up as for Ctrl-C).
Shell completion: eval "$(mlscaffold completion bash)"   (or zsh, fish)
"""

COMMANDS = {
    "list": LazyCommand("mlscaffold.cli.listing", "list_kinds", "Show the kinds of project."),
    "new": LazyCommand("mlscaffold.cli.new", "new", "Generate a new project of KIND in DEST."),
    "check": LazyCommand(
        "mlscaffold.cli.check", "check", "Is a project on the newest template version?"
    ),
    "update": LazyCommand(
        "mlscaffold.cli.update", "update", "Update a project to a newer template, keeping edits."
    ),
    "publish": LazyCommand(
        "mlscaffold.cli.publish", "publish", "Create the GitHub repository and push the project."
    ),
    "cohort": LazyCommand(
        "mlscaffold.cli.cohort", "cohort", "One assignment for a class: generate, grade, update."
    ),
    "completion": LazyCommand(
        "mlscaffold.cli.completion", "completion", "Print the shell completion script."
    ),
}


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    epilog=EPILOG_MAIN,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "-V", "--version", prog_name="mlscaffold")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Generate ML portfolio projects that really train, evaluate and ship.

    Each project comes from a versioned Copier template, so it can be updated to newer
    template versions later, keeping your own edits.
    """
    if os.environ.get("NO_COLOR"):
        ctx.color = False
