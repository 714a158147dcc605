"""Files a newer template moved: the user's edits follow them to the new path.

The template records each move in `templates/_moves.yml`, under the version that made it,
with `{{ package_name }}` standing for the project's package. A table in the template,
rather than guessing renames from content: the template's history says for certain what
moved, an edited file may no longer look like its old self, and the table travels in the
bundle with the version that needs it (read from the target version, so a newer
mlscaffold's table is never required).

Copier knows nothing of moves: it deletes the old file and writes the new one, and
update's `_keep_edited_removals` kept an edited old file where it was, stranded beside
the new one. `carry` merges the edit into the new path instead, three ways: base = the old
file as the project's template version generated it, ours = the user's committed old
file, theirs = the new file as the target version generates it. A clean merge replaces the
old file; overlapping changes are a conflict like any other (inline markers with the three
versions in the index, or NEW.rej with the hunks that did not apply).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version

from mlscaffold import engine, git, source
from mlscaffold.errors import GitError

MOVES_FILE = "_moves.yml"
PACKAGE = "{{ package_name }}"
LABELS = ("before updating", "last update", "after updating")  # Copier's conflict labels


def table(
    src: str, current: source.TemplateVersion | None, target: source.TemplateVersion, package: str
) -> dict[str, str]:
    """Old path -> new path for the moves after `current` up to `target` (chains followed:
    a file moved twice maps to its last place)."""
    raw = source.template_file(src, target.tag, MOVES_FILE)
    if not raw:
        return {}
    recorded = yaml.safe_load(raw) or {}
    moves: dict[str, str] = {}
    for key in sorted(recorded, key=_version):
        version = _version(key)
        if (current is not None and version <= current.version) or version > target.version:
            continue
        for before, after in (recorded[key] or {}).items():
            old, new = _path(before, package), _path(after, package)
            earlier = [first for first, now in moves.items() if now == old]
            for first in earlier:  # moved again: follow it from where the project has it
                moves[first] = new
            if not earlier:
                moves.setdefault(old, new)
    return moves


def _version(key: object) -> Version:
    try:
        return Version(str(key))
    except InvalidVersion:
        raise ValueError(f"{MOVES_FILE}: {key!r} is not a version") from None


def _path(text: str, package: str) -> str:
    return str(text).replace(PACKAGE, package)


def carry(
    root: Path,
    moves: dict[str, str],
    kept: list[str],
    pristine: dict[str, bytes],
    conflict: engine.Conflict,
) -> list[tuple[str, str]]:
    """Merge the user's edits of moved files (`kept`: edited files the template removed,
    restored from HEAD) into their new paths; the (old, new) pairs carried."""
    in_head = git.tracked_files(root)
    carried = []
    for old, new in sorted(moves.items()):
        target = root / new
        if old not in kept or old not in pristine or new in in_head or not target.is_file():
            continue  # not edited, the user's own file at the new path, or gone from the template
        base, ours, theirs = pristine[old], git.head_content(root, old), target.read_bytes()
        if conflict == "inline":
            merged, clean = _merge(base, ours, theirs)
            target.write_bytes(merged)
            if not clean:
                _record_stages(root, old, new, base, ours, theirs)
                # git status hides a deleted file whose content is an unmerged entry's
                # stage 2 (git 2.39): stage the deletion, or the update would not see it
                # and the old file would stay in the project
                git.run("rm", "--cached", "--quiet", "--", old, cwd=root)
        else:
            _apply_rejecting(root, new, base, ours)
        (root / old).unlink()
        # Copier re-applied the user's edit to the old file it was about to delete: with
        # --conflict rej that left a spurious OLD.rej
        (root / f"{old}.rej").unlink(missing_ok=True)
        carried.append((old, new))
    return carried


def _merge(base: bytes, ours: bytes, theirs: bytes) -> tuple[bytes, bool]:
    """`git merge-file` of the three versions: the result, and whether it merged cleanly."""
    with tempfile.TemporaryDirectory(prefix="mlscaffold-move-") as tmp:
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


def _record_stages(root: Path, old: str, new: str, base: bytes, ours: bytes, theirs: bytes) -> None:
    """The three versions in the index under the new path, as Copier records its inline
    conflicts: `git ls-files -u` lists it, `git checkout --theirs` takes the template's."""
    mode = git.output("ls-tree", "HEAD", "--", old, cwd=root).split()[0]

    def blob(data: bytes) -> str:
        return git.run_bytes("hash-object", "-w", "--stdin", cwd=root, data=data).decode().strip()

    lines = [
        f"{mode} {blob(base)} 1\t{new}",
        f"{mode} {blob(ours)} 2\t{new}",
        f"{mode} {blob(theirs)} 3\t{new}",
    ]
    listing = b"".join(line.encode("utf-8", "surrogateescape") + b"\0" for line in lines)
    git.run_bytes("update-index", "-z", "--index-info", cwd=root, data=listing)


def _apply_rejecting(root: Path, new: str, base: bytes, ours: bytes) -> None:
    """`--conflict rej`: the user's change applied to the template's new file, the hunks
    that do not apply left in NEW.rej (Copier's own way for every other file)."""
    from mlscaffold.update import _patch  # the unified diff update's other .rej files use

    patch = _patch(base, ours, new)
    if not patch:
        return
    git.require_git()
    subprocess.run(
        ["git", "apply", "--reject", "--whitespace=nowarn", "-"],
        cwd=root,
        input=patch.encode("utf-8"),
        capture_output=True,
        check=False,  # exit 1 when a hunk is rejected: NEW.rej says which
    )
