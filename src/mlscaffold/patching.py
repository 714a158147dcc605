"""Text merges outside Copier: a unified diff saved as a `.rej`, a three-way merge, and a
patch applied with rejects.

`update` (renamed files) and `moves` (moved files) both leave conflicts the way Copier
leaves its own, so the helpers live here, once, below both of them.
"""

from __future__ import annotations

import difflib
import subprocess
import tempfile
from pathlib import Path

from mlscaffold import git
from mlscaffold.errors import GitError

LABELS = ("before updating", "last update", "after updating")  # Copier's conflict labels


def unified_diff(before: bytes, after: bytes, name: str) -> str | None:
    """The change as a unified diff against `name`, `git apply`-able (None for binary)."""
    try:
        a, b = before.decode("utf-8"), after.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\0" in a or "\0" in b:
        return None
    lines = difflib.unified_diff(
        a.splitlines(keepends=True), b.splitlines(keepends=True), f"a/{name}", f"b/{name}"
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def merge(base: bytes, ours: bytes, theirs: bytes) -> tuple[bytes, bool]:
    """`git merge-file` of the three versions: the result (with Copier's conflict labels),
    and whether it merged cleanly."""
    with tempfile.TemporaryDirectory(prefix="mlscaffold-merge-") as tmp:
        files = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(data)
            files.append(str(path))
        labels = [arg for label in LABELS for arg in ("-L", label)]
        git.require_git()
        done = subprocess.run(
            ["git", "merge-file", "-p", *labels, *files], capture_output=True, check=False
        )
    if done.returncode < 0 or done.returncode > 127:
        raise GitError(done.stderr.decode("utf-8", "replace").strip() or "git merge-file")
    return done.stdout, done.returncode == 0


def apply_rejecting(root: Path, name: str, base: bytes, ours: bytes) -> None:
    """`--conflict rej`: the change base -> ours applied to `root/name`, the hunks that do
    not apply left in NAME.rej (Copier's own way for every other file)."""
    patch = unified_diff(base, ours, name)
    if not patch:
        return
    git.require_git()
    subprocess.run(
        ["git", "apply", "--reject", "--whitespace=nowarn", "-"],
        cwd=root,
        input=patch.encode("utf-8"),
        capture_output=True,
        check=False,  # exit 1 when a hunk is rejected: NAME.rej says which
    )
