"""`check` and `update`: compare a project with the newest template and merge it in.

Copier does the three-way merge; we add what it leaves out: a refusal that names the files
making the repository dirty, a per-user template source that exists on this machine, and a
conflict report (Copier exits 0 with conflicts; we look at `git ls-files -u` and `*.rej`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.version import Version

from mlscaffold import gitops, source
from mlscaffold.copier_bridge import translate_copier_errors
from mlscaffold.errors import DirtyRepositoryError, NotAProjectError, UsageError
from mlscaffold.project import Project, load

Progress = Callable[[str], None]


@dataclass
class CheckResult:
    project: Path
    kind: str
    current: str
    latest: str

    @property
    def up_to_date(self) -> bool:
        current = source.parse_version(self.current)
        return current is not None and current >= Version(self.latest)

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": str(self.project),
            "kind": self.kind,
            "current": self.current,
            "latest": self.latest,
            "up_to_date": self.up_to_date,
        }


@dataclass
class UpdateResult:
    project: Path
    from_version: str
    to_version: str
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    kept_removed: list[str] = field(default_factory=list)
    pretend: bool = False


def _template_source(project: Project) -> str:
    """Make sure the recorded source exists here (refreshing our per-user bundle)."""
    if project.src_path == source.USER_SOURCE:
        source.ensure_user_source()
    elif "://" not in project.src_path and not Path(project.src_path).expanduser().exists():
        raise NotAProjectError(
            f"the template this project records ({project.src_path}) is not on this machine",
            "put the template back at that path, or edit _src_path in .copier-answers.yml",
        )
    return project.src_path


def check(path: Path) -> CheckResult:
    project = load(path)
    src = _template_source(project)
    available = source.versions(src)
    if not available:
        raise NotAProjectError(f"template source {src} has no released versions")
    return CheckResult(project.root, project.kind, project.version, str(available[-1]))


def _pristine_files(project: Project, src: str, names: list[str]) -> dict[str, bytes]:
    """Render the project's current template version as generated, for the named files."""
    from copier import run_copy

    answers = {k: v for k, v in project.answers.items() if not k.startswith("_")}
    with tempfile.TemporaryDirectory(prefix="mlscaffold-pristine-") as tmp:
        target = Path(tmp) / project.root.name
        with translate_copier_errors():
            run_copy(
                src,
                target,
                data=answers,
                defaults=True,
                vcs_ref=project.commit,
                quiet=True,
                unsafe=False,
            )
        return {n: (target / n).read_bytes() for n in names if (target / n).is_file()}


def _keep_edited_removals(project: Project, src: str) -> list[str]:
    """Copier deletes a file the new template dropped even if the user edited it: undo that.

    Only files whose committed content differs from what the old template generated are
    restored; untouched ones stay deleted, as the template intends.
    """
    deleted = gitops.deleted_files(project.root)
    if not deleted:
        return []
    pristine = _pristine_files(project, src, deleted)
    kept = []
    for name in deleted:
        if pristine.get(name) != gitops.head_content(project.root, name):
            gitops.restore_from_head(project.root, name)
            kept.append(name)
    return kept


def update(
    path: Path,
    to: str | None = None,
    pretend: bool = False,
    conflict: Literal["inline", "rej"] = "inline",
    data: dict[str, Any] | None = None,
    progress: Progress = lambda _msg: None,
) -> UpdateResult:
    project = load(path)
    if not gitops.is_repository_root(project.root):
        raise NotAProjectError(
            f"{project.root} is not a git repository root",
            "update merges with git history: run 'git init && git add -A && git commit' first",
        )
    dirty = gitops.dirty_files(project.root)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" (+{len(dirty) - 5} more)" if len(dirty) > 5 else "")
        raise DirtyRepositoryError(
            f"the repository has uncommitted changes: {shown}",
            "commit or stash them first (git add -A && git commit), then run update again",
        )
    src = _template_source(project)
    tag = source.tag_for(to, src) if to else f"v{source.versions(src)[-1]}"
    current = source.parse_version(project.version)
    if current is not None and Version(tag[1:]) < current:
        if to:
            raise UsageError(
                f"cannot go back from template {current} to {tag[1:]}",
                "Copier does not downgrade; restore an older state with git instead",
            )
        raise UsageError(
            f"the project is on template {current}, newer than this mlscaffold knows ({tag[1:]})",
            "upgrade mlscaffold: pip install --upgrade mlscaffold-cli",
        )
    if tag[1:] == project.version and not data:
        return UpdateResult(project.root, project.version, tag[1:], pretend=pretend)
    verb = "trying" if pretend else "updating"
    progress(f"{verb} {project.root.name}: template {project.version} → {tag[1:]}")
    if not pretend:
        try:
            return _apply(project, src, tag, conflict, data or {})
        except BaseException:  # failure or Ctrl-C: no half-applied update (the tree was clean)
            gitops.discard_changes(project.root)
            raise
    # Copier's own pretend mode reports nothing useful: rehearse on a throwaway clone instead.
    with tempfile.TemporaryDirectory(prefix="mlscaffold-pretend-") as tmp:
        clone = Path(tmp) / project.root.name
        gitops.clone(project.root, clone)
        rehearsal = _apply(load(clone), src, tag, conflict, data or {})
    rehearsal.project, rehearsal.pretend = project.root, True
    return rehearsal


def _apply(
    project: Project, src: str, tag: str, conflict: Literal["inline", "rej"], data: dict[str, Any]
) -> UpdateResult:
    from copier import run_update

    with translate_copier_errors():
        run_update(
            dst_path=project.root,
            data=data,
            defaults=True,
            overwrite=True,
            skip_answered=True,
            vcs_ref=tag,
            conflict=conflict,
            quiet=True,
            unsafe=False,
        )
    result = UpdateResult(project.root, project.version, tag[1:])
    result.kept_removed = _keep_edited_removals(project, src)
    result.conflicts = sorted(
        set(gitops.unmerged_files(project.root)) | set(gitops.rejected_hunk_files(project.root))
    )
    result.changed = gitops.dirty_files(project.root)
    return result
