"""The graded tree: the reference project with only the student's allowed files laid over it.

Students control only what the assignment asks them to change (by default the package's own
kind modules, `configs/` and `notebooks/`; a preset's `student_files` can widen it). Tests,
`conftest.py`, tool configuration, root-level Python, `sitecustomize`/`usercustomize` and
`.pth` files always come from the reference, whatever the preset says. Files are read from
the student's last commit with git, never from the working tree: a committed symlink is an
entry git reports as a link, and it is skipped, not followed.

What the host does for one repository is bounded before it starts: git runs on that
repository's own `.git` folder only (a `.git` file or link is refused: NotARepository), lists
only the paths the allowed patterns can match, is stopped at entry and byte caps (TooLarge),
and everything it does counts against a time budget (`build(..., seconds=)`). A few-KB
commit naming 10^6 paths outside those paths took the old whole-tree reading 58 s and over
1 GB (grader and git); it now costs milliseconds.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from mlscaffold import git
from mlscaffold.cohort.trees import TooLarge  # overlay.TooLarge is trees.TooLarge
from mlscaffold.errors import GitError

# never the student's, even where a preset's pattern would match
FORBIDDEN = (
    "tests/*",
    "grading/*",
    "*conftest.py",
    "*sitecustomize.py",
    "*usercustomize.py",
    "*.pth",
    "*pyproject.toml",
    "*setup.cfg",
    "*setup.py",
    "*pytest.ini",
    "*tox.ini",
    "*ruff.toml",
    "*.copier-answers.yml",
    "*.dist-info/*",
    "*.egg-info/*",
    "*.egg-link",
)
NOT_REPORTED = ("grading/", ".github/")  # cohort files every student repository has
REGULAR = {"100644", "100755"}  # 120000 symlinks and 160000 submodules are skipped
MAX_FILE = 5 * 1024 * 1024
MAX_TOTAL = 50 * 1024 * 1024
# the shared layer's modules at the top of the package, which grading takes from the
# reference; the rest of the shared layer is the plumbing/ subpackage, never a student's by
# default (default_patterns lists the package's top level only)
SHARED_MODULES = (
    "__init__",
    "__main__",
    "demo",
    "serve",
)
# the plumbing/ subpackage's modules: at the top of the package before template 0.4.0, where
# a cohort pinned to an older version still has them
PLUMBING_MODULES = (
    "api",
    "config",
    "datameta",
    "download",
    "errors",
    "loadtest",
    "metrics",
    "monitor",
    "paths",
    "persist",
    "pipeline",
    "plots",
    "readme",
    "reporting",
    "requestlog",
    "runs",
    "screenshot",
    "seeding",
    "space",
)


def default_patterns(reference: Path, package: str) -> list[str]:
    """The kind's own modules of the package, configs and notebooks."""
    modules = sorted(
        p.name
        for p in (reference / "src" / package).glob("*.py")
        if p.stem not in SHARED_MODULES + PLUMBING_MODULES
    )
    return [*(f"src/{package}/{name}" for name in modules), "configs/*", "notebooks/*"]


def allowed(path: str, patterns: list[str]) -> bool:
    if any(fnmatch.fnmatchcase(path, rule) for rule in FORBIDDEN):
        return False
    parts = PurePosixPath(path).parts
    if "/" not in path and path.endswith(".py"):
        return False  # a root-level pytest.py or ruff.py would shadow the tools
    if ".." in parts or ".git" in parts or path.startswith("/"):
        return False
    return any(fnmatch.fnmatchcase(path, rule) for rule in patterns)


@dataclass
class Overlay:
    taken: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # changed, but not the student's to change
    skipped: list[str] = field(default_factory=list)  # links, submodules, too large


class NotARepository(Exception):
    """`repo/.git` is not a folder of the repository's own: a `.git` file (`gitdir: ...`) or
    link would have git read another repository, and grade another student's work."""


MAX_FILES = 5_000
MAX_ENTRIES = 20_000  # entries git lists under the allowed paths, of any kind
MAX_LISTING = 8 * 1024 * 1024  # bytes of that listing (paths can be long)
MAX_DEPTH = 32  # folder levels of a file taken from the student
MAX_PATH = 1024  # bytes of its path
MAX_REFUSED = 50  # changed paths named in "not graded", then "..."
MAX_TREES = 1_000  # folders compared (theirs against the first commit's) to find them
MAX_TREE = 256 * 1024  # bytes of one such tree (~7,000 entries); a bigger one is named whole
SECONDS = 30.0  # the host's time reading one repository
MORE = "..."  # ends a "not graded" list that is not complete
_TREE = b"40000"  # a folder's mode in a tree object


class Budget:
    """The host time grading may spend reading one student's repository: git is killed when
    it runs out, whatever it was doing, and TooLarge says so."""

    def __init__(self, seconds: float = SECONDS) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    @property
    def message(self) -> str:
        return f"reading the repository took more than {self.seconds:g} s: not graded"

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TooLarge(self.message)
        return left


def git_folder(repo: Path) -> Path:
    """`repo/.git`, refused unless it is a real folder (not a file, not a link) of the
    repository's own (a linked worktree's `commondir` points at another one's objects)."""
    folder = repo.absolute() / ".git"
    try:
        found = folder.lstat()
    except FileNotFoundError:
        raise NotARepository("no repository") from None
    if not stat.S_ISDIR(found.st_mode) or os.path.lexists(folder / "commondir"):
        raise NotARepository("not a repository of its own")
    return folder


def _environment(folder: Path) -> dict[str, str]:
    """git with this repository and nothing else: GIT_DIR explicit (no discovery: no `.git`
    file or parent folder is looked at), none of the caller's GIT_* variables (an
    inherited GIT_INDEX_FILE or GIT_OBJECT_DIRECTORY), no system config, no replace refs
    (the tree read is the commit's own), no network (a partial clone cannot fetch)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    config = {
        "gc.auto": "0",
        "maintenance.auto": "false",
        "core.fsmonitor": "false",
        "protocol.allow": "never",
    }
    for index, (key, value) in enumerate(config.items()):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    env.update(
        GIT_CONFIG_COUNT=str(len(config)),
        GIT_DIR=str(folder),
        GIT_CEILING_DIRECTORIES=str(folder.parent.parent),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_NO_REPLACE_OBJECTS="1",
        GIT_LITERAL_PATHSPECS="1",
        GIT_OPTIONAL_LOCKS="0",
        GIT_TERMINAL_PROMPT="0",
        GIT_NO_LAZY_FETCH="1",
    )
    return env


class _Git:
    """The git commands `build` runs on one student's repository, every one within `budget`."""

    def __init__(self, repo: Path, budget: Budget) -> None:
        self.repo, self.budget = repo, budget
        self.env = _environment(git_folder(repo))

    def start(self, *args: str, stdin: int | None = subprocess.DEVNULL) -> _Running:
        left = self.budget.left()  # TooLarge before git starts when none is left
        # a file, not a pipe: git never blocks on what it says; _Running closes it
        errors = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            process = subprocess.Popen(
                ["git", *args],
                cwd=self.repo,
                env=self.env,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
        except BaseException:
            errors.close()
            raise
        return _Running(process, errors, left, self.budget, args[0])

    def records(self, *args: str, sep: bytes = b"\0", max_bytes: int) -> Iterator[str]:
        """git's output record by record as it comes, never more than `max_bytes` of it
        (TooLarge). Stopping early (close the iterator) kills git."""
        with self.start(*args) as running:
            pieces: list[bytes] = []
            total = 0
            while chunk := running.read1():
                total += len(chunk)
                if total > max_bytes:
                    raise TooLarge(
                        f"git {args[0]} lists more than {max_bytes >> 20} MB: not graded"
                    )
                *ends, rest = chunk.split(sep)
                for end in ends:
                    pieces.append(end)
                    yield b"".join(pieces).decode("utf-8", "surrogateescape")
                    pieces = []
                pieces.append(rest)
            if any(pieces):
                yield b"".join(pieces).decode("utf-8", "surrogateescape")
            running.finish()


class _Running:
    """One git process: killed when the budget runs out (a timer) or when left early."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        errors: IO[bytes],
        seconds: float,
        budget: Budget,
        name: str,
    ) -> None:
        self.process, self.errors, self.budget, self.name = process, errors, budget, name
        self.expired = threading.Event()
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True
        self.timer.start()

    def _expire(self) -> None:
        self.expired.set()
        self.process.kill()

    def __enter__(self) -> _Running:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.timer.cancel()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.errors):
            if stream is not None:
                with contextlib.suppress(OSError):  # a pipe to a git already killed
                    stream.close()

    def read1(self) -> bytes:
        assert self.process.stdout is not None
        return os.read(self.process.stdout.fileno(), 1 << 16)

    def cut_short(self) -> Exception:
        """Why git's output ended early: the budget, or git's own error."""
        if self.expired.is_set():
            return TooLarge(self.budget.message)
        self.process.wait()
        return self._error()

    def _error(self) -> GitError:
        self.errors.seek(0)
        message = self.errors.read(4096).decode("utf-8", "replace").strip()
        return GitError(message or f"git {self.name} failed")

    def finish(self) -> None:
        """The end of git's output: raise if it was cut short or git failed."""
        code = self.process.wait()
        if self.expired.is_set():
            raise TooLarge(self.budget.message)
        if code != 0:
            raise self._error()


def pathspecs(patterns: list[str]) -> list[str] | None:
    """The folders and files the allowed glob patterns can match, as git pathspecs (literal:
    the part of each pattern before its first wildcard); None when one pattern can match
    from the top (then the whole tree is listed, still within the caps)."""
    found = set()
    for pattern in patterns:
        literal = []
        for part in pattern.split("/"):
            if any(char in part for char in "*?["):
                break
            literal.append(part)
        else:
            found.add(pattern)  # no wildcard: the path itself
            continue
        if not any(literal):
            return None
        found.add("/".join(literal) + "/")
    return sorted(found)


def _entries(
    student: _Git, patterns: list[str], rev: str = "HEAD"
) -> list[tuple[str, str, int, str]]:
    """(mode, blob sha, size, path) of every entry of the last commit under the allowed
    paths, sizes from git's index of objects: nothing is read before it is known to be small
    enough. Only those paths are listed (a bomb of shared subtrees elsewhere costs nothing),
    and git is stopped at MAX_ENTRIES entries or MAX_LISTING bytes (TooLarge)."""
    specs = pathspecs(patterns)
    if specs == []:
        return []
    args = ["ls-tree", "-r", "-z", "-l", "--full-tree", rev]
    rows: list[tuple[str, str, int, str]] = []
    with contextlib.closing(
        student.records(*args, *(["--", *specs] if specs else []), max_bytes=MAX_LISTING)
    ) as listing:
        for entry in listing:
            if not entry:
                continue
            if len(rows) >= MAX_ENTRIES:
                raise TooLarge(
                    f"more than {MAX_ENTRIES} files where students may write: not graded"
                )
            meta, _, path = entry.partition("\t")
            mode, _kind, sha, size = meta.split()
            rows.append((mode, sha, int(size) if size.isdigit() else 0, path))
    return rows


def _blobs(student: _Git, shas: list[str]) -> list[bytes]:
    """Many blobs through one `git cat-file --batch` (one process, not one per file)."""
    if not shas:
        return []
    try:
        done = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=student.repo,
            env=student.env,
            input=("\n".join(shas) + "\n").encode(),
            capture_output=True,
            check=True,
            timeout=student.budget.left(),
        )
    except subprocess.TimeoutExpired:
        raise TooLarge(student.budget.message) from None
    out, blobs, at = done.stdout, [], 0
    for _ in shas:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        start = header_end + 1
        blobs.append(out[start : start + size])
        at = start + size + 1
    return blobs


class _Trees:
    """Tree objects read through one `git cat-file --batch`, one at a time, each kept only
    when at most MAX_TREE bytes (a bigger one is read past, not kept)."""

    def __init__(self, running: _Running, hash_bytes: int) -> None:
        self.running, self.hash_bytes = running, hash_bytes
        process = running.process
        assert process.stdin is not None and process.stdout is not None
        self.stdin, self.stdout = process.stdin, process.stdout

    def read(self, sha: str | None) -> dict[bytes, tuple[bytes, str]] | None:
        """{name: (mode, sha)} of the tree; {} for none; None when too big to keep."""
        if sha is None:
            return {}
        try:
            self.stdin.write(sha.encode() + b"\n")
            self.stdin.flush()
        except BrokenPipeError:
            raise self.running.cut_short() from None
        header = self.stdout.readline(256).split()
        if len(header) != 3 or header[1] != b"tree":
            raise self.running.cut_short() if not header else GitError(f"{sha} is not a tree")
        size = int(header[2])
        if size > MAX_TREE:
            left = size + 1
            while left and (chunk := self.stdout.read(min(left, 1 << 16))):
                left -= len(chunk)
            if left:
                raise self.running.cut_short()
            return None
        data = self.stdout.read(size + 1)
        if len(data) != size + 1:
            raise self.running.cut_short()
        entries, at = {}, 0
        while at < size:
            space = data.index(b" ", at)
            nul = data.index(b"\0", space)
            end = nul + 1 + self.hash_bytes
            entries[data[space + 1 : nul]] = (data[at:space], data[nul + 1 : end].hex())
            at = end
        return entries


def _changed_by_student(student: _Git, keep: Callable[[str], bool], rev: str = "HEAD") -> list[str]:
    """The paths changed since the repository's first commit (the one `cohort new` made)
    that `keep` selects: at most MAX_REFUSED, then MORE when there are more or when the
    search stopped short.

    Not `git diff --name-only`: git collects every change before it prints one (a commit of
    shared subtrees naming 10^6 paths took it 2 s and 325 MB, 10^8 would take 100 times
    that), so stopping it early saves nothing. The two commits' trees are compared here one
    folder at a time, identical folders skipped by their hash, at most MAX_TREES compared."""
    root = ""
    with contextlib.closing(
        student.records("rev-list", "--max-parents=0", rev, sep=b"\n", max_bytes=1 << 20)
    ) as found:
        for line in found:
            root = line or root  # the last one: the oldest
    if not root:
        return []
    with contextlib.closing(
        student.records(
            "rev-parse", f"{root}^{{tree}}", f"{rev}^{{tree}}", sep=b"\n", max_bytes=4096
        )
    ) as found:
        first, last = [sha for sha in found if sha]
    kept: list[str] = []
    stack: list[tuple[str | None, str | None, str]] = [(first, last, "")]
    read = 0
    with student.start("cat-file", "--batch", stdin=subprocess.PIPE) as running:
        trees = _Trees(running, len(first) // 2)
        while stack:
            old_sha, new_sha, folder = stack.pop()
            read += 1
            old, new = trees.read(old_sha), trees.read(new_sha)
            if old is None or new is None:
                changed, below = [folder or "."], []  # too big to list: the folder is named
            else:
                changed, below = _compare(old, new, folder)
            for path in changed:
                if keep(path):
                    kept.append(path)
                    if len(kept) > MAX_REFUSED:
                        return [*kept[:MAX_REFUSED], MORE]
            below = [pair for pair in below if not pair[2].startswith(NOT_REPORTED)]
            if read + len(stack) + len(below) > MAX_TREES:
                return [*kept, MORE]
            stack.extend(reversed(below))
    return kept


def _compare(
    old: dict[bytes, tuple[bytes, str]], new: dict[bytes, tuple[bytes, str]], folder: str
) -> tuple[list[str], list[tuple[str | None, str | None, str]]]:
    """The paths of one folder whose entry changed (files, links, submodules), and the
    subfolder pairs to compare next (added or removed folders against none)."""
    changed: list[str] = []
    below: list[tuple[str | None, str | None, str]] = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        path = folder + name.decode("utf-8", "surrogateescape")
        old_tree = before[1] if before is not None and before[0] == _TREE else None
        new_tree = after[1] if after is not None and after[0] == _TREE else None
        if old_tree or new_tree:
            below.append((old_tree, new_tree, path + "/"))
        if (before is not None and not old_tree) or (after is not None and not new_tree):
            changed.append(path)
    return changed, below


def build(
    reference: Path,
    repo: Path,
    dest: Path,
    patterns: list[str],
    *,
    seconds: float = SECONDS,
    rev: str = "HEAD",
) -> Overlay:
    """dest = a copy of the reference (no .git) + the student's allowed regular files.

    Refuses a repository whose `.git` is not its own folder (NotARepository) before anything
    else; reads only the allowed paths of the last commit, and raises TooLarge past the caps
    or when git has run for `seconds` in all. `rev`: the commit graded (a sha from `commit`)."""
    git.require_git()
    student = _Git(repo, Budget(seconds))
    shutil.copytree(
        reference, dest, ignore=shutil.ignore_patterns(".git", "__pycache__", ".reference")
    )
    result = Overlay()
    chosen: list[tuple[str, str]] = []
    total = 0
    for mode, sha, size, path in _entries(student, patterns, rev):
        if not allowed(path, patterns):
            continue
        target = dest / path
        if (
            mode not in REGULAR
            or size > MAX_FILE
            or len(path.encode("utf-8", "surrogateescape")) > MAX_PATH
            or path.count("/") > MAX_DEPTH
            or target.is_symlink()
            or (target.exists() and not target.is_file())
        ):
            result.skipped.append(path)
            continue
        total += size
        chosen.append((sha, path))
        if len(chosen) > MAX_FILES or total > MAX_TOTAL:
            raise TooLarge(
                f"more than {MAX_FILES} files or {MAX_TOTAL >> 20} MB to grade: not graded"
            )
    for (_sha, path), content in zip(
        chosen, _blobs(student, [sha for sha, _ in chosen]), strict=True
    ):
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        result.taken.append(path)
    result.refused = _changed_by_student(
        student,
        lambda path: not allowed(path, patterns) and not path.startswith(NOT_REPORTED),
        rev,
    )
    return result


def commit(repo: Path, before: str | None = None, *, seconds: float = SECONDS) -> str | None:
    """The sha graded: the last commit (HEAD), or with `before` (ISO 8601) the last one
    before it (`git rev-list -1 --before`), read with the same isolated git as `build`;
    None when no commit is that old. NotARepository as `build` raises it."""
    git.require_git()
    student = _Git(repo, Budget(seconds))
    args = ["rev-list", "-1", f"--before={before}", "HEAD"] if before else ["rev-parse", "HEAD"]
    with contextlib.closing(student.records(*args, sep=b"\n", max_bytes=4096)) as found:
        shas = [line for line in found if line]
    return shas[0] if shas else None
