"""Progress of a bulk run: one line per repository, with the estimated time left."""

from __future__ import annotations

import time

import pytest

from mlscaffold.cohort import parallel


@pytest.mark.parametrize(
    ("elapsed", "done", "total", "expected"),
    [
        (60.0, 1, 2, " · about 60 s left"),  # 60 s per repository, one to go
        (60.0, 2, 10, " · about 4 min left"),  # 30 s each, 8 to go
        (3600.0, 10, 1000, " · about 99.0 h left"),
        (2.0, 1, 100, ""),  # too early to tell: no estimate from one quick failure
        (60.0, 5, 5, ""),  # nothing left
    ],
)
def test_time_left_is_the_mean_so_far_times_what_remains(
    elapsed: float, done: int, total: int, expected: str
) -> None:
    assert parallel.time_left(elapsed, done, total) == expected


def test_each_progress_line_names_the_repository_and_what_happened() -> None:
    def work(item: int) -> int:
        if item == 2:
            raise ValueError("broken")
        time.sleep(0.01)
        return item * 10

    lines: list[str] = []
    outcomes = parallel.run_all(
        [1, 2, 3],
        work,
        jobs=2,
        label=lambda item: f"repo-{item}",
        describe=lambda result: f"got {result}",
        progress=lines.append,
    )
    assert [o.result for o in outcomes] == [10, None, 30]
    assert outcomes[1].error == "ValueError: broken"
    assert sorted(line.split("] ", 1)[1] for line in lines) == [
        "repo-1: got 10",
        "repo-2: error: ValueError: broken",
        "repo-3: got 30",
    ]
    assert [line.split("]")[0] for line in lines] == ["[1/3", "[2/3", "[3/3"]
