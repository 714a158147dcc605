"""Where templates come from: a git bundle of every released template version.

Copier's `update` re-renders the version a project was made from, using the `_src_path`
recorded in `.copier-answers.yml`. We record `~/.local/share/mlscaffold/templates.bundle`
(with the literal `~`, so it expands per machine) and keep that per-user copy refreshed
from the bundle shipped in this package. So a project made on one machine updates on any
other, offline, with `mlscaffold update` or plain `copier update`.

The path ignores XDG_DATA_HOME on purpose: the recorded path must mean the same on every
machine a clone lands on.

Every installed mlscaffold shares that copy, and it keeps the newest versions any of them
shipped (a newer one's are never taken away). So a tool reads it through `offer`: it updates
to, and compares with, at most its own version, and names a newer one rather than use
templates its code never knew (`--to` still reaches it, on request).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from mlscaffold import git
from mlscaffold.errors import GitError, UnknownVersionError

USER_SOURCE = "~/.local/share/mlscaffold/templates.bundle"
SHIPPED_ENV = "MLSCAFFOLD_SHIPPED_BUNDLE"


@functools.total_ordering
@dataclass(frozen=True)
class TemplateVersion:
    """A template version: the one place that knows tags are `v` + a PEP 440 version."""

    version: Version

    @classmethod
    def parse(cls, text: object) -> TemplateVersion | None:
        """`v0.2.0`, `0.2.0`, `0.2` (= 0.2.0) or Copier's describe form `v0.2.0-3-gabc123`."""
        if not isinstance(text, str) or not text.strip():
            return None
        raw = text.strip()
        if raw.startswith("v"):
            raw = raw[1:].split("-", 1)[0]
        try:
            return cls(Version(raw))
        except InvalidVersion:
            return None

    @property
    def tag(self) -> str:
        return f"v{self}"

    def __str__(self) -> str:
        return str(self.version)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, TemplateVersion):
            return NotImplemented
        return self.version < other.version


def shipped_bundle() -> Path:
    """The bundle inside the installed package (overridable for template authors and tests)."""
    override = os.environ.get(SHIPPED_ENV)
    return Path(override) if override else Path(__file__).parent / "data" / "templates.bundle"


def template_file(source: str | Path, tag: str, name: str) -> bytes | None:
    """One file of the template source at a version, outside what Copier renders (such as
    the table of moved files); None when that version has no such file."""
    with tempfile.TemporaryDirectory(prefix="mlscaffold-source-") as tmp:
        repo = Path(tmp)
        git.run("init", "--quiet", "--bare", str(repo))
        location = str(Path(source).expanduser())
        git.run("fetch", "--quiet", "--no-tags", location, f"refs/tags/{tag}", cwd=repo)
        if not git.succeeds("cat-file", "-e", f"FETCH_HEAD:{name}", cwd=repo):
            return None
        return git.run_bytes("cat-file", "blob", f"FETCH_HEAD:{name}", cwd=repo)


def user_bundle() -> Path:
    return Path(USER_SOURCE).expanduser()


def versions(source: str | Path) -> list[TemplateVersion]:
    """Template versions (tags) in a bundle or repository, oldest first."""
    found = {TemplateVersion.parse(tag) for tag in git.ls_remote_tags(source)}
    return sorted(v for v in found if v is not None)


def newest(source: str | Path) -> TemplateVersion | None:
    available = versions(source)
    return available[-1] if available else None


@dataclass(frozen=True)
class Offer:
    """What a template source offers this mlscaffold: `newest`, the version it updates to
    and compares with, and `beyond`, a newer one another (newer) mlscaffold put in the
    shared per-user bundle, which this one's code never knew (None when there is none)."""

    newest: TemplateVersion | None
    beyond: TemplateVersion | None = None


def own_version() -> TemplateVersion | None:
    """The newest template version this mlscaffold ships: its own version."""
    return newest(shipped_bundle())


def offer(source: str | Path) -> Offer:
    """The newest version of `source` for this mlscaffold. The per-user bundle is shared by
    every installed mlscaffold and keeps the newest one's versions, so from it a tool takes
    at most its own version (a newer one is named, never silently used); any other source
    (a template author's own) offers everything it holds."""
    available = versions(source)
    own = own_version() if str(source) == USER_SOURCE else None
    if own is None:
        return Offer(available[-1] if available else None)
    usable = [version for version in available if version <= own]
    top = usable[-1] if usable else None
    beyond = available[-1] if top is not None and available[-1] > top else None
    return Offer(top, beyond)


def resolve(version: str, source: str | Path) -> TemplateVersion:
    """A user's `0.2.0` / `v0.2.0` / `0.2`, as a version `source` holds, or say which exist."""
    wanted = TemplateVersion.parse(version)
    available = versions(source)
    for candidate in available:
        if candidate == wanted:
            return candidate  # the bundle's spelling: `0.2` names the tag v0.2.0
    raise UnknownVersionError(version, [str(v) for v in available])


def _same_file(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()


def _readable_newest(bundle: Path) -> TemplateVersion | None:
    """The newest version in a bundle, or None when it is not a readable bundle."""
    if not bundle.is_file():
        return None
    try:
        return newest(bundle)
    except GitError:
        return None


def ensure_user_source(progress: Callable[[str], None] = lambda _msg: None) -> str:
    """Refresh the per-user bundle from the shipped one and return the path to record.

    A newer per-user copy (written by a newer mlscaffold) is kept: releases only ever add
    versions, so the newest bundle holds every older one. A damaged copy (garbage, or a
    folder in its place) is replaced, and the user is told.
    """
    shipped, user = shipped_bundle(), user_bundle()
    if user.is_file() and _same_file(shipped, user):
        return USER_SOURCE
    if user.exists() or user.is_symlink():
        theirs = _readable_newest(user)
        if theirs is None:
            progress(f"{USER_SOURCE} was damaged (not a template bundle): replaced it")
            if user.is_dir() and not user.is_symlink():
                shutil.rmtree(user)
            else:
                user.unlink()
        else:
            mine = newest(shipped)
            if mine and theirs > mine:
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
