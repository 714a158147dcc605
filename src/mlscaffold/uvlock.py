"""uv.lock in a new project, so that its first commit holds the versions it installs.

A generated project's `make install` and its CI install from `uv.lock` (`uv sync --locked`).
Each release ships, per kind, the lock resolved when that template version was cut
(`scripts/release.py`): the versions mlscaffold's own CI installed. A new project takes it,
renamed, when uv confirms offline that it matches the project's pyproject.toml: no package
index, no resolution, the same versions for every student of a cohort. Otherwise (another
Python floor, an older template version, no shipped lock) `uv lock` resolves one, which needs
the index; where it cannot be reached, generation still succeeds without the file and says
how to add it (`make lock`), never leaving half a lock.
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.version import InvalidVersion, Version

LOCK_FILE = "uv.lock"
SHIPPED_LOCKS = Path(__file__).parent / "data" / "locks"
LOCKS_ENV = "MLSCAFFOLD_SHIPPED_LOCKS"  # another folder of them (template authors, tests)
# the project name a shipped lock is resolved under (package_name mlscaffold_lock_placeholder)
PLACEHOLDER = "mlscaffold-lock-placeholder"
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


def shipped_lock(kind: str) -> Path:
    return Path(os.environ.get(LOCKS_ENV) or SHIPPED_LOCKS) / f"{kind}.uv.lock.xz"


def dependency_names(kind: str) -> frozenset[str]:
    """Every package the kind's shipped lock resolves (direct and indirect), PEP 503 names;
    empty where the kind ships no lock (the image kind)."""
    archive = shipped_lock(kind)
    if not archive.is_file():
        return frozenset()
    text = lzma.decompress(archive.read_bytes()).decode("utf-8")
    names = re.findall(r'^\[\[package\]\]\nname = "([^"]+)"$', text, re.MULTILINE)
    return frozenset(dist_name(name) for name in names) - {PLACEHOLDER}


def dist_name(name: str) -> str:
    """A project name as uv writes it in a lock (PEP 503 normalised)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _uv_lock(uv: str, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)  # mlscaffold's own environment is not the project's
    return subprocess.run(
        [uv, "lock", "--quiet", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT_S,
    )


def adopt_shipped(project: Path, kind: str, name: str, python_version: str = "") -> bool:
    """Write the kind's shipped lock as `project/uv.lock`, renamed for the project `name`
    (its package name: the template derives the distribution name from it), kept only where
    uv finds it matches the project (checked offline, in well under a second; a name that
    does not match the project's is refused there too); True when kept."""
    uv, archive = uv_binary(), shipped_lock(kind)
    if uv is None or not archive.is_file():
        return False
    text = lzma.decompress(archive.read_bytes()).decode("utf-8")
    target = project / LOCK_FILE
    target.write_text(text.replace(f'"{PLACEHOLDER}"', f'"{dist_name(name)}"'), "utf-8")
    if fits(project, python_version):
        return True
    target.unlink(missing_ok=True)
    return False


def fits(project: Path, python_version: str = "") -> bool:
    """Whether `project/uv.lock` still matches its pyproject.toml (uv, offline, no index)."""
    uv = uv_binary()
    if uv is None or not (project / LOCK_FILE).is_file():
        return False
    try:
        done = _uv_lock(uv, project, "--locked", "--offline", *_python_args(python_version))
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def lock(project: Path, python_version: str = "", keep: bool = False) -> str | None:
    """Write `project/uv.lock` with `uv lock` (an existing lock's versions are kept where
    they still fit). None when it is written, else why not, in one line. On failure the
    lock is removed (a new project: no half lock), or with `keep` left as it was."""
    uv = uv_binary()
    if uv is None:
        return "uv is not installed"
    try:
        done = _uv_lock(uv, project, *_python_args(python_version))
    except subprocess.TimeoutExpired:
        if not keep:
            (project / LOCK_FILE).unlink(missing_ok=True)
        return f"uv lock took more than {TIMEOUT_S} s"
    except OSError as error:
        return f"uv could not run: {error.strerror or error}"
    if done.returncode == 0 and (project / LOCK_FILE).is_file():
        return None
    if not keep:
        (project / LOCK_FILE).unlink(missing_ok=True)
    return _reason(done.stderr) or f"uv lock exited with {done.returncode}"


# what uv says when it cannot reach the package index (or may not: offline mode)
UNREACHABLE = (
    "network was disabled",
    "not found in the cache",
    "failed to fetch",
    "error sending request",
    "tcp connect error",
    "dns error",
    "connection refused",
    "network is unreachable",
)
OFFLINE_WORDS = "uv could not reach the package index, offline or with no network"


def _offline() -> bool:
    """uv told to stay offline (UV_OFFLINE): its resolver then reports packages as missing,
    in terms (a split on markers) that never mention the network."""
    return os.environ.get("UV_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _reason(stderr: str) -> str:
    """Why `uv lock` failed, in one line: in words where the package index could not be
    reached, else uv's error line and what lies under it (its hint, else the deepest cause):
    not a page of causes, nor the resolver's fork markers."""
    if _offline() or any(words in stderr.lower() for words in UNREACHABLE):
        return OFFLINE_WORDS
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    error = next((line for line in lines if line.lower().startswith("error:")), "")
    hint = next((line for line in lines if line.startswith("hint:")), "")
    causes = [line for line in lines if line.startswith("cause:")]
    under = hint or (causes[-1] if causes else "")
    parts = [part.split(":", 1)[1].strip() for part in (error, under) if part]
    text = "; ".join(parts) if parts else (lines[-1] if lines else "")
    text = re.sub(r" for split \(markers: [^)]*\)", "", text)
    return text if len(text) <= 200 else text[:197] + "..."
