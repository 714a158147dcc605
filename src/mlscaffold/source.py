"""Where templates come from: a git bundle of every released template version.

Copier's `update` re-renders the version a project was made from, using the `_src_path`
recorded in `.copier-answers.yml`. We record `~/.local/share/mlscaffold/templates.bundle`
(with the literal `~`, so it expands per machine) and keep that per-user copy refreshed
from the bundle shipped in this package. So a project made on one machine updates on any
other, offline, with `mlscaffold update` or plain `copier update`.

The path ignores XDG_DATA_HOME on purpose: the recorded path must mean the same on every
machine a clone lands on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from packaging.version import InvalidVersion, Version

from mlscaffold.errors import GitMissingError, UnknownVersionError

USER_SOURCE = "~/.local/share/mlscaffold/templates.bundle"
SHIPPED_ENV = "MLSCAFFOLD_SHIPPED_BUNDLE"


def shipped_bundle() -> Path:
    """The bundle inside the installed package (overridable for template authors and tests)."""
    override = os.environ.get(SHIPPED_ENV)
    return Path(override) if override else Path(__file__).parent / "data" / "templates.bundle"


def user_bundle() -> Path:
    return Path(USER_SOURCE).expanduser()


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise GitMissingError() from exc
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout


def parse_version(text: str) -> Version | None:
    """`v0.2.0`, `0.2.0` or Copier's describe form `v0.2.0-3-gabc123` → Version."""
    tag = text.strip().split("-", 1)[0] if text.strip().startswith("v") else text.strip()
    try:
        return Version(tag)
    except InvalidVersion:
        return None


def versions(source: str | Path) -> list[Version]:
    """Template versions (tags) in a bundle or repository, oldest first."""
    out = _git("ls-remote", "--tags", "--refs", str(Path(source).expanduser()))
    found = []
    for line in out.splitlines():
        ref = line.split("\t", 1)[-1].removeprefix("refs/tags/")
        version = parse_version(ref)
        if version is not None:
            found.append(version)
    return sorted(set(found))


def tag_for(version: str, source: str | Path) -> str:
    """Resolve a user's `0.2.0` / `v0.2.0` to the tag in `source`, or say which exist."""
    wanted = parse_version(version)
    available = versions(source)
    if wanted is None or wanted not in available:
        raise UnknownVersionError(version, [str(v) for v in available])
    return f"v{wanted}"


def _same_file(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()


def ensure_user_source() -> str:
    """Refresh the per-user bundle from the shipped one and return the path to record.

    A newer per-user copy (written by a newer mlscaffold) is kept: releases only ever add
    versions, so the newest bundle holds every older one.
    """
    shipped, user = shipped_bundle(), user_bundle()
    if user.exists():
        if _same_file(shipped, user):
            return USER_SOURCE
        user_versions, shipped_versions = versions(user), versions(shipped)
        if user_versions and shipped_versions and user_versions[-1] > shipped_versions[-1]:
            return USER_SOURCE
    user.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".templates.", suffix=".bundle", dir=user.parent)
    os.close(fd)
    try:
        shutil.copyfile(shipped, tmp)
        os.replace(tmp, user)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return USER_SOURCE
