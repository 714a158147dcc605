"""`mlscaffold update`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from mlscaffold.cli.output import fail, handle_errors, say
from mlscaffold.errors import EXIT_INTERRUPTED
from mlscaffold.interrupts import Terminated

if TYPE_CHECKING:
    from mlscaffold.update import UpdateResult


@click.command(
    epilog="""\b
Examples:
  mlscaffold update                     # newest version, in a project folder
  mlscaffold update path/to/project --to 0.2.0
  mlscaffold update --pretend           # rehearse: list changes and conflicts, write nothing
  mlscaffold update --conflict rej      # leave *.rej files instead of inline markers
  mlscaffold update --abort             # undo an update that was killed half-way
  mlscaffold update --quit              # forget a killed one you have sorted out by hand
\b
The repository must be clean (unless there is nothing to do; --pretend rehearses the last
commit). Your edits are kept; where they overlap a template change, the file gets conflict
markers (or a .rej file; a binary file keeps yours, the template's beside it as .rej) and
update exits 1 listing them, as it does for template changes to files you renamed. A
failed, interrupted (Ctrl-C, SIGTERM, SIGHUP) or killed update never loses your work: the
first three put the project back at once; after a kill, 'update --abort' does, unless you
have changed the project since (then it refuses and says how to look). One update at a
time: a second one exits 2 naming the first one's pid.
"""
)
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option(
    "--to",
    "to",
    metavar="VERSION",
    help="Template version to update to (default: the newest up to this mlscaffold's own).",
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
@click.option(
    "--abort", is_flag=True, help="Undo an update that was killed half-way (exact restore)."
)
@click.option(
    "--quit",
    "quit_",
    is_flag=True,
    help="Forget a killed update, keeping the files as they are (after fixing by hand).",
)
@handle_errors
def update(
    path: Path,
    to: str | None,
    pretend: bool,
    conflict: str,
    pairs: tuple[str, ...],
    abort: bool,
    quit_: bool,
) -> None:
    """Update the project at PATH to a newer template version, keeping your edits."""
    from mlscaffold import answers
    from mlscaffold.errors import UsageError
    from mlscaffold.update import abort as run_abort
    from mlscaffold.update import quit_update
    from mlscaffold.update import update as run_update

    if abort and quit_:
        raise UsageError("--abort and --quit exclude each other", "pick one")
    if abort:
        restored = run_abort(path)
        if restored is None:
            click.echo("no interrupted update to undo: nothing changed")
        else:
            click.echo(f"restored the project exactly as it was before the update ({restored[:8]})")
        return
    if quit_:
        start = quit_update(path)
        if start is None:
            click.echo("no interrupted update to forget: nothing changed")
        else:
            click.echo(
                f"forgot the interrupted update (it started at {start[:8]}); "
                "the files are as you left them"
            )
        return

    applied: list[str] = []  # the version, once the update is in the project
    try:
        result = run_update(
            path,
            to=to,
            pretend=pretend,
            conflict=conflict,  # type: ignore[arg-type]
            data=answers.parse_pairs(pairs),
            progress=say,
            on_applied=applied.append,
        )
        _report(result)
    except (KeyboardInterrupt, Terminated) as exc:
        if applied:
            _stopped_after_applying(exc, applied[0])
        raise


def _stopped_after_applying(exc: KeyboardInterrupt | Terminated, version: str) -> None:
    """A signal that came once the update was in (it waits for that point, or came while
    the result was listed) must not say "nothing was changed": say what is true."""
    stopped = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"stopped by {exc}"
    code = exc.exit_code if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    fail(
        f"{stopped}, but the update to template {version} was applied (not committed)",
        "review it with 'git status' (conflicts show as unmerged) and 'git diff', then commit",
        code,
    )


def _report(result: UpdateResult) -> None:
    """What the update did and what needs a person, and exit 1 where something does."""
    from mlscaffold.errors import ConflictsError

    if result.nothing_to_do:
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
    if result.moved:
        listing = "\n".join(f"  {old} → {new}" for old, new in result.moved)
        click.echo(
            f"the template moved {len(result.moved)} file(s) you had edited; "
            f"your edits moved with them:\n{listing}"
        )
    if result.dropped:
        listing = "\n".join(f"  {name}" for name in result.dropped)
        click.echo(
            f"the template moved {len(result.dropped)} file(s) you had deleted; "
            f"left out at the new path too:\n{listing}"
        )
    if result.renamed:
        listing = "\n".join(
            f"  {old} → {new}"
            + (f" (its change: {new}.rej)" if f"{new}.rej" in result.changed else "")
            for old, new in result.renamed
        )
        click.echo(
            f"the template changed {len(result.renamed)} file(s) you renamed; "
            f"its changes were not applied:\n{listing}",
            err=True,
        )
    if result.conflicts:
        listing = "\n".join(f"  {name}" for name in result.conflicts)
        click.echo(f"conflicts in {len(result.conflicts)} file(s):\n{listing}", err=True)
    if result.binary_conflicts:
        listing = "\n".join(
            f"  {name} (template's: {name}.rej)" for name in result.binary_conflicts
        )
        click.echo(
            f"{len(result.binary_conflicts)} of them binary: yours is kept, "
            f"the template's is saved beside it:\n{listing}",
            err=True,
        )
    if result.uncommitted:
        click.echo(
            f"note: {len(result.uncommitted)} uncommitted change(s) were not included "
            f"(the rehearsal used the last commit): {', '.join(result.uncommitted[:5])}"
            + (" ..." if len(result.uncommitted) > 5 else ""),
            err=True,
        )
    if result.lock == "refreshed":
        click.echo("uv.lock refreshed for the new pyproject.toml (locked versions kept)")
    elif result.lock == "stale":
        click.echo("uv.lock would be refreshed for the new pyproject.toml (uv lock)")
    elif result.lock == "unchecked":
        click.echo("note: pyproject.toml changed; uv.lock not checked: run make lock", err=True)
    elif result.stale_lock:
        click.echo(
            f"uv.lock no longer matches pyproject.toml and was left as it was ({result.lock}): "
            "CI's uv sync --locked would fail",
            err=True,
        )
    if result.stale_lock and result.attention_count == 1:
        raise ConflictsError(
            "uv.lock does not match the updated pyproject.toml",
            "run make lock once the package index is reachable, then commit uv.lock",
        )
    if result.needs_attention:
        raise ConflictsError(
            f"{result.attention_count} conflict(s) "
            f"{'would remain' if result.pretend else 'remain'}",
            "edit the files listed (search for <<<<<<< or read the .rej files), then commit"
            + ("; then run make lock and commit uv.lock" if result.stale_lock else ""),
        )
    if not result.pretend:
        click.echo("review with 'git diff', then commit")
