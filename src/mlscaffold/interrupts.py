"""SIGTERM and SIGHUP (a `timeout`, a closed terminal, a CI cancel) get Ctrl-C's treatment.

Python ends on SIGTERM without running `finally` blocks, which would leave a half-applied
update or a staging folder behind. Inside `terminate_as_interrupt()` those signals raise
`Terminated`, so the same clean-up as for Ctrl-C runs; the CLI then exits 128 + signal.

`deferrable()` is for the one step that must not be cut in two (an update carrying its
result into the project): a signal before `hold()` acts at once, one after waits for a
`checkpoint()` (where stopping is still clean) or for the end of the step: the step is then
either undone or complete, never cut in two, and what the user is told can match it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

HANDLED = tuple(
    sig for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if sig
)
Handler = Callable[[int, FrameType | None], Any] | int | None  # what signal.signal returns


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


class Deferral:
    """What `deferrable()` yields: hold signals from a point on, act on them where safe."""

    def __init__(self) -> None:
        self.holding = False
        self.pending: int | None = None
        self.previous: dict[int, Handler] = {}

    def hold(self) -> None:
        """From now on a signal waits for `checkpoint()` or the end of the block."""
        self.holding = True

    def checkpoint(self) -> None:
        """Act on a signal that came while holding (stopping here leaves nothing half-done)."""
        if self.pending is not None:
            signum, self.pending = self.pending, None
            self._pass_on(signum, None)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.previous.get(signum) == signal.SIG_IGN:
            return  # ignored before we came (a background job's Ctrl-C): still ignored
        if self.holding:
            self.pending = self.pending or signum
            return
        self.holding = True  # the clean-up the first signal starts must not be cut short
        self._pass_on(signum, frame)
        self.holding = False  # the handler raised nothing: carry on as before

    def _pass_on(self, signum: int, frame: FrameType | None) -> None:
        """What the signal would have done without us: raise, be ignored, or end us."""
        handler = self.previous.get(signum, signal.SIG_DFL)
        if callable(handler):
            handler(signum, frame)
        elif handler == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)


@contextlib.contextmanager
def deferrable() -> Iterator[Deferral]:
    """Ctrl-C, SIGTERM and SIGHUP as before until `hold()`; after it they wait, and one still
    waiting at the end of the block is raised there, the block's work complete."""
    deferral = Deferral()
    if threading.current_thread() is not threading.main_thread():
        yield deferral  # signals reach only the main thread: nothing to hold here
        return
    for sig in (signal.SIGINT, *HANDLED):
        previous = signal.getsignal(sig)
        if previous is not None:  # installed outside Python: leave it alone
            deferral.previous[sig] = signal.signal(sig, deferral._handle)
    try:
        yield deferral
    finally:
        for sig, handler in deferral.previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
    if deferral.pending is not None:
        signal.raise_signal(deferral.pending)  # the restored handler raises it here
