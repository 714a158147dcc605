"""The few git operations mlscaffold needs.

Reading a repository (status, unmerged paths, file contents, clones) goes through GitPython,
imported lazily (~50 ms). `new`'s first commit runs plain `git`: it is three commands, and
the import alone would cost most of what `new` may add to a Copier copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import types
from pathlib import Path
from typing import TYPE_CHECKING

from mlscaffold.errors import GitMissingError

if TYPE_CHECKING:
    from git import Repo


def require_git() -> None:
    if shutil.which("git") is None:
        raise GitMissingError()


def _gitpython() -> types.ModuleType:
    require_git()
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")  # we check for git ourselves
    import git

    return git


def _repo(path: Path) -> Repo:
    return _gitpython().Repo(path)


def is_repository_root(path: Path) -> bool:
    return (path / ".git").exists()


def _run_git(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or f"git {args[0]} failed")
    return done.stdout.strip()


def init_and_commit(path: Path, message: str, fallback_name: str, fallback_email: str) -> None:
    """`git init`, add everything, make the first commit.

    Plain `git` commands here, not GitPython: importing GitPython (~50 ms) would cost half of
    the time `new` may add to a Copier copy. A machine with no `user.name`/`user.email` still
    gets a commit: the author from the answers is used, so `new` works on a fresh laptop or CI.
    """
    require_git()
    where = str(path)
    _run_git("-c", "init.defaultBranch=main", "init", "--quiet", where)
    configured = subprocess.run(  # exit 1 when no identity is configured: that is fine
        ["git", "-C", where, "config", "--get-regexp", r"^user\.(name|email)$"],
        capture_output=True,
        text=True,
    ).stdout
    identity = dict(line.split(" ", 1) for line in configured.splitlines() if " " in line)
    name = (
        os.environ.get("GIT_AUTHOR_NAME")
        or identity.get("user.name")
        or fallback_name
        or "mlscaffold"
    )
    email = (
        os.environ.get("GIT_AUTHOR_EMAIL")
        or identity.get("user.email")
        or fallback_email
        or "mlscaffold@users.noreply.github.com"
    )
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    _run_git("-C", where, "add", "--all")
    _run_git("-C", where, "commit", "--quiet", "--no-verify", "-m", message, env=env)


def dirty_files(path: Path) -> list[str]:
    """Modified, staged and untracked files (Copier refuses to update over any of them)."""
    repo = _repo(path)
    lines = repo.git.status("--porcelain", "--untracked-files=all").splitlines()
    return [line[3:] for line in lines if line.strip()]


def unmerged_files(path: Path) -> list[str]:
    """Files Copier recorded as conflicted in the index (`git ls-files -u`)."""
    repo = _repo(path)
    lines = repo.git.ls_files("-u").splitlines()
    return sorted({line.split("\t", 1)[1] for line in lines if "\t" in line})


def rejected_hunk_files(path: Path) -> list[str]:
    """`*.rej` files left by `--conflict rej`, ignored ones included (git walks the tree in C,
    so a project's .venv costs nothing)."""
    return sorted(_repo(path).git.ls_files("--others", "--", "*.rej").splitlines())


def deleted_files(path: Path) -> list[str]:
    """Tracked files missing from the working tree."""
    return sorted(_repo(path).git.ls_files("--deleted").splitlines())


def head_content(path: Path, name: str) -> bytes:
    return _repo(path).git.show(
        f"HEAD:{name}", stdout_as_string=False, strip_newline_in_stdout=False
    )


def restore_from_head(path: Path, name: str) -> None:
    _repo(path).git.checkout("HEAD", "--", name)


def clone(path: Path, target: Path) -> None:
    """A local clone (hard-linked objects: fast and cheap) for rehearsing an update."""
    _gitpython().Repo(path).clone(str(target))


def discard_changes(path: Path) -> None:
    """Back to HEAD: tracked files reset, new untracked files removed (ignored ones kept).

    Only called on a repository that was clean before we touched it, so nothing of the
    user's is lost.
    """
    repo = _repo(path)
    repo.git.reset("--hard", "--quiet", "HEAD")
    repo.git.clean("-d", "--force", "--quiet")
