"""A record, under `.git/`, that an update is touching the working tree.

SIGKILL and power loss cannot be caught, so before `update` changes anything it records the
starting commit (a ref, `refs/mlscaffold/update-start`, plus a marker file). A finished or
cleanly undone update removes both. If they are still there, the update died half-way:
every command on the project says so and how to undo it (`mlscaffold update --abort`),
instead of hinting "commit first", which would make the damage permanent.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from mlscaffold import git
from mlscaffold.errors import UsageError

REF = "refs/mlscaffold/update-start"
MARKER = "mlscaffold-update.json"


class InterruptedUpdateError(UsageError):
    """An earlier update died half-way; the project must be restored first."""


def _marker(root: Path) -> Path:
    return Path(git.output("rev-parse", "--absolute-git-dir", cwd=root)) / MARKER


def begin(root: Path) -> None:
    head = git.output("rev-parse", "HEAD", cwd=root)
    git.run("update-ref", REF, head, cwd=root)
    marker = _marker(root)
    tmp = marker.with_suffix(".tmp")
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    tmp.write_text(json.dumps({"head": head, "started": stamp, "pid": os.getpid()}) + "\n")
    os.replace(tmp, marker)


def end(root: Path) -> None:
    _marker(root).unlink(missing_ok=True)
    git.run("update-ref", "-d", REF, cwd=root, check=False)


def pending(root: Path) -> dict[str, Any] | None:
    if not git.is_repository_root(root):
        return None
    marker = _marker(root)
    if not marker.is_file():
        return None
    try:
        return dict(json.loads(marker.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {"head": git.output("rev-parse", REF, cwd=root), "started": "?"}


def refuse_if_pending(root: Path) -> None:
    info = pending(root)
    if info is not None:
        raise InterruptedUpdateError(
            f"an update of {root.name} was interrupted (started {info.get('started', '?')}) "
            "and left the project half-updated",
            "put it back exactly as it was with: mlscaffold update --abort",
        )


def abort(root: Path) -> str | None:
    """Restore the tree to the commit recorded before the update; the commit, or None."""
    info = pending(root)
    if info is None:
        return None
    head = str(info["head"])
    git.run("reset", "--hard", "--quiet", head, cwd=root)
    git.run("clean", "-d", "--force", "--quiet", cwd=root)
    end(root)
    return head
