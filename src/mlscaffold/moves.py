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

What the user did to a moved file themselves follows it too, as it would for a file that
stayed: a file they moved to the new path already gets the template's change merged with
the right base (Copier took an empty one: every change a conflict); one they deleted stays
deleted (Copier wrote it afresh at the new path); one they renamed is update's
`_report_renamed`, told the new path by `new_name`.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version

from mlscaffold import engine, git, patching, source

MOVES_FILE = "_moves.yml"
PACKAGE = "{{ package_name }}"


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
            merged, clean = patching.merge(base, ours, theirs)
            target.write_bytes(merged)
            if not clean:
                _record_stages(root, old, new, base, ours, theirs)
                # git status hides a deleted file whose content is an unmerged entry's
                # stage 2 (git 2.39): stage the deletion, or the update would not see it
                # and the old file would stay in the project
                git.run("rm", "--cached", "--quiet", "--", old, cwd=root)
        else:
            patching.apply_rejecting(root, new, base, ours)
        (root / old).unlink()
        # Copier re-applied the user's edit to the old file it was about to delete: with
        # --conflict rej that left a spurious OLD.rej
        (root / f"{old}.rej").unlink(missing_ok=True)
        carried.append((old, new))
    return carried


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


def new_name(moves: dict[str, str], old: str) -> str:
    """Where the target version has the file the project's version generated at `old`."""
    return moves.get(old, old)


def made_by_user(moves: dict[str, str], in_head: set[str]) -> dict[str, str]:
    """Moves the user made before the template did: the old path gone, the new committed."""
    return {old: new for old, new in moves.items() if old not in in_head and new in in_head}


def deleted_by_user(
    root: Path, moves: dict[str, str], in_head: set[str], renamed: dict[str, str]
) -> dict[str, str]:
    """Moves of files the project once committed and no longer has, not renamed: deleted
    (`drop_deleted` checks that its version generated them)."""
    return {
        old: new
        for old, new in moves.items()
        if old not in in_head
        and new not in in_head
        and old not in renamed
        and git.output(
            "--literal-pathspecs", "log", "-1", "--format=%H", "HEAD", "--", old, cwd=root
        )
    }


def merge_made(
    root: Path,
    made: dict[str, str],
    old: dict[str, bytes],
    new: dict[str, bytes],
    conflict: engine.Conflict,
) -> None:
    """The template's change merged into files the user had already moved, three ways with
    base = the old file as the project's version generated it: only overlapping changes
    conflict (inline with the three versions in the index, or NEW.rej)."""
    for before, after in sorted(made.items()):
        base, theirs = old.get(before), new.get(after)
        if base is None or theirs is None:
            continue  # not generated at the project's version, or gone from the target
        ours = git.head_content(root, after)
        target = root / after
        (root / f"{after}.rej").unlink(missing_ok=True)  # Copier's, against an empty base
        git.run("reset", "--quiet", "--", after, cwd=root)  # and its stages
        if conflict == "rej":
            target.write_bytes(theirs)
            patching.apply_rejecting(root, after, base, ours)
            continue
        merged, clean = patching.merge(base, ours, theirs)
        target.write_bytes(merged)
        if not clean:
            _record_stages(root, after, after, base, ours, theirs)


def drop_deleted(root: Path, deleted: dict[str, str], old: dict[str, bytes]) -> list[str]:
    """A moved file the user had deleted stays deleted at its new path, as a file the
    template changed in place does; the new paths left out."""
    dropped = []
    for before, after in sorted(deleted.items()):
        target = root / after
        if before not in old or not target.is_file():
            continue  # never generated for this project, or not in the target version
        target.unlink()
        (root / f"{after}.rej").unlink(missing_ok=True)
        dropped.append(after)
    return dropped
