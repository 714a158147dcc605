"""One `update` at a time per project: an exclusive `flock` on `.git/mlscaffold-update.lock`.

Two updates (or an update and an `--abort`) at once would undo each other's work: the second
would take the first's journal for the record of a killed update. The kernel releases a
`flock` when its holder dies, even by SIGKILL, so a lock can never go stale; the file only
records the holder's pid for the message, and a dead holder's pid in it blocks nothing.

Readers (`check`, `update --pretend`) do not take the lock; they ask `holder()` whether a
live update owns the journal they see. Such a probe holds a shared lock for a moment, so a
starting update retries for a little while before it reports the project busy.

Without `fcntl` (Windows) there is no lock: one update at a time is then up to the user.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from mlscaffold import git
from mlscaffold.errors import UpdateLockedError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "mlscaffold-update.lock"
_held: dict[Path, int] = {}  # lock files this process holds, and their descriptors


def lock_path(root: Path) -> Path:
    return git.git_dir(root) / LOCK_FILE


def _recorded_pid(path: Path) -> int | None:
    for _ in range(10):  # the holder writes its pid just after taking the lock
        try:
            text = path.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            return None
        if text.isdigit():
            return int(text)
        time.sleep(0.02)
    return None


@contextlib.contextmanager
def exclusive(root: Path, patience_s: float = 1.0) -> Iterator[None]:
    """Hold the project's update lock for the block; UpdateLockedError if another has it."""
    path = lock_path(root)
    if fcntl is None or path in _held:  # no locks here, or this process holds it already
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + patience_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UpdateLockedError(_recorded_pid(path)) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[path] = fd
        try:
            yield
        finally:
            del _held[path]
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def holder(root: Path) -> int | None:
    """The pid of another live process holding the lock (0 if its pid is unreadable), or None
    when the lock is free or this process holds it."""
    path = lock_path(root)
    if fcntl is None or path in _held or not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _recorded_pid(path) or 0
    finally:
        os.close(fd)
    return None
