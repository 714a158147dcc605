"""The few git operations mlscaffold needs, through GitPython (imported lazily: it costs ~0.1 s)."""

from __future__ import annotations

import os
import shutil
import types
from pathlib import Path
from typing import TYPE_CHECKING

from mlscaffold.errors import GitMissingError

if TYPE_CHECKING:
    from git import Repo


def preload() -> None:
    """Import GitPython on a background thread while Copier renders (its subprocess waits
    leave the interpreter idle), so the first commit does not pay the ~50 ms import after."""
    import threading

    def _import() -> None:
        os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
        import git  # noqa: F401

    threading.Thread(target=_import, daemon=True).start()


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


def init_and_commit(path: Path, message: str, fallback_name: str, fallback_email: str) -> str:
    """`git init`, add everything, first commit; returns the commit id.

    A machine with no `user.name`/`user.email` still gets a commit: the author from the
    answers is used, so `new` never fails on a fresh laptop or CI runner.
    """
    git = _gitpython()
    repo = git.Repo.init(path, initial_branch="main")
    reader = repo.config_reader()
    name = reader.get_value("user", "name", default="") or fallback_name or "mlscaffold"
    email = (
        reader.get_value("user", "email", default="")
        or fallback_email
        or "mlscaffold@users.noreply.github.com"
    )
    actor = git.Actor(str(name), str(email))
    repo.git.add(A=True)
    commit = repo.index.commit(message, author=actor, committer=actor)
    return commit.hexsha


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
