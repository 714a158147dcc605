"""Caps on what one grading step takes all together: its number of processes and its memory.

RLIMIT_NPROC does not apply to uid 0 of a user namespace and RLIMIT_DATA is per process, so
a step gets a control group of its own: cgroup v1's `pids` and `memory` hierarchies (root may
write them), or a child of a cgroup v2 subtree that delegates `pids` and `memory`. Each group
is made below the grader's own (limits set above the grader still hold), named uniquely per
step, joined by the step's first process before it runs anything, and emptied and removed when
the step ends.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("pids", "memory")
_steps = itertools.count(1)  # next() on a count is atomic: graders run in threads


class CgroupError(Exception):
    """No group with both caps can be made here (the message says why)."""


@dataclass(frozen=True)
class Usage:
    """What a step's group saw: whether a cap stopped it, and the most memory it held."""

    processes: bool = False  # a fork failed at the process cap
    memory: bool = False  # the kernel killed a process at the memory cap
    peak_memory: int | None = None


@dataclass(frozen=True)
class Caps:
    """Where the groups of this grader's steps are made: one parent per v1 controller, or the
    one v2 parent (`version` 2)."""

    version: int
    parents: tuple[Path, ...]

    @classmethod
    def find(cls) -> Caps:
        """The caps this host can set, checked by making and removing a group; else
        CgroupError."""
        own = _own_cgroups()
        unified = ROOT if (ROOT / "cgroup.controllers").exists() else ROOT / "unified"
        errors = []
        if unified != ROOT:
            try:
                return cls._checked(1, tuple(_parent(ROOT / c, own.get(c)) for c in CONTROLLERS))
            except CgroupError as exc:
                errors.append(str(exc))
        try:
            parent = _parent(unified, own.get(""))
            _delegate(parent)
            return cls._checked(2, (parent,))
        except CgroupError as exc:
            errors.append(str(exc))
        raise CgroupError("; ".join(errors))

    @classmethod
    def _checked(cls, version: int, parents: tuple[Path, ...]) -> Caps:
        caps = cls(version, parents)
        group = caps.group(processes=64, memory=256 << 20)
        group.close()
        caps.sweep()
        return caps

    def sweep(self) -> None:
        """Remove the groups a grader killed before it could left behind: empty (its sandboxes
        died with it) and, to stay clear of a grader in another PID namespace, over a minute
        old."""
        for parent in self.parents:
            for folder in parent.glob("mlscaffold-*"):
                pid = folder.name.split("-")[1]
                with contextlib.suppress(OSError):
                    old = time.time() - folder.stat().st_mtime > 60
                    if old and pid.isdigit() and not Path(f"/proc/{pid}").exists():
                        folder.rmdir()  # refused while a process is in it

    def group(self, processes: int, memory: int) -> Group:
        """A new group with both caps set (CgroupError when it cannot be made)."""
        name = f"mlscaffold-{os.getpid()}-{next(_steps)}-{uuid.uuid4().hex[:8]}"
        group = Group(self.version, tuple(parent / name for parent in self.parents))
        try:
            for folder in group.folders:
                folder.mkdir()
            if self.version == 1:
                pids, mem = group.folders
                _write(pids / "pids.max", processes)
                _write(mem / "memory.limit_in_bytes", memory)
                if (mem / "memory.memsw.limit_in_bytes").exists():  # swap does not escape
                    _write(mem / "memory.memsw.limit_in_bytes", memory)
            else:
                (folder,) = group.folders
                _write(folder / "pids.max", processes)
                _write(folder / "memory.max", memory)
                if (folder / "memory.swap.max").exists():
                    _write(folder / "memory.swap.max", 0)
        except OSError as exc:
            group.close()
            why = f"cannot make a cgroup in {exc.filename or ''}: {exc.strerror}"
            raise CgroupError(why) from None
        return group


@dataclass
class Group:
    """One step's group (one folder per v1 controller, or one v2 folder)."""

    version: int
    folders: tuple[Path, ...]

    def prefix(self) -> list[str]:
        """Put before a command: its first process joins the group, then execs the rest, so
        nothing runs outside the caps."""
        joins = [f"echo $$ > {shlex.quote(str(f / 'cgroup.procs'))}" for f in self.folders]
        return ["/bin/sh", "-c", " && ".join([*joins, 'exec "$@"']), "sh"]

    def close(self) -> Usage:
        """Kill whatever is left in the group, read which caps were reached, remove it."""
        self._kill()
        usage = self._usage()
        deadline = time.monotonic() + 20
        while True:
            for folder in self.folders:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # EBUSY while a process is still leaving
            if not any(f.exists() for f in self.folders) or time.monotonic() > deadline:
                return usage
            time.sleep(0.02)
            self._kill()

    def _kill(self) -> None:
        if self.version == 2 and (self.folders[0] / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                _write(self.folders[0] / "cgroup.kill", 1)
        for folder in self.folders:
            for pid in _pids(folder):
                _kill_member(pid, folder)

    def _usage(self) -> Usage:
        if self.version == 1:
            pids, mem = self.folders
            events, oom, peak = (
                _fields(pids / "pids.events"),
                _fields(mem / "memory.oom_control"),
                _number(mem / "memory.max_usage_in_bytes"),
            )
            return Usage(events.get("max", 0) > 0, oom.get("oom_kill", 0) > 0, peak)
        (folder,) = self.folders
        events, memory = _fields(folder / "pids.events"), _fields(folder / "memory.events")
        peak = _number(folder / "memory.peak")
        return Usage(events.get("max", 0) > 0, memory.get("oom_kill", 0) > 0, peak)


def _own_cgroups() -> dict[str, str]:
    """This process's group per controller (v1) and under "" its v2 group."""
    own: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
    return own


def _parent(mount: Path, own: str | None) -> Path:
    """The grader's own group in this hierarchy (so limits above it hold), else its root."""
    if not (mount / "cgroup.procs").exists():
        raise CgroupError(f"no cgroup hierarchy at {mount}")
    below = mount / (own or "/").lstrip("/")
    return below if (below / "cgroup.procs").exists() else mount


def _delegate(parent: Path) -> None:
    """A v2 parent must offer pids and memory to its children."""
    try:
        offered = (parent / "cgroup.controllers").read_text().split()
        enabled = (parent / "cgroup.subtree_control").read_text().split()
    except OSError as exc:
        raise CgroupError(f"cannot read the cgroup v2 controllers of {parent}") from exc
    missing = [c for c in CONTROLLERS if c not in offered]
    if missing:
        raise CgroupError(f"cgroup v2 at {parent} does not delegate {' and '.join(missing)}")
    wanted = " ".join(f"+{c}" for c in CONTROLLERS if c not in enabled)
    if wanted:
        try:
            _write(parent / "cgroup.subtree_control", wanted)
        except OSError as exc:
            raise CgroupError(
                f"cannot enable pids and memory below {parent} ({exc.strerror}): run the "
                "grader in a child of a delegated cgroup v2 subtree"
            ) from None


def _write(path: Path, value: object) -> None:
    with open(path, "w") as handle:
        handle.write(f"{value}\n")


def _pids(folder: Path) -> list[int]:
    try:
        return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _kill_member(pid: int, folder: Path) -> None:
    """SIGKILL `pid` only while it is still in the group: a pidfd holds the process, so a
    number the kernel gave to someone else meanwhile is never signalled."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        if pid in _pids(folder):
            signal.pidfd_send_signal(fd, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fields(path: Path) -> dict[str, int]:
    values: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                values[key] = int(value)
    return values


def _number(path: Path) -> int | None:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return None
