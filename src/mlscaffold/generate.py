"""`new`: render a kind into a fresh folder, commit it, and never leave anything half-made.

The project is rendered into a hidden temporary folder beside the destination (same
filesystem), committed there, then moved into place with one rename. Any failure or Ctrl-C
removes the temporary folder, so the destination either appears complete or not at all.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscaffold import catalog, engine, git, source, staging, uvlock
from mlscaffold.errors import (
    DestinationNotEmptyError,
    DestinationUnwritableError,
    InvalidAnswerError,
    MlscaffoldError,
)

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
    # write uv.lock before the first commit: the lock shipped for the template version where
    # it fits, else (resolve_lock) `uv lock`, which needs the package index. The CLI asks for
    # both; `cohort new` only for the shipped lock (every student the same versions, no
    # resolution per repository); grading's reference project for neither
    lock: bool = False
    resolve_lock: bool = True
    # files to add before the first commit (cohort mode: the grading workflow and rubric)
    add_files: Callable[[Path], None] | None = None


@dataclass
class NewResult:
    dest: Path
    version: str
    files: int
    committed: bool
    notes: list[str] = field(default_factory=list)  # what the user should know (and fix)
    locked: bool = False  # uv.lock written


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


def own_version() -> str:
    own = source.own_version()
    if own is None:
        raise MlscaffoldError("this mlscaffold's template bundle holds no version: reinstall it")
    return str(own)


def neutral_author(project_name: str) -> str:
    """The author when no one is known: wording a user will obviously replace, never a
    login name ("root" ended up as the copyright holder in LICENSE) nor "Your Name"."""
    return f"The {project_name} authors" if len(project_name) <= 88 else "The project authors"


def _author_defaults(where: Path, request: NewRequest, dest: Path) -> dict[str, str]:
    """The git identity. Without one: at the prompt, the template's own default (the
    neutral wording, following the project name typed); with --defaults, the neutral
    wording for the project name Copier will derive (older template versions have none)."""
    from jinja2.filters import do_title

    identity = git.identity(where)
    name = identity.get("user.name", "").strip()
    found = {"author_email": identity.get("user.email", "")}
    if name:
        return {"author_name": name, **found}
    if not request.defaults:
        return found
    project = str(request.data.get("project_name") or "").strip()
    project = project or do_title(dest.name.replace("-", " ").replace("_", " "))
    return {"author_name": neutral_author(project), **found}


def _has_identity(where: Path) -> bool:
    return bool(git.identity(where).get("user.name", "").strip())


# what sets a git identity, for the notes below: git needs both for the user's own commits
GIT_IDENTITY = (
    'git config --global user.name "Your Name" and git config --global user.email you@example.com'
)


def _author_notes(answers: dict[str, Any], identity: bool) -> list[str]:
    """Say so when the author is the neutral wording, not a person's name."""
    project, author = str(answers.get("project_name", "")), str(answers.get("author_name", ""))
    if identity or author not in (neutral_author(project), neutral_author(project.strip())):
        return []
    return [
        f"author_name is '{author}' (no git identity found): LICENSE, MODEL_CARD.md and "
        "pyproject.toml name it; replace it with your name there, or generate again with "
        f'-d author_name="Your Name"; for next time and for your own commits: {GIT_IDENTITY}'
    ]


def _email_notes(where: Path, committed: bool) -> list[str]:
    """A git user.name without a user.email: the first commit is made (with the answers'
    e-mail or a placeholder), but git refuses the user's own commits until it is set."""
    found = git.identity(where)
    if (
        not committed
        or not found.get("user.name", "").strip()
        or found.get("user.email", "").strip()
    ):
        return []
    return [
        "git has a user.name but no user.email, which it needs for your own commits: "
        "git config --global user.email you@example.com"
    ]


def _pytorch_index(project: Path) -> str:
    """The URL of the PyTorch wheel index a project's pyproject.toml takes torch from
    (the image kind: [[tool.uv.index]] pytorch-cpu), or "" when it has none."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    indexes = meta.get("tool", {}).get("uv", {}).get("index", [])
    return next((str(i.get("url", "")) for i in indexes if "pytorch" in str(i.get("name", ""))), "")


def _check_paths(kind: str, answers: dict[str, Any], dest: Path) -> None:
    """Answers naming a local file (a user's CSV) must name one that exists; relative paths
    are read from the project folder, as the project's own commands will read them."""
    for name in catalog.get(kind).path_answers:
        value = str(answers.get(name) or "").strip()
        if not value or "://" in value:
            continue
        path = Path(value).expanduser()
        if not (path if path.is_absolute() else dest / path).exists():
            raise InvalidAnswerError(
                f"{name} '{value}' does not exist",
                "give an absolute path or a URL (relative paths are read from the project "
                "folder), or leave it empty and set data.source later",
            )


def _check_package_name(kind: str, answers: dict[str, Any]) -> None:
    """A package named like one the project depends on, even indirectly (h11 under uvicorn),
    shadows it: uv refuses to lock or install it and imports find the wrong module."""
    name = answers.get("package_name")
    if isinstance(name, str) and uvlock.dist_name(name) in uvlock.dependency_names(kind):
        raise InvalidAnswerError(
            f"package_name '{name}' is the name of a package {kind} projects depend on",
            "choose another with -d package_name=NAME (or another folder name)",
        )


def _lock(
    target: Path, request: NewRequest, answers: dict[str, Any], notes: list[str], progress: Progress
) -> bool:
    """uv.lock for the first commit: the one shipped for this template version where it
    fits, else a fresh `uv lock`; where neither can be had, a note and no file."""
    python_version = str(answers.get("python_version", ""))
    package = str(answers.get("package_name", ""))
    if uvlock.adopt_shipped(target, request.kind, package, python_version):
        progress("dependencies locked to the versions tested with this template (uv.lock)")
        return True
    if not request.resolve_lock:
        notes.append("no uv.lock: no shipped lock fits (make install writes one)")
        return False
    progress("locking dependencies with uv (uv.lock)...")
    why = uvlock.lock(target, python_version)
    if why is None:
        return True
    torch_index = _pytorch_index(target)
    if torch_index:  # the same advice as the Makefile's and the README's
        notes.append(
            f"no uv.lock ({why}): PyTorch comes from its own index, {torch_index}; run make "
            "lock once it and PyPI answer, and commit uv.lock. Where that index never answers: "
            "make install TORCH_INDEX=<a mirror of it> (remembered in .torch-index); uv.lock is "
            "resolved again against it: keep that uv.lock out of your commits (CI installs from "
            "PyTorch's own index)"
        )
        return False
    notes.append(
        f"no uv.lock ({why}): run make lock in the project once the package index is "
        "reachable, and commit uv.lock (make install works without it, unlocked)"
    )
    return False


@contextlib.contextmanager
def _staged(dest: Path, progress: Progress) -> Iterator[Path]:
    """The staging folder beside `dest` (its parents made first); a folder that cannot be
    made or written in is a usage error naming it, not an OSError about a temporary name."""
    with contextlib.ExitStack() as stack:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            for stale in staging.remove_stale(dest.parent):
                progress(f"removed {stale.name}, left by an interrupted 'mlscaffold new'")
            folder = stack.enter_context(staging.staging_folder(dest))
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise DestinationUnwritableError(
                f"cannot create {dest}: {reason} in {_existing(dest.parent)}",
                "choose a folder you can write to",
            ) from exc
        yield folder


def _existing(folder: Path) -> Path:
    """The nearest folder on the way to `folder` that exists (where creating failed)."""
    return next((p for p in (folder, *folder.parents) if p.exists()), folder)


def generate(request: NewRequest, progress: Progress = lambda _msg: None) -> NewResult:
    catalog.get(request.kind)
    engine.refuse_foreign_answers(request.data, request.kind)  # before anything is written
    dest = request.dest.expanduser().absolute()
    _check_destination(dest, request.force)
    git.require_git()  # the template source is a git bundle, even with --no-git
    src = source.ensure_user_source(progress)
    # Each mlscaffold generates its own template version, even when a newer mlscaffold has
    # refreshed the per-user bundle with later ones.
    version = source.resolve(request.version or own_version(), src)
    created = [p for p in (dest.parent, *dest.parent.parents) if not p.exists()]
    succeeded = False
    try:
        with _staged(dest, progress) as folder:
            target = folder / dest.name  # Copier names things after the folder (_folder_name)
            progress(f"rendering {request.kind} from template {version}")
            offered = _author_defaults(dest.parent, request, dest)
            rendered = engine.render(
                src,
                target,
                {**request.data, "kind": request.kind},
                defaults=request.defaults,
                version=version,
                user_defaults=offered,
            )
            _check_paths(request.kind, rendered.answers, dest)
            _check_package_name(request.kind, rendered.answers)
            answers = rendered.answers
            notes = _author_notes(answers, identity=_has_identity(dest.parent))
            if request.add_files:
                request.add_files(target)
            locked = request.lock and _lock(target, request, answers, notes, progress)
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
            notes += _email_notes(dest.parent, committed)
            _move_into_place(target, dest)
            succeeded = True
    finally:
        if not succeeded:  # parents we made for this project go too
            for folder in created:
                with contextlib.suppress(OSError):
                    folder.rmdir()
    return NewResult(
        dest=dest,
        version=str(version),
        files=files,
        committed=committed,
        notes=notes,
        locked=locked,
    )
