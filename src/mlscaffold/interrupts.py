"""SIGTERM and SIGHUP (a `timeout`, a closed terminal, a CI cancel) get Ctrl-C's treatment.

Python ends on SIGTERM without running `finally` blocks, which would leave a half-applied
update or a staging folder behind. Inside `terminate_as_interrupt()` those signals raise
`Terminated`, so the same clean-up as for Ctrl-C runs; the CLI then exits 128 + signal.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

HANDLED = tuple(
    sig for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if sig
)


class Terminated(BaseException):
    """The process was asked to stop by a signal; clean-up runs as for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into `Terminated` for the duration (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise) for sig in HANDLED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
