"""The sandbox student code runs in: what it cannot see, reach or leave behind. Fast: each
case is one bubblewrap start (skipped where bubblewrap is not installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mlscaffold.cohort import cgroups, sandbox

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing")


def _run(tmp_path: Path, code: str, **limits: Any) -> sandbox.Result:
    box = sandbox.choose(None, None, unsafe=False)
    python = sandbox.interpreter(sys.executable)
    project, out = tmp_path / "project", tmp_path / "out"
    project.mkdir(parents=True, exist_ok=True)
    out.mkdir(exist_ok=True)
    layout = sandbox.Layout(project, out, readonly=python.folders)
    env = {"PATH": f"{python.bin}:/usr/bin:/bin", "HOME": "/grading/home"}
    return box.run(
        [python.python, "-c", code], layout, env, sandbox.Limits(**{"seconds": 60, **limits})
    )


def _leftovers(marker: str) -> list[str]:
    """Processes whose command line holds `marker`, and this grader's step cgroups still there."""
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    found = [line for line in listing.splitlines() if marker in line]
    box = sandbox.choose(None, None, unsafe=False)
    assert box.caps is not None
    for parent in box.caps.parents:
        found += [str(p) for p in parent.glob(f"mlscaffold-{os.getpid()}-*")]
    return found


@needs_bwrap
def test_the_instructor_and_other_students_are_not_there(tmp_path: Path) -> None:
    secret = tmp_path / "instructor" / "grading" / "tests" / "test_hidden.py"
    secret.parent.mkdir(parents=True)
    secret.write_text("SECRET = 1\n")
    code = (
        "import os, pathlib\n"
        f"print('visible' if pathlib.Path({str(secret)!r}).exists() else 'hidden')\n"
        "print('shadow' if os.path.exists('/etc/shadow') else 'no-shadow')\n"
        "print(sorted(os.listdir('/grading')))\n"
        "open('/grading/project/made', 'w').write('ok')\n"
        "try:\n    open('/usr/evil', 'w')\nexcept OSError:\n    print('usr read-only')\n"
    )
    result = _run(tmp_path, code)
    assert result.ok, result.output
    assert "hidden" in result.output and "visible" not in result.output
    assert "no-shadow" in result.output and "usr read-only" in result.output
    assert "['home', 'out', 'project']" in result.output
    assert (tmp_path / "project" / "made").read_text() == "ok"


@needs_bwrap
def test_no_network(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N ..."
        port = int(line.split(" port ")[1].split()[0])
        code = (
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), 2)\n    print('reached')\n"
            "except OSError as exc:\n    print('refused', exc)\n"
        )
        result = _run(tmp_path, code)
    finally:
        server.kill()
    assert "refused" in result.output and "reached" not in result.output


@needs_bwrap
def test_every_process_dies_with_the_sandbox(tmp_path: Path) -> None:
    marker = f"sandbox-test-{time.monotonic_ns()}"
    code = (
        "import subprocess\n"
        f"subprocess.Popen(['setsid', 'sleep', '300', {marker!r}], start_new_session=True)\n"
        "print('started')\n"
    )
    result = _run(tmp_path, code)
    assert result.ok and "started" in result.output
    time.sleep(0.5)
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert marker not in listing


@needs_bwrap
def test_timeouts_and_floods_are_bounded(tmp_path: Path) -> None:
    slow = _run(tmp_path, "import time; time.sleep(60)", seconds=1)
    assert slow.timed_out and slow.returncode is None and slow.seconds < 10
    flood = _run(tmp_path, "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 10**6)")
    assert flood.ok and len(flood.output) <= sandbox.Limits(1).output
    assert flood.dropped >= 99 * 10**6


@needs_bwrap
def test_memory_is_limited(tmp_path: Path) -> None:
    result = _run(tmp_path, "x = bytearray(8 * 1024**3)\nprint('allocated')")
    assert not result.ok and "allocated" not in result.output and "MemoryError" in result.output


@needs_bwrap
def test_a_fork_bomb_stops_at_the_process_cap(tmp_path: Path) -> None:
    """uid 0 of a user namespace is not held by RLIMIT_NPROC: 3,000 processes started in 7 s."""
    marker = f"fork-bomb-{time.monotonic_ns()}"
    code = (
        f"import os, time\nmarker = {marker!r}\nstarted = failed = 0\n"
        "for _ in range(5000):\n"
        "    try:\n        pid = os.fork()\n"
        "    except OSError:\n        failed += 1\n        continue\n"
        "    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n"
        "    started += 1\n"
        "print('started', started, 'failed', failed)\n"
    )
    result = _run(tmp_path, code, processes=256)
    assert not result.ok and result.resource_limit, result
    assert "resource limit" in result.limit and "256 processes" in result.limit
    started = int(result.output.split()[1])
    assert 200 < started < 256, result.output
    assert result.seconds < 30, result
    assert _leftovers(marker) == []


@needs_bwrap
def test_the_memory_of_a_whole_step_is_capped_and_a_neighbour_runs_on(tmp_path: Path) -> None:
    """Eight processes of 2 GiB each stay under the per-process limit but not under the step's
    cap (3 GiB here, so the test itself is cheap); a step graded beside it is not touched."""
    code = (
        "import os\nkids = []\nfor _ in range(8):\n    pid = os.fork()\n"
        "    if pid == 0:\n        block = bytearray(b'x') * (2 << 30)\n        os._exit(0)\n"
        "    kids.append(pid)\n"
        "print([os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]) for k in kids])\n"
    )
    neighbour: list[sandbox.Result] = []

    def honest() -> None:
        time.sleep(0.5)  # while the big one allocates
        neighbour.append(_run(tmp_path / "neighbour", "print(sum(i * i for i in range(10**6)))"))

    beside = threading.Thread(target=honest)
    beside.start()
    result = _run(tmp_path / "greedy", code, total_memory=3 * sandbox.GiB)
    beside.join()
    assert not result.ok and result.resource_limit, result
    assert "3 GiB" in result.limit and "-9" in result.output  # the kernel killed some
    assert result.peak_memory is not None and result.peak_memory <= 3 * sandbox.GiB
    assert result.seconds < 60, result
    assert neighbour[0].ok and neighbour[0].output.strip() == str(sum(i * i for i in range(10**6)))
    assert not neighbour[0].resource_limit
    assert _leftovers(f"mlscaffold-never-{time.monotonic_ns()}") == []


@needs_bwrap
def test_without_cgroups_grading_refuses_unless_unsafe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cgroups, "ROOT", tmp_path / "no-cgroups")
    with pytest.raises(sandbox.SandboxUnavailableError, match="cannot cap the processes") as exc:
        sandbox.choose(None, None, unsafe=False)
    assert exc.value.exit_code == 2 and "--unsafe" in str(exc.value.hint)
    box = sandbox.choose(None, None, unsafe=True)
    assert box.name == "bwrap" and box.caps is None  # still isolated, only uncapped


def test_a_container_engine_that_cannot_run_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
        with pytest.raises(sandbox.SandboxUnavailableError, match="cannot reach"):
            sandbox.choose("docker", "grader:1", unsafe=False)
    with pytest.raises(sandbox.UsageError, match="--image"):
        sandbox.choose("docker", None, unsafe=False)


def test_a_container_step_has_no_network_and_a_read_only_root(tmp_path: Path) -> None:
    layout = sandbox.Layout(tmp_path / "p", tmp_path / "o", tmp_path / "i")
    command = sandbox.Sandbox("podman", "img:1").command(
        ["python", "-V"], layout, {"HOME": "/grading/home"}
    )
    assert command[:2] == ["podman", "run"] and "--read-only" in command
    assert command[command.index("--network") + 1] == "none"
    assert f"{tmp_path / 'i'}:/grading/inputs:ro" in command
    assert command[command.index("--pids-limit") + 1] == "512"
    assert command[command.index("--memory") + 1] == str(8 * sandbox.GiB)
    assert command[-3:] == ["img:1", "python", "-V"]


def test_a_built_environment_already_holds_what_packages_write_on_first_import(
    tmp_path: Path,
) -> None:
    """Gradio writes a hash seed beside its code on first import: a shared grading
    environment changed under a running `cohort grade` (found by the attack test in CI)."""
    from mlscaffold.cohort.environment import _settle

    package = tmp_path / "lib" / "python3.11" / "site-packages" / "gradio"
    package.mkdir(parents=True)
    _settle(tmp_path)
    seed = (package / "hash_seed.txt").read_text()
    assert len(seed) == 32 and int(seed, 16) >= 0
    _settle(tmp_path)
    assert (package / "hash_seed.txt").read_text() == seed, "a seed once written is kept"
