"""`uv lock` in a new project, so that its first commit holds the versions it installs.

A generated project's `make install` and its CI install from `uv.lock` (`uv sync --locked`).
Writing the lock needs the package index; where it cannot be reached, generation still
succeeds without the file and says how to add it (`make lock`), never leaving half a lock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.version import InvalidVersion, Version

LOCK_FILE = "uv.lock"
# uv retries a failing index for a while: a generation must not hang on a dead network
TIMEOUT_S = 180


def uv_binary() -> str | None:
    """uv on PATH (the one the project's `make install` will use), else the one installed
    with mlscaffold (a dependency), else none."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return None


def _python_args(python_version: str) -> list[str]:
    """Lock with this interpreter when it satisfies the project's Python: no interpreter
    discovery (or download) by uv. An older one would be refused, so uv picks then."""
    try:
        wanted = Version(python_version)
    except InvalidVersion:
        return []
    running = Version(f"{sys.version_info.major}.{sys.version_info.minor}")
    return ["--python", sys.executable] if running >= wanted else []


def lock(project: Path, python_version: str = "") -> str | None:
    """Write `project/uv.lock`. None when it is written, else why not, in one line."""
    uv = uv_binary()
    if uv is None:
        return "uv is not installed"
    env = {**os.environ, "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)  # mlscaffold's own environment is not the project's
    try:
        done = subprocess.run(
            [uv, "lock", "--quiet", *_python_args(python_version)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        (project / LOCK_FILE).unlink(missing_ok=True)
        return f"uv lock took more than {TIMEOUT_S} s"
    except OSError as error:
        return f"uv could not run: {error.strerror or error}"
    if done.returncode == 0 and (project / LOCK_FILE).is_file():
        return None
    (project / LOCK_FILE).unlink(missing_ok=True)
    return _reason(done.stderr) or f"uv lock exited with {done.returncode}"


def _reason(stderr: str) -> str:
    """uv's error line and what lies under it (its hint, else the deepest cause): "Request
    failed after 3 retries: Connection refused", not a page of causes."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    error = next((line for line in lines if line.lower().startswith("error:")), "")
    hint = next((line for line in lines if line.startswith("hint:")), "")
    causes = [line for line in lines if line.startswith("cause:")]
    under = hint or (causes[-1] if causes else "")
    parts = [part.split(":", 1)[1].strip() for part in (error, under) if part]
    text = "; ".join(parts) if parts else (lines[-1] if lines else "")
    return text if len(text) <= 200 else text[:197] + "..."
