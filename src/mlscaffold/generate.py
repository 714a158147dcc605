"""`new`: render a kind into a fresh folder, commit it, and never leave anything half-made.

The project is rendered into a hidden temporary folder beside the destination (same
filesystem), committed there, then moved into place with one rename. Any failure or Ctrl-C
removes the temporary folder, so the destination either appears complete or not at all.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscaffold import catalog, engine, git, source
from mlscaffold.errors import DestinationNotEmptyError, MlscaffoldError

Progress = Callable[[str], None]


@dataclass
class NewRequest:
    kind: str
    dest: Path
    data: dict[str, Any] = field(default_factory=dict)
    defaults: bool = False
    version: str | None = None
    git: bool = True
    force: bool = False


@dataclass
class NewResult:
    dest: Path
    version: str
    files: int
    committed: bool


def _check_destination(dest: Path, force: bool) -> None:
    if dest.exists() and not dest.is_dir():
        raise DestinationNotEmptyError(
            f"{dest} exists and is not a folder", "choose another destination"
        )
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise DestinationNotEmptyError(
            f"{dest} is not empty",
            "choose a new folder, empty this one, or pass --force to write into it",
        )


def _move_into_place(built: Path, dest: Path) -> None:
    if not dest.exists():
        built.rename(dest)  # one rename: the project appears whole or not at all
    elif not any(dest.iterdir()):
        # Keep the folder itself (it may be the user's working directory): move its contents.
        for child in built.iterdir():
            child.rename(dest / child.name)
    else:
        shutil.copytree(built, dest, dirs_exist_ok=True)  # --force into a non-empty folder


def _own_version() -> str:
    own = source.newest(source.shipped_bundle())
    if own is None:
        raise MlscaffoldError("this mlscaffold's template bundle holds no version: reinstall it")
    return str(own)


def generate(request: NewRequest, progress: Progress = lambda _msg: None) -> NewResult:
    catalog.get(request.kind)
    dest = request.dest.expanduser().absolute()
    _check_destination(dest, request.force)
    if request.git:
        git.require_git()
    src = source.ensure_user_source()
    # Each mlscaffold generates its own template version, even when a newer mlscaffold has
    # refreshed the per-user bundle with later ones.
    version = source.resolve(request.version or _own_version(), src)
    created = [p for p in (dest.parent, *dest.parent.parents) if not p.exists()]
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.mlscaffold-", dir=dest.parent))
    succeeded = False
    try:
        target = staging / dest.name  # Copier names things after the folder (_folder_name)
        progress(f"rendering {request.kind} from template {version}")
        rendered = engine.render(
            src,
            target,
            {**request.data, "kind": request.kind},
            defaults=request.defaults,
            version=version,
        )
        answers = rendered.answers
        files = sum(1 for p in target.rglob("*") if p.is_file())
        committed = request.git and not git.is_repository_root(dest)
        if committed:
            progress("initialising git repository and making the first commit")
            git.init_and_commit(
                target,
                f"Generate {request.kind} project with mlscaffold (template {version})",
                str(answers.get("author_name", "")),
                str(answers.get("author_email", "")),
            )
        _move_into_place(target, dest)
        succeeded = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not succeeded:  # parents we made for this project go too
            for folder in created:
                with contextlib.suppress(OSError):
                    folder.rmdir()
    return NewResult(dest=dest, version=str(version), files=files, committed=committed)
