"""The only module that talks to Copier: render a project, update one, translate its errors.

`new`, `update`, the tests and the benchmarks all go through here, so Copier's quirks are
handled once: validators and bad answers raise plain ValueError; its user-facing problems
are UserMessageError; answers to questions that do not exist are silently ignored (we
refuse them); conflicts do not change its exit status (the caller inspects git).
Copier is imported inside each function: importing it costs ~0.4 s.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlscaffold import git
from mlscaffold.errors import InvalidAnswerError, MlscaffoldError, UsageError
from mlscaffold.source import TemplateVersion

_QUESTION = re.compile(r"""(?:question|for) ['"](?P<name>[\w-]+)['"]""")

Conflict = Literal["inline", "rej"]


@dataclass(frozen=True)
class Rendered:
    """What a render produced: the questions the template asks and the answers recorded."""

    questions: frozenset[str]
    answers: dict[str, Any]


def _answer_hint(message: str) -> str:
    match = _QUESTION.search(message)
    name = match.group("name") if match else "NAME"
    return f"give a valid answer with -d {name}=VALUE (or answer it at the prompt)"


@contextmanager
def translate_errors() -> Iterator[None]:
    """Copier's exceptions as one- or two-line user errors; anything else stays a bug."""
    from copier.errors import CopierAnswersInterrupt, InteractiveSessionError, UserMessageError

    try:
        yield
    except MlscaffoldError:
        raise
    except CopierAnswersInterrupt as exc:
        raise KeyboardInterrupt from exc
    except InteractiveSessionError as exc:
        raise UsageError(
            "no terminal to ask the questions on", "pass --defaults and answers with -d key=value"
        ) from exc
    except UserMessageError as exc:
        raise MlscaffoldError(str(exc).strip().splitlines()[0]) from exc
    except ValueError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidAnswerError(message, _answer_hint(message)) from exc


def refuse_unknown_questions(data: dict[str, Any], questions: frozenset[str]) -> None:
    """Copier ignores answers to questions that do not exist; a typo must not pass silently."""
    unknown = sorted(set(data) - questions)
    if unknown:
        public = ", ".join(sorted(q for q in questions if not q.startswith("_")))
        raise InvalidAnswerError(
            f"unknown question(s): {', '.join(unknown)}", f"questions are: {public}"
        )


def render(
    src: str,
    target: Path,
    data: dict[str, Any],
    *,
    defaults: bool,
    version: TemplateVersion | None = None,
    user_defaults: dict[str, Any] | None = None,
) -> Rendered:
    """Copier copy of `src` (at `version`, default newest) into `target`."""
    from copier import run_copy

    git.install_quiet_git_environment()
    with translate_errors():
        worker = run_copy(
            src,
            target,
            data=data,
            user_defaults=user_defaults or {},
            defaults=defaults,
            vcs_ref=version.tag if version else None,
            quiet=True,
            unsafe=False,
            cleanup_on_error=False,
        )
    questions = frozenset(worker.template.questions_data)
    refuse_unknown_questions(data, questions)
    return Rendered(questions=questions, answers=dict(worker.answers.combined))


def render_files(
    src: str, answers: dict[str, Any], version: str, names: list[str], folder: str = "project"
) -> dict[str, bytes]:
    """The named files as `version` of the template generated them for these answers."""
    public = {k: v for k, v in answers.items() if not k.startswith("_")}
    with tempfile.TemporaryDirectory(prefix="mlscaffold-pristine-") as tmp:
        target = Path(tmp) / folder  # Copier derives defaults from the folder's name
        from copier import run_copy

        git.install_quiet_git_environment()
        with translate_errors():
            run_copy(
                src, target, data=public, defaults=True, vcs_ref=version, quiet=True, unsafe=False
            )
        return {n: (target / n).read_bytes() for n in names if (target / n).is_file()}


def update(
    root: Path, data: dict[str, Any], version: TemplateVersion, conflict: Conflict
) -> frozenset[str]:
    """Copier's three-way update of the project at `root` to `version`; the questions."""
    from copier import run_update

    git.install_quiet_git_environment()
    with translate_errors():
        worker = run_update(
            dst_path=root,
            data=data,
            defaults=True,
            overwrite=True,
            skip_answered=True,
            vcs_ref=version.tag,
            conflict=conflict,
            quiet=True,
            unsafe=False,
        )
    return frozenset(worker.template.questions_data)


def template_questions(src: str, version: TemplateVersion | None = None) -> frozenset[str]:
    """The question names of a template version (a pretend render: nothing is written)."""
    from copier import run_copy

    git.install_quiet_git_environment()
    with translate_errors(), tempfile.TemporaryDirectory(prefix="mlscaffold-questions-") as tmp:
        worker = run_copy(
            src,
            Path(tmp) / "project",
            user_defaults={"author_name": "mlscaffold"},  # any valid answer: nothing is written
            defaults=True,
            pretend=True,
            quiet=True,
            unsafe=False,
            vcs_ref=version.tag if version else None,
        )
        return frozenset(worker.template.questions_data)
