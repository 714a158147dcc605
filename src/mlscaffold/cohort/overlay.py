"""The graded tree: the reference project with only the student's allowed files laid over it.

Students control only what the assignment asks them to change (by default the package's own
kind modules, `configs/` and `notebooks/`; a preset's `student_files` can widen it). Tests,
`conftest.py`, tool configuration, root-level Python, `sitecustomize`/`usercustomize` and
`.pth` files always come from the reference, whatever the preset says. Files are read from
the student's last commit with git, never from the working tree: a committed symlink is an
entry git reports as a link, and it is skipped, not followed.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from mlscaffold import git

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
    "paths",
    "persist",
    "pipeline",
    "plots",
    "readme",
    "reporting",
    "runs",
    "seeding",
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


class TooLarge(Exception):
    """The student's commit holds more than grading reads (files or bytes)."""


MAX_FILES = 5_000


def _entries(repo: Path) -> list[tuple[str, str, int, str]]:
    """(mode, blob sha, size, path) of every entry in the last commit, sizes from git's
    index of objects: nothing is read before it is known to be small enough."""
    listing = git.output("ls-tree", "-r", "-z", "-l", "--full-tree", "HEAD", cwd=repo)
    rows = []
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        mode, _kind, sha, size = meta.split()
        rows.append((mode, sha, int(size) if size.isdigit() else 0, path))
    return rows


def _blobs(repo: Path, shas: list[str]) -> list[bytes]:
    """Many blobs through one `git cat-file --batch` (one process, not one per file)."""
    if not shas:
        return []
    done = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=repo,
        input=("\n".join(shas) + "\n").encode(),
        capture_output=True,
        check=True,
    )
    out, blobs, at = done.stdout, [], 0
    for _ in shas:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        start = header_end + 1
        blobs.append(out[start : start + size])
        at = start + size + 1
    return blobs


def _changed_by_student(repo: Path) -> list[str]:
    """Paths changed since the repository's first commit (the one `cohort new` made)."""
    roots = git.output("rev-list", "--max-parents=0", "HEAD", cwd=repo).split()
    if not roots:
        return []
    listing = git.output("diff", "--name-only", "-z", roots[-1], "HEAD", cwd=repo)
    return [p for p in listing.split("\0") if p]


def build(reference: Path, repo: Path, dest: Path, patterns: list[str]) -> Overlay:
    """dest = a copy of the reference (no .git) + the student's allowed regular files."""
    shutil.copytree(
        reference, dest, ignore=shutil.ignore_patterns(".git", "__pycache__", ".reference")
    )
    result = Overlay()
    chosen: list[tuple[str, str]] = []
    total = 0
    for mode, sha, size, path in _entries(repo):
        if not allowed(path, patterns):
            continue
        target = dest / path
        if (
            mode not in REGULAR
            or size > MAX_FILE
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
    for (_sha, path), content in zip(chosen, _blobs(repo, [sha for sha, _ in chosen]), strict=True):
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        result.taken.append(path)
    result.refused = [
        path
        for path in _changed_by_student(repo)
        if not allowed(path, patterns) and not path.startswith(NOT_REPORTED)
    ]
    return result
