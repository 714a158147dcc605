"""`check`: is a project on the newest template this mlscaffold knows? A state, not a boolean.

"Newest" is at most this mlscaffold's own version (`source.offer`): a newer tag that another
installed mlscaffold added to the shared per-user bundle does not make a project behind.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlscaffold import journal, source
from mlscaffold.errors import NotAProjectError
from mlscaffold.project import Project, load

Progress = Callable[[str], None]


class State(str, enum.Enum):
    UP_TO_DATE = "up_to_date"
    BEHIND = "behind"
    AHEAD = "ahead"  # made by a newer mlscaffold than this one


@dataclass(frozen=True)
class CheckResult:
    project: Path
    kind: str
    current: str
    latest: str
    state: State

    @property
    def up_to_date(self) -> bool:
        """What `check`'s exit status says: only a project behind needs an update."""
        return self.state is not State.BEHIND

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": str(self.project),
            "kind": self.kind,
            "current": self.current,
            "latest": self.latest,
            "state": self.state.value,
            "up_to_date": self.up_to_date,
        }


def template_source(
    project: Project, read_only: bool = False, progress: Progress = lambda _msg: None
) -> str:
    """Make sure the recorded source exists here (refreshing our per-user bundle).

    `read_only` (for `check`): when the per-user copy cannot be written (a read-only HOME),
    read the versions from the bundle shipped with this mlscaffold instead.
    """
    if project.src_path == source.USER_SOURCE:
        try:
            source.ensure_user_source(progress)
        except OSError:
            if not read_only:
                raise
            return str(source.shipped_bundle())
    elif "://" not in project.src_path and not Path(project.src_path).expanduser().exists():
        raise NotAProjectError(
            f"the template this project records ({project.src_path}) is not on this machine",
            "put the template back at that path, or edit _src_path in .copier-answers.yml",
        )
    return project.src_path


def state_of(current: source.TemplateVersion | None, latest: source.TemplateVersion) -> State:
    if current is None or current < latest:
        return State.BEHIND
    return State.AHEAD if current > latest else State.UP_TO_DATE


def check(path: Path, progress: Progress = lambda _msg: None) -> CheckResult:
    journal.refuse_if_pending(path.expanduser().absolute())
    project = load(path)
    src = template_source(project, read_only=True, progress=progress)
    offered = source.offer(src)  # at most this mlscaffold's own version: see source.offer
    latest = offered.newest
    if offered.beyond is not None and latest is not None:
        progress(
            f"template {offered.beyond} exists (from a newer mlscaffold); this mlscaffold "
            f"{latest} checks against {latest}: upgrade mlscaffold to update to it"
        )
    if latest is None:
        raise NotAProjectError(f"template source {src} has no released versions")
    state = state_of(project.template_version, latest)
    return CheckResult(project.root, project.kind, project.version, str(latest), state)
