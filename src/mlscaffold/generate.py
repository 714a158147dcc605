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

from mlscaffold import answers as answer_utils
from mlscaffold import catalog, gitops, source
from mlscaffold.copier_bridge import translate_copier_errors
from mlscaffold.errors import DestinationNotEmptyError, InvalidAnswerError

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


def _render(request: NewRequest, src: str, tag: str | None, target: Path) -> None:
    from copier import run_copy

    data = {**request.data, "kind": request.kind}
    with translate_copier_errors():
        worker = run_copy(
            src,
            target,
            data=data,
            defaults=request.defaults,
            vcs_ref=tag,
            quiet=True,
            unsafe=False,
            cleanup_on_error=False,
        )
    # Copier ignores answers to questions that do not exist; a typo must not pass silently.
    questions = set(worker.template.questions_data)
    unknown = answer_utils.unknown_keys(data, questions)
    if unknown:
        raise InvalidAnswerError(
            f"unknown question(s): {', '.join(unknown)}",
            f"questions are: {', '.join(sorted(q for q in questions if not q.startswith('_')))}",
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


def generate(request: NewRequest, progress: Progress = lambda _msg: None) -> NewResult:
    catalog.get(request.kind)
    dest = request.dest.expanduser().absolute()
    _check_destination(dest, request.force)
    if request.git:
        gitops.require_git()
    src = source.ensure_user_source()
    tag = source.tag_for(request.version, src) if request.version else None  # None: newest
    created = [p for p in (dest.parent, *dest.parent.parents) if not p.exists()]
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.mlscaffold-", dir=dest.parent))
    succeeded = False
    try:
        target = staging / dest.name  # Copier names things after the folder (_folder_name)
        progress(
            f"rendering {request.kind} from {f'template {tag}' if tag else 'the newest template'}"
        )
        _render(request, src, tag, target)
        answers = answer_utils.load_file(target / ".copier-answers.yml", keep_private=True)
        tag = str(answers.get("_commit", tag))
        files = sum(1 for p in target.rglob("*") if p.is_file())
        committed = request.git and not gitops.is_repository_root(dest)
        if committed:
            progress("initialising git repository and making the first commit")
            gitops.init_and_commit(
                target,
                f"Generate {request.kind} project with mlscaffold (template {tag})",
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
    return NewResult(dest=dest, version=tag.removeprefix("v"), files=files, committed=committed)
