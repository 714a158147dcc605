"""The grader's own file operations on trees a student's code wrote: copy, list, remove.

Python 3.11's `shutil.rmtree`, `shutil.copytree` and `os.walk` recurse once per folder level,
so a 1,200-level folder made by a student's pipeline raised RecursionError in the grader: the
student got a zero and the scratch folder (held-out inputs included) stayed in the host's
/tmp. Everything here walks with an explicit stack, never follows a symbolic link (a link is
copied or removed as a link) and, where it reads a tree, stops at a depth and entry cap.

`copy` and `files` raise `TooDeep`/`TooMany` at their caps rather than skip what is beyond
them: a silently truncated tree would be graded as if the student had made it. Both are
`TooLarge`, whose message is plain words a grade's note can show.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


class TooLarge(Exception):
    """More than the grader reads or copies (files, bytes, depth or time)."""


class TooDeep(TooLarge):
    """A folder nested deeper than the cap."""


class TooMany(TooLarge):
    """More entries (files, folders, links) than the cap."""


_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = _FOLDER | getattr(os, "O_NOFOLLOW", 0)  # not through a link
# folder fds (POSIX); elsewhere (Windows, where grading has no sandbox) shutil.rmtree
_BY_FD = {os.open, os.stat, os.chmod, os.unlink, os.rmdir} <= os.supports_dir_fd and (
    os.scandir in os.supports_fd
)


def _enter(parent: int, name: str) -> int | None:
    """An fd of the folder `name` in `parent`, made readable and writable first (a read-only
    folder cannot be emptied); None when it is gone. Never through a link (O_NOFOLLOW)."""
    try:
        found = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(found.st_mode):
        raise NotADirectoryError(name)
    if found.st_mode & stat.S_IRWXU != stat.S_IRWXU:
        # a folder (lstat above): chmod cannot reach through a link here
        os.chmod(name, stat.S_IMODE(found.st_mode) | stat.S_IRWXU, dir_fd=parent)
    return os.open(name, _DIRECTORY, dir_fd=parent)


@dataclass
class _Level:
    name: str  # in the folder above
    above: tuple[int, int]  # (st_dev, st_ino) of the folder above: checked on the way back
    folders: list[str] = field(default_factory=list)  # subfolders still to remove


def _empty(fd: int, errors: list[OSError]) -> list[str]:
    """Unlink everything in the folder but its subfolders (links included, never followed);
    the subfolders' names are returned."""
    folders = []
    with os.scandir(fd) as entries:
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.name)
                else:
                    os.unlink(entry.name, dir_fd=fd)
            except FileNotFoundError:
                pass
            except OSError as exc:
                errors.append(exc)
    return folders


def remove(path: str | os.PathLike[str]) -> None:
    """Remove `path` and everything under it, however deep; nothing for a missing path.

    Works on folder fds (`unlink`/`rmdir` relative to the folder), so no path grows with the
    depth, and holds one fd at a time, going back up through `..` checked against the folder
    it came from. Read-only folders are made writable before they are emptied. What cannot
    be removed is left while the rest goes; then OSError says how much stayed."""
    top = os.path.abspath(os.fspath(path))
    try:
        found = os.lstat(top)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(found.st_mode):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(top)  # a file, or a link (never its target)
        return
    if not _BY_FD:
        shutil.rmtree(top)
        return
    errors: list[OSError] = []
    base = os.open(os.path.dirname(top), _FOLDER)  # the caller's path: links there are theirs
    try:
        _remove_folder(base, os.path.basename(top), errors)
    finally:
        os.close(base)
    if errors:
        raise OSError(f"{len(errors)} entries under {top} could not be removed") from errors[0]


def _remove_folder(base: int, name: str, errors: list[OSError]) -> None:
    fd = _enter(base, name)
    if fd is None:
        return
    above = os.fstat(base)
    stack = [_Level(name, (above.st_dev, above.st_ino), _empty(fd, errors))]
    try:
        while stack:
            level = stack[-1]
            if level.folders:
                sub = level.folders.pop()
                try:
                    child = _enter(fd, sub)
                except OSError as exc:
                    errors.append(exc)
                    continue
                if child is None:
                    continue
                here = os.fstat(fd)
                os.close(fd)
                fd = child
                stack.append(_Level(sub, (here.st_dev, here.st_ino), _empty(fd, errors)))
                continue
            stack.pop()
            if stack:
                up = os.open("..", _DIRECTORY, dir_fd=fd)
                back = os.fstat(up)
                if (back.st_dev, back.st_ino) != level.above:
                    os.close(up)
                    raise OSError(f"{level.name} was moved while it was being removed")
                os.close(fd)
                fd = up
                parent = fd
            else:
                parent = base
            try:
                os.rmdir(level.name, dir_fd=parent)
            except FileNotFoundError:
                pass
            except OSError as exc:
                errors.append(exc)
    finally:
        os.close(fd)


def _children(folder: Path) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        return sorted(entries, key=lambda entry: entry.name)


def _walk(
    top: Path, max_depth: int, max_entries: int, skip_unreadable: bool
) -> Iterator[tuple[os.DirEntry[str], int]]:
    """Every entry under `top` with its depth (top's own entries: 1), folders before what is
    in them, names sorted (the same tree always gives the same order); links not entered."""
    count = 0
    stack: list[tuple[Path, int]] = [(top, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = _children(folder)
        except (PermissionError, FileNotFoundError, NotADirectoryError):
            if skip_unreadable:
                continue
            raise
        if entries and depth + 1 > max_depth:
            raise TooDeep(f"folders nested more than {max_depth} levels deep")
        count += len(entries)
        if count > max_entries:
            raise TooMany(f"more than {max_entries} files and folders")
        below = []
        for entry in entries:
            yield entry, depth + 1
            if entry.is_dir(follow_symlinks=False):
                below.append((Path(entry.path), depth + 1))
        stack.extend(reversed(below))


def files(top: str | os.PathLike[str], *, max_depth: int, max_entries: int) -> Iterator[Path]:
    """The plain files under `top`, never through a link (links, FIFOs, sockets and devices
    are not files here); folders that cannot be read are passed over, as `os.walk` does.
    Raises TooDeep/TooMany at the caps (every entry counts, not only files)."""
    root = Path(top)
    if root.is_symlink() or not root.is_dir():
        return
    for entry, _depth in _walk(root, max_depth, max_entries, skip_unreadable=True):
        if entry.is_file(follow_symlinks=False):
            yield Path(entry.path)


def copy(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    max_depth: int,
    max_entries: int,
    merge: bool = False,
) -> None:
    """Copy the folder `src` to `dst` as `shutil.copytree(symlinks=True)` does: links are
    copied as links (never followed), plain files with their mode and times; FIFOs, sockets
    and devices are left out. `merge` copies into an existing `dst` (`dirs_exist_ok`), and
    never writes through a link there: an existing file or link is replaced, and a link
    where a folder goes is an error. Raises TooDeep/TooMany before copying past a cap (what
    was copied stays: `dst` is the caller's to remove)."""
    source, target = Path(src), Path(dst)
    if source.is_symlink() or not source.is_dir():
        raise NotADirectoryError(f"{source} is not a folder")
    _make_folder(target, merge)
    folders: list[tuple[Path, Path]] = [(source, target)]
    for entry, _depth in _walk(source, max_depth, max_entries, skip_unreadable=False):
        here = Path(entry.path)
        there = target / here.relative_to(source)
        if entry.is_dir(follow_symlinks=False):
            _make_folder(there, merge)
            folders.append((here, there))
        elif entry.is_symlink():
            _clear(there, merge)
            os.symlink(os.readlink(here), there)
        elif entry.is_file(follow_symlinks=False):
            _clear(there, merge)
            shutil.copy2(here, there, follow_symlinks=False)
    for here, there in reversed(folders):  # after their content: a read-only folder last
        shutil.copystat(here, there, follow_symlinks=False)


def _make_folder(path: Path, merge: bool) -> None:
    try:
        path.mkdir()
    except FileExistsError:
        if not merge or path.is_symlink() or not path.is_dir():
            raise


def _clear(path: Path, merge: bool) -> None:
    """Room for a file or link at `path` (only when merging: a fresh copy has nothing)."""
    if not merge:
        return
    try:
        found = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISDIR(found.st_mode):
        raise IsADirectoryError(f"{path} is a folder")
    path.unlink()


@contextlib.contextmanager
def scratch(prefix: str, parent: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """A new private temporary folder (mode 0700), removed with `remove` whatever happens
    inside (exceptions included), however deep or read-only what was made in it."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield folder
    finally:
        remove(folder)
