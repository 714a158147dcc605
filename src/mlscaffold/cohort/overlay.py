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
# the shared layer's modules: plumbing every kind has, which grading takes from the reference
SHARED_MODULES = (
    "__init__",
    "__main__",
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
        p.name for p in (reference / "src" / package).glob("*.py") if p.stem not in SHARED_MODULES
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


def _entries(repo: Path) -> list[tuple[str, str, str]]:
    """(mode, blob sha, path) of every entry in the last commit."""
    listing = git.output("ls-tree", "-r", "-z", "--full-tree", "HEAD", cwd=repo)
    rows = []
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        mode, _kind, sha = meta.split()
        rows.append((mode, sha, path))
    return rows


def _changed_by_student(repo: Path) -> list[str]:
    """Paths changed since the repository's first commit (the one `cohort new` made)."""
    roots = git.output("rev-list", "--max-parents=0", "HEAD", cwd=repo).split()
    if not roots:
        return []
    listing = git.output("diff", "--name-only", "-z", roots[-1], "HEAD", cwd=repo)
    return [p for p in listing.split("\0") if p]


def _blob(repo: Path, sha: str) -> bytes:
    done = subprocess.run(
        ["git", "cat-file", "blob", sha], cwd=repo, capture_output=True, check=True
    )
    return done.stdout


def build(reference: Path, repo: Path, dest: Path, patterns: list[str]) -> Overlay:
    """dest = a copy of the reference (no .git) + the student's allowed regular files."""
    shutil.copytree(
        reference, dest, ignore=shutil.ignore_patterns(".git", "__pycache__", ".reference")
    )
    result = Overlay()
    total = 0
    for mode, sha, path in _entries(repo):
        if not allowed(path, patterns):
            continue
        if mode not in REGULAR:
            result.skipped.append(path)
            continue
        content = _blob(repo, sha)
        if len(content) > MAX_FILE or total + len(content) > MAX_TOTAL:
            result.skipped.append(path)
            continue
        total += len(content)
        target = dest / path
        if target.is_symlink() or (target.exists() and not target.is_file()):
            result.skipped.append(path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        result.taken.append(path)
    result.refused = [
        path
        for path in _changed_by_student(repo)
        if not allowed(path, patterns) and not path.startswith(NOT_REPORTED)
    ]
    return result
