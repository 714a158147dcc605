"""Run one job per repository on N workers: a failure in one is that one's result, never a stop.

Copier and git change the working directory while they run, so jobs that render templates
run in worker processes (each imports Copier once and handles many repositories); jobs that
only wait on subprocesses (grading) run in threads.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mlscaffold.errors import MlscaffoldError

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class Outcome(Generic[Item, Result]):
    item: Item
    result: Result | None = None
    error: str | None = None  # one line: what went wrong with this repository


def guarded(work: Callable[[Any], Any], item: Any) -> tuple[Any, str | None]:
    """(result, None) or (None, one-line error): exceptions never cross the worker boundary."""
    try:
        return work(item), None
    except MlscaffoldError as exc:
        return None, exc.message
    except Exception as exc:
        return None, f"{exc.__class__.__name__}: {exc}"


def time_left(elapsed: float, done: int, total: int) -> str:
    """` · about 3 min left` after a progress line: the mean wall time per finished
    repository so far (workers included) times those still to do; nothing when none are
    left, nor before a few seconds have passed (no estimate from one fast failure)."""
    if done >= total or done <= 0 or elapsed < 5:
        return ""
    seconds = elapsed / done * (total - done)
    if seconds < 90:
        return f" · about {max(5, round(seconds / 5) * 5)} s left"
    if seconds < 5400:
        return f" · about {round(seconds / 60)} min left"
    return f" · about {seconds / 3600:.1f} h left"


def _executor(jobs: int, processes: bool) -> Executor:
    if processes and jobs > 1:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method))
    return ThreadPoolExecutor(max(1, jobs))


def run_all(
    items: Iterable[Item],
    work: Callable[[Item], Result],
    *,
    jobs: int,
    label: Callable[[Item], str],
    describe: Callable[[Result], str],
    progress: Callable[[str], None],
    processes: bool = False,
    stop: Callable[[], None] | None = None,
) -> list[Outcome[Item, Result]]:
    """Outcomes in the order of `items`; a progress line `[k/n] label: what happened` each.
    With `processes`, `work` must be a module-level function (it is sent to the workers);
    `stop` ends work in flight when the run is interrupted."""
    outcomes = [Outcome[Item, Result](item) for item in items]
    pool = _executor(jobs, processes)
    started = time.monotonic()
    try:
        futures = {pool.submit(guarded, work, o.item): o for o in outcomes}
        for done, future in enumerate(as_completed(futures), start=1):
            outcome = futures[future]
            outcome.result, outcome.error = future.result()
            what = f"error: {outcome.error}" if outcome.error else describe(outcome.result)
            left = time_left(time.monotonic() - started, done, len(outcomes))
            progress(f"[{done}/{len(outcomes)}] {label(outcome.item)}: {what}{left}")
    except BaseException:  # Ctrl-C, SIGTERM: start nothing new, stop what runs
        pool.shutdown(wait=False, cancel_futures=True)
        if stop is not None:
            stop()
        raise
    pool.shutdown()
    return outcomes
