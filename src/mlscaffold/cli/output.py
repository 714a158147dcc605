"""How every command talks to the user: progress on stderr, one- or two-line errors, exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click

from mlscaffold.errors import EXIT_FAILURE, EXIT_INTERRUPTED, MlscaffoldError
from mlscaffold.interrupts import Terminated, terminate_as_interrupt

F = TypeVar("F", bound=Callable[..., Any])


def say(message: str) -> None:
    """Progress lines go to stderr so stdout stays clean for --json and scripts."""
    click.secho(f"→ {message}", err=True, fg="cyan")


def fail(message: str, hint: str | None, code: int) -> NoReturn:
    click.secho(f"error: {message}", err=True, fg="red")
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Every user-facing failure becomes one or two lines and a documented exit status."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with terminate_as_interrupt():
                return func(*args, **kwargs)
        except MlscaffoldError as exc:
            fail(exc.message, exc.hint, exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted; nothing was changed or left half-made", None, EXIT_INTERRUPTED)
        except Terminated as exc:
            fail(f"stopped by {exc}; nothing was changed or left half-made", None, exc.exit_code)
        except OSError as exc:  # permissions, full disk: the user's to fix, not a bug
            where = f" ({exc.filename})" if exc.filename else ""
            fail(
                f"{exc.strerror or exc}{where}", "check the path and its permissions", EXIT_FAILURE
            )
        except Exception as exc:  # a bug: still no traceback unless asked for
            if os.environ.get("MLSCAFFOLD_DEBUG"):
                traceback.print_exc()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            fail(
                f"unexpected {type(exc).__name__}: {first}",
                "re-run with MLSCAFFOLD_DEBUG=1 for the traceback and report it",
                EXIT_FAILURE,
            )

    return wrapper  # type: ignore[return-value]
