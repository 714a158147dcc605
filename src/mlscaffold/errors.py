"""User-facing errors: each carries the message, a fix, and the exit status the CLI returns.

Exit statuses (documented in the README):
  0  success; `check`: the project is up to date
  1  the command ran but the result needs attention: `check` finds the project behind,
     `update` left conflicts, generation or git failed
  2  the command cannot run as asked: bad option or answer, unknown kind or version,
     not a generated project, destination not empty or not creatable, repository not clean
  130 interrupted (Ctrl-C); nothing half-made is left behind
  143 / 129 stopped by SIGTERM / SIGHUP; cleaned up as for Ctrl-C
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class MlscaffoldError(Exception):
    """An error the user can act on; the CLI prints it in one or two lines, no traceback."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(MlscaffoldError):
    """The command cannot run as asked (bad input, wrong place)."""

    exit_code = EXIT_USAGE


class UnknownKindError(UsageError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        known = list(known)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.4)
        hint = f"did you mean '{close[0]}'?" if close else "run 'mlscaffold list' to see them"
        super().__init__(f"unknown kind '{name}' (known: {', '.join(known)})", hint)


class InvalidAnswerError(UsageError):
    """A questionnaire answer failed its validator or type."""


class UnknownVersionError(UsageError):
    def __init__(self, version: str, known: Iterable[str]) -> None:
        known = list(known)
        super().__init__(
            f"unknown template version '{version}'",
            f"available: {', '.join(known) or 'none'}",
        )


class NotAProjectError(UsageError):
    """The folder has no Copier answers file, so there is nothing to check or update."""


class DirtyRepositoryError(UsageError):
    """Copier's update needs a clean tree to merge safely; we say which files block it."""


class DestinationNotEmptyError(UsageError):
    """`new` never writes into a non-empty folder unless asked with --force."""


class DestinationUnwritableError(UsageError):
    """DEST's folder cannot be made or written in (a read-only or system folder)."""


class GitMissingError(MlscaffoldError):
    def __init__(self) -> None:
        super().__init__(
            "git was not found on PATH",
            "install git (https://git-scm.com/downloads): mlscaffold reads its templates "
            "from a git bundle, so it needs git even with --no-git",
        )


class GitError(MlscaffoldError):
    """A git command failed; its own message is shown."""


class ConflictsError(MlscaffoldError):
    """`update` finished but left conflicts: exit 1 so scripts and CI notice."""


class UpdateLockedError(UsageError):
    """Another `update` holds the project's lock: two would undo each other's work."""

    def __init__(self, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "pid unknown"
        super().__init__(
            f"another mlscaffold update ({who}) is working on this project",
            "wait for it to finish, then run the command again",
        )


class AbortRefusedError(UsageError):
    """`update --abort` would reset work the user did after an update was killed."""
