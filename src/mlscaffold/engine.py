"""The only module that talks to Copier: render a project, update one, translate its errors.

`new`, `update`, the tests and the benchmarks all go through here, so Copier's quirks are
handled once: validators and bad answers raise plain ValueError; its user-facing problems
are UserMessageError; answers to questions that do not exist are silently ignored (we
refuse them); conflicts do not change its exit status (the caller inspects git).
Copier is imported inside each function: importing it costs ~0.4 s.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlscaffold import catalog, git
from mlscaffold.answers import printable
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


def _named(message: str, given: dict[str, Any]) -> str:
    """A cast error (`invalid literal for int() ...: 'abc'`) names no question: name the
    given answer whose value it quotes."""
    if _QUESTION.search(message) or not re.search(r"int\(\)|float|convert", message):
        return message
    for name, value in given.items():
        if isinstance(value, str) and repr(value) in message:
            number = "a whole number" if "int()" in message else "a number"
            return f"answer for question '{name}': {value!r} is not {number}"
    return message


@contextmanager
def translate_errors(given: dict[str, Any] | None = None) -> Iterator[None]:
    """Copier's exceptions as one- or two-line user errors; anything else stays a bug.
    `given`: the answers passed in, to name the one a cast error is about."""
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
        raise MlscaffoldError(printable(str(exc).strip().splitlines()[0])) from exc
    except ValueError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        message = printable(_named(message, given or {}))
        raise InvalidAnswerError(message, _answer_hint(message)) from exc


def kind_answers(kind: str) -> list[str]:
    """The answers a kind takes: the shared ones (`kind` aside: it is given apart) and its own."""
    shared = [name for name in catalog.SHARED_ANSWERS if name != "kind"]
    return shared + list(catalog.get(kind).answers)


def _owner(name: str) -> str | None:
    return next((k.name for k in catalog.available() if name in k.answers), None)


def refuse_foreign_answers(data: dict[str, Any], kind: str) -> None:
    """Answers to another kind's questions: Copier would skip them without a word (they are
    asked only for their kind), so `-d image_dataset=mnist` on a sentiment classifier would
    pass silently. Checked before rendering, from the catalogue."""
    given = data.get("kind")
    if given is not None and given != kind:
        raise InvalidAnswerError(
            f"the answers are for kind '{printable(str(given))}', not '{kind}'",
            f"drop kind from the answers, or generate a {printable(str(given))}",
        )
    own = set(kind_answers(kind))
    foreign = [(name, _owner(name)) for name in sorted(data) if name not in own]
    foreign = [(name, owner) for name, owner in foreign if owner]
    if foreign:
        problems = "; ".join(f"{n} belongs to kind '{o}'" for n, o in foreign)
        names = ", ".join(name for name, _ in foreign)
        raise InvalidAnswerError(
            f"{problems}, not to '{kind}'",
            f"drop {names} (or generate that kind); {kind} takes: {', '.join(kind_answers(kind))}",
        )


def refuse_unknown_questions(
    data: dict[str, Any], questions: frozenset[str], kind: str | None = None
) -> None:
    """Copier ignores answers to questions that do not exist; a typo must not pass silently.
    The hint lists the public answers (of `kind`, when known) this template version asks."""
    if kind is not None:
        refuse_foreign_answers(data, kind)
    unknown = sorted(set(data) - questions)
    if unknown:
        public = kind_answers(kind) if kind else catalog.public_answers()
        listed = [q for q in public if q in questions and q != "kind"]
        close = difflib.get_close_matches(unknown[0], listed, n=1)
        guess = f"did you mean {close[0]}? " if close else ""
        raise InvalidAnswerError(
            f"unknown question(s): {', '.join(printable(name) for name in unknown)}",
            f"{guess}questions are: {', '.join(listed)}",
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
    with translate_errors(data):
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
    kind = data.get("kind")
    refuse_unknown_questions(data, questions, kind if isinstance(kind, str) else None)
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
    with translate_errors(data):
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


def check_answers(
    src: str, kind: str, data: dict[str, Any], version: TemplateVersion | None = None
) -> None:
    """Judge answers as `new` would (question names, choices, types, validators) without
    writing anything: a pretend render into a throwaway folder. For answers kept for later,
    such as a cohort's locked answers."""
    from copier import run_copy

    refuse_foreign_answers(data, kind)
    answers = {**data, "kind": kind}
    git.install_quiet_git_environment()
    with translate_errors(), tempfile.TemporaryDirectory(prefix="mlscaffold-check-") as tmp:
        worker = run_copy(
            src,
            Path(tmp) / "project",
            data=answers,
            user_defaults={"author_name": "mlscaffold"},  # the author comes later (roster)
            defaults=True,
            pretend=True,
            quiet=True,
            unsafe=False,
            vcs_ref=version.tag if version else None,
        )
        refuse_unknown_questions(answers, frozenset(worker.template.questions_data), kind)
