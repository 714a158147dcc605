"""Turn Copier's exceptions into one- or two-line user errors.

Copier reports a failed validator or a bad choice as a plain ValueError; its own
user-facing problems as UserMessageError. Everything else is a bug and stays a bug.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from mlscaffold.errors import InvalidAnswerError, MlscaffoldError, UsageError

_QUESTION = re.compile(r"""(?:question|for) ['"](?P<name>[\w-]+)['"]""")


def _answer_hint(message: str) -> str:
    match = _QUESTION.search(message)
    name = match.group("name") if match else "NAME"
    return f"give a valid answer with -d {name}=VALUE (or answer it at the prompt)"


@contextmanager
def translate_copier_errors() -> Iterator[None]:
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
