"""The hidden folders `new` renders into, beside the destination, and their clean-up.

Each staging folder is named `.<dest>.mlscaffold-XXXX` and holds an owner file with the
process id that made it. Copier's own temporary folders are placed inside it too, so one
removal clears everything. A process killed with SIGKILL cannot clean up; the next `new`
in the same parent folder removes staging folders whose owner is gone or that are older
than a day — only folders that carry our owner file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

OWNER_FILE = ".mlscaffold-staging"
STALE_AFTER_SECONDS = 24 * 3600


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(folder: Path) -> bool:
    owner = folder / OWNER_FILE
    if not owner.is_file():
        return False  # not ours: never touched
    try:
        pid = int(owner.read_text().strip())
    except (OSError, ValueError):
        return False
    age = time.time() - owner.stat().st_mtime
    return age > STALE_AFTER_SECONDS or (pid != os.getpid() and not _alive(pid))


def remove_stale(parent: Path) -> list[Path]:
    """Staging folders in `parent` left by killed runs of `new`; removed, and returned."""
    removed = []
    if not parent.is_dir():
        return removed
    for folder in parent.glob(".*.mlscaffold-*"):
        if folder.is_dir() and _is_stale(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextlib.contextmanager
def staging_folder(dest: Path) -> Iterator[Path]:
    """A fresh staging folder beside `dest`, Copier's temporary files inside it; removed
    afterwards whatever happens (Ctrl-C and SIGTERM included)."""
    folder = Path(tempfile.mkdtemp(prefix=f".{dest.name}.mlscaffold-", dir=dest.parent))
    (folder / OWNER_FILE).write_text(f"{os.getpid()}\n")
    scratch = folder / "tmp"
    scratch.mkdir()
    previous = tempfile.tempdir
    tempfile.tempdir = str(scratch)
    try:
        yield folder
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(folder, ignore_errors=True)
