"""A write-ahead record, under `.git/`, of an update touching the working tree.

SIGKILL and power loss cannot be caught, and a half-updated tree must never be mistaken for
the user's work, nor the user's work for a half-updated tree. So `update` works in three steps:

1. `begin`: record the starting commit (the ref `refs/mlscaffold/update-start` and the marker
   `.git/mlscaffold-update.json`, phase "preparing") and make a work folder,
   `.git/mlscaffold-update/`. Copier then runs on a clone of HEAD in there, never on the
   project. A kill now leaves the project untouched; the leftovers block nothing and the
   next update clears them.
2. `carry`: compare the result with the project and write the plan into the marker (phase
   "applying") before the first file moves: every path to change, with a digest of its
   content before and after. Each file then comes in with one rename on the same file system,
   so at any instant each planned path is either as before or as planned (an ignored file
   the update replaces is first moved into the work folder); conflicted index entries go in
   last, in one atomic index write.
3. `end`: the marker, the ref and the work folder go.

A marker in phase "applying" means the update died half-way: every command says so and points
to `mlscaffold update --abort`. `--abort` restores the start only if the project is exactly in
a state the interrupted update can have left: HEAD and branch as recorded, no path changed
outside the plan, each planned path as before or as planned. Anything else is work the user
did after the kill (a commit, an edit, a new file): `--abort` then refuses and changes
nothing, names what changed and how to look (`git diff <start>`); `--quit` drops the record
once the user has sorted it out. Ignored files outside the plan are never touched, so they
do not count.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlscaffold import git, locking
from mlscaffold.errors import AbortRefusedError, UpdateLockedError, UsageError

REF = "refs/mlscaffold/update-start"
MARKER = "mlscaffold-update.json"
WORKDIR = "mlscaffold-update"


class InterruptedUpdateError(UsageError):
    """An earlier update died half-way; the project must be restored first."""


def _marker(root: Path) -> Path:
    return git.git_dir(root) / MARKER


def workdir(root: Path) -> Path:
    return git.git_dir(root) / WORKDIR


def clone_path(root: Path) -> Path:
    """Where the update rehearses: same file system as the project, so files move by rename."""
    return workdir(root) / "clone" / root.name  # Copier derives defaults from the name


def _saved(root: Path) -> Path:
    return workdir(root) / "saved"


def _write(root: Path, info: dict[str, Any]) -> None:
    marker = _marker(root)
    tmp = marker.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps(info) + "\n")
        handle.flush()
        os.fsync(handle.fileno())  # the plan must be on disk before the first file moves
    os.replace(tmp, marker)


def _read(root: Path) -> dict[str, Any] | None:
    if not git.is_repository_root(root):
        return None
    marker = _marker(root)
    if not marker.is_file():
        return None
    try:
        return dict(json.loads(marker.read_text(encoding="utf-8")))
    except (OSError, ValueError):  # torn by a power loss: no plan, so treat it as an old one
        head = git.run("rev-parse", "--verify", "--quiet", REF, cwd=root, check=False)
        return {"head": head.stdout.strip(), "started": "?"}


def _digest(path: Path) -> str | None:
    """What is at `path`: None when nothing, else a digest of its bytes and x bit (or of a
    link's target)."""
    if path.is_symlink():
        return "link:" + hashlib.sha256(os.fsencode(os.readlink(path))).hexdigest()
    if path.is_file():
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        executable = path.stat().st_mode & 0o111  # git records the x bit: a change to carry
        return digest.hexdigest() + (":x" if executable else "")
    return "other" if path.exists() else None


def _nul_list(names: list[str]) -> bytes:
    return b"".join(name.encode("utf-8", "surrogateescape") + b"\0" for name in names)


def begin(root: Path) -> None:
    """Record the starting point; Copier may now run in `clone_path(root)`."""
    shutil.rmtree(workdir(root), ignore_errors=True)  # leftovers of one killed while preparing
    head = git.output("rev-parse", "HEAD", cwd=root)
    branch = git.run("symbolic-ref", "-q", "HEAD", cwd=root, check=False).stdout.strip()
    git.run("update-ref", REF, head, cwd=root)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    info = {"head": head, "branch": branch, "started": stamp, "pid": os.getpid()}
    _write(root, {**info, "phase": "preparing"})
    clone_path(root).parent.mkdir(parents=True, exist_ok=True)


def end(root: Path) -> None:
    _marker(root).unlink(missing_ok=True)
    git.run("update-ref", "-d", REF, cwd=root, check=False)
    shutil.rmtree(workdir(root), ignore_errors=True)


def pending(root: Path) -> dict[str, Any] | None:
    """The record of an update that died while changing the tree (a preparing one never did)."""
    info = _read(root)
    if info is None or info.get("phase") == "preparing":
        return None
    return info


def refuse_if_pending(root: Path) -> None:
    info = _read(root)
    if info is None:
        return
    who = locking.holder(root)
    if who is not None:
        raise UpdateLockedError(who)
    if info.get("phase") != "preparing":
        raise InterruptedUpdateError(
            f"an update of {root.name} was interrupted (started {info.get('started', '?')}) "
            "and left the project half-updated",
            "put it back exactly as it was with: mlscaffold update --abort",
        )


# ---- carrying a rehearsed update into the project ------------------------------------------


def _plan(root: Path, clone: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Every path the update changes (before/after digests) and the folders it must make."""
    tracked = git.tracked_files(root)
    paths: dict[str, dict[str, Any]] = {}
    dirs: list[str] = []
    for name in git.changed_paths(clone, ignored=True):
        before, after = _digest(root / name), _digest(clone / name)
        if before == after:
            continue
        if before == "other" or after == "other":
            raise UsageError(
                f"{name} is a folder in the project but a file in the updated template",
                "move it aside, then run update again",
            )
        saved = before is not None and name not in tracked  # an ignored file of the user's
        paths[name] = {"before": before, "after": after, "saved": saved}
        if after is None:
            continue
        parts = Path(name).parts[:-1]
        for depth in range(1, len(parts) + 1):
            folder = Path(*parts[:depth])
            if (root / folder).is_dir() or folder.as_posix() in dirs:
                continue
            if (root / folder).exists():
                raise UsageError(
                    f"{folder} is a file in the project but a folder in the updated template",
                    "move it aside, then run update again",
                )
            dirs.append(folder.as_posix())
    return paths, dirs


def carry(root: Path, clone: Path, checkpoint: Callable[[], None] = lambda: None) -> None:
    """Move the rehearsed result into the project, recording the plan first (see above).

    `checkpoint` runs between steps, where stopping leaves a state `rollback` undoes (the
    caller holds signals there); once this returns, the update is in."""
    info = _read(root)
    assert info is not None, "begin() first"
    paths, dirs = _plan(root, clone)
    checkpoint()
    _write(root, {**info, "phase": "applying", "paths": paths, "dirs": dirs})
    for folder in dirs:
        (root / folder).mkdir(exist_ok=True)
    for name in sorted(paths):
        checkpoint()
        _carry_one(root, clone, name, paths[name])
    checkpoint()
    _carry_index(root, clone)


def _carry_one(root: Path, clone: Path, name: str, step: dict[str, Any]) -> None:
    target = root / name
    if step["saved"]:  # an ignored file of the user's: kept aside so --abort can put it back
        keep = _saved(root) / name
        keep.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, keep)
    if step["after"] is not None:
        os.replace(clone / name, target)
        return
    target.unlink(missing_ok=True)
    folder = target.parent
    while folder != root and not (clone / folder.relative_to(root)).exists():
        try:
            folder.rmdir()  # as Copier does in place: a folder the template dropped goes
        except OSError:
            break
        folder = folder.parent


def _carry_index(root: Path, clone: Path) -> None:
    """Conflicted entries (stages 1-3) as Copier recorded them, so `git status` shows them."""
    entries = git.unmerged_entries(clone)
    if not entries:
        return
    for obj in sorted({obj for _mode, obj, _stage, _name in entries}):
        blob = git.run_bytes("cat-file", "blob", obj, cwd=clone)
        git.run_bytes("hash-object", "-w", "--no-filters", "--stdin", cwd=root, data=blob)
    zero = "0" * len(entries[0][1])
    lines = [f"0 {zero}\t{name}" for name in sorted({e[3] for e in entries})]
    lines += [f"{mode} {obj} {stage}\t{name}" for mode, obj, stage, name in entries]
    git.run_bytes("update-index", "-z", "--index-info", cwd=root, data=_nul_list(lines))


# ---- undoing ---------------------------------------------------------------------------------


def _restore(root: Path, info: dict[str, Any]) -> None:
    """Put every planned path back as it was at the start (HEAD is the start commit)."""
    start = str(info["head"])
    if "phase" not in info:  # recorded by mlscaffold < 0.4, which updated in place
        git.run("reset", "--hard", "--quiet", start, cwd=root)
        git.run("clean", "-d", "--force", "--quiet", cwd=root)
        return
    paths: dict[str, dict[str, Any]] = info.get("paths", {})
    names = sorted(paths)
    if not names:
        return
    literal = ("--literal-pathspecs",)
    from_stdin = ("--pathspec-from-file=-", "--pathspec-file-nul")
    git.run_bytes(*literal, "reset", "-q", start, *from_stdin, cwd=root, data=_nul_list(names))
    tracked = [n for n in names if paths[n]["before"] is not None and not paths[n]["saved"]]
    if tracked:
        git.run_bytes(
            *literal, "checkout", "-q", start, *from_stdin, cwd=root, data=_nul_list(tracked)
        )
    for name in names:
        step, target = paths[name], root / name
        keep = _saved(root) / name
        if step["saved"] and (keep.exists() or keep.is_symlink()):
            target.unlink(missing_ok=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(keep, target)
        elif step["before"] is None and (target.is_file() or target.is_symlink()):
            target.unlink()
    for folder in reversed(info.get("dirs", [])):
        with contextlib.suppress(OSError):  # not empty: something of the user's is in it
            (root / folder).rmdir()


def rollback(root: Path) -> None:
    """Undo this process's own update after a failure, Ctrl-C or SIGTERM (no checks needed:
    the lock kept everyone else out, and the tree was clean when it began)."""
    info = _read(root)
    if info is not None and info.get("phase") != "preparing":
        _restore(root, info)
    end(root)


def _shown(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")


def changes_since(root: Path, info: dict[str, Any]) -> list[str]:
    """What differs from every state the interrupted update can have left: the user's work."""
    start = str(info["head"])
    notes = []
    head = git.run("rev-parse", "--verify", "--quiet", "HEAD", cwd=root, check=False).stdout
    head = head.strip()
    if head != start:
        if start and git.succeeds("merge-base", "--is-ancestor", start, head, cwd=root):
            count = int(git.output("rev-list", "--count", f"{start}..{head}", cwd=root))
            notes.append(f"{count} new commit{'s' if count != 1 else ''}")
        else:
            notes.append(f"HEAD moved to {head[:8] or 'nothing'}")
    branch = git.run("symbolic-ref", "-q", "HEAD", cwd=root, check=False).stdout.strip()
    if branch != info.get("branch", branch):
        notes.append(f"now on {branch.removeprefix('refs/heads/') or 'a detached HEAD'}")
    if "phase" in info:
        paths: dict[str, dict[str, Any]] = info.get("paths", {})
        touched = [name for name in git.changed_paths(root) if name not in paths]
        for name, step in paths.items():
            allowed = {step["before"], step["after"]} | ({None} if step["saved"] else set())
            if _digest(root / name) not in allowed:
                touched.append(name)
        if touched:
            notes.append(f"files changed: {_shown(sorted(set(touched)))}")
    return notes


def abort(root: Path) -> str | None:
    """Restore the tree to the commit recorded before the update; the commit, or None when
    there is nothing to undo. Refuses (AbortRefusedError) rather than lose the user's work."""
    info = _read(root)
    if info is None:
        return None
    if info.get("phase") == "preparing":  # killed before it touched the project
        end(root)
        return None
    notes = changes_since(root, info)
    if notes:
        start = str(info["head"])[:8]
        raise AbortRefusedError(
            f"{root.name} changed after the update was interrupted ({'; '.join(notes)}): "
            "--abort would lose that work, so it changed nothing",
            f"the update started at {start}: see what changed with 'git diff {start}', finish "
            f"by hand (or 'git reset --hard {start}' if you are sure), then "
            "'mlscaffold update --quit'",
        )
    _restore(root, info)
    end(root)
    return str(info["head"])


def quit_update(root: Path) -> str | None:
    """Forget an interrupted update, leaving the tree as it is; its start commit, or None."""
    info = _read(root)
    if info is None:
        return None
    end(root)
    return None if info.get("phase") == "preparing" else str(info["head"])
