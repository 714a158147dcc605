"""`update`: merge a newer template version into a project, keeping the user's edits.

Copier does the three-way merge; we add what it leaves out: a refusal that names the files
making the repository dirty (only when there is something to do), a per-user template source
that exists on this machine, a conflict report (Copier exits 0 with conflicts; we look at
`git ls-files -u` and `*.rej`), and user-edited files the new template removes are kept.

Copier never runs on the project itself: it runs on a clone of HEAD, and the result is
carried into the project under a write-ahead journal (see journal.py), while a lock keeps a
second update out (locking.py). `--pretend` is the same rehearsal, thrown away.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscaffold import engine, git, journal, locking, source
from mlscaffold.check import Progress, template_source
from mlscaffold.errors import DirtyRepositoryError, NotAProjectError, UsageError
from mlscaffold.project import Project, load


@dataclass
class UpdateResult:
    project: Path
    from_version: str
    to_version: str
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    kept_removed: list[str] = field(default_factory=list)
    uncommitted: list[str] = field(default_factory=list)  # left out of a --pretend rehearsal
    pretend: bool = False

    @property
    def nothing_to_do(self) -> bool:
        return self.from_version == self.to_version and not self.changed

    @property
    def needs_attention(self) -> bool:
        """Conflicts to resolve or removed files kept: a person must look (exit 1)."""
        return bool(self.conflicts or self.kept_removed)

    @property
    def attention_count(self) -> int:
        return len(self.conflicts) + len(self.kept_removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": str(self.project),
            "from": self.from_version,
            "to": self.to_version,
            "changed": self.changed,
            "conflicts": self.conflicts,
            "kept_removed": self.kept_removed,
            "uncommitted": self.uncommitted,
            "pretend": self.pretend,
            "needs_attention": self.needs_attention,
        }


def _keep_edited_removals(project: Project, src: str) -> list[str]:
    """Copier deletes a file the new template dropped even if the user edited it: undo that.

    Only files whose committed content differs from what the old template generated are
    restored; untouched ones stay deleted, as the template intends.
    """
    deleted = git.deleted_files(project.root)
    if not deleted:
        return []
    pristine = engine.render_files(
        src, project.answers, project.commit, deleted, folder=project.root.name
    )
    kept = []
    for name in deleted:
        if pristine.get(name) != git.head_content(project.root, name):
            git.restore_from_head(project.root, name)
            kept.append(name)
    return kept


def _refuse_not_a_repository(project: Project) -> None:
    if not git.is_repository_root(project.root):
        raise NotAProjectError(
            f"{project.root} is not a git repository root",
            "update merges with git history: run 'git init && git add -A && git commit' first",
        )


def _refuse_dirty(dirty: list[str]) -> None:
    """Copier merges against HEAD: uncommitted work would be mixed into the update."""
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" (+{len(dirty) - 5} more)" if len(dirty) > 5 else "")
        raise DirtyRepositoryError(
            f"the repository has uncommitted changes: {shown}",
            "commit or stash them first (git add -A && git commit), then run update again",
        )


def _target_version(project: Project, src: str, to: str | None) -> source.TemplateVersion:
    target = source.resolve(to, src) if to else source.newest(src)
    if target is None:
        raise NotAProjectError(f"template source {src} has no released versions")
    current = project.template_version
    if current is not None and target < current:
        if to:
            raise UsageError(
                f"cannot go back from template {current} to {target}",
                "Copier does not downgrade; restore an older state with git instead",
            )
        raise UsageError(
            f"the project is on template {current}, newer than this mlscaffold knows ({target})",
            "upgrade mlscaffold: pip install --upgrade mlscaffold-cli",
        )
    return target


def update(
    path: Path,
    to: str | None = None,
    pretend: bool = False,
    conflict: engine.Conflict = "inline",
    data: dict[str, Any] | None = None,
    progress: Progress = lambda _msg: None,
) -> UpdateResult:
    root = path.expanduser().absolute()
    exclusive = not pretend and git.is_repository_root(root)  # --pretend writes nothing
    with locking.exclusive(root) if exclusive else contextlib.nullcontext():
        journal.refuse_if_pending(root)  # before anything else reads the project
        project = load(root)
        _refuse_not_a_repository(project)
        src = template_source(project, progress=progress)
        target = _target_version(project, src, to)
        if str(target) == project.version and not data:  # dirty or not: nothing to merge
            return UpdateResult(project.root, project.version, str(target), pretend=pretend)
        dirty = git.dirty_files(project.root)
        if not pretend:
            _refuse_dirty(dirty)
        verb = "trying" if pretend else "updating"
        progress(f"{verb} {project.root.name}: template {project.version} → {target}")
        if pretend:
            return _rehearse(project, src, target, conflict, data or {}, dirty)
        return _update(project, src, target, conflict, data or {})


def _update(
    project: Project,
    src: str,
    target: source.TemplateVersion,
    conflict: engine.Conflict,
    data: dict[str, Any],
) -> UpdateResult:
    """Rehearse on a clone inside .git/, then carry the result in under the journal."""
    root = project.root
    journal.begin(root)  # what SIGKILL leaves behind says how to undo it
    try:
        clone = journal.clone_path(root)
        git.local_clone(root, clone)
        result = _apply(load(clone), src, target, conflict, data)
        journal.carry(root, clone)
    except BaseException:  # failure, Ctrl-C, SIGTERM: no half-applied update (it was clean)
        journal.rollback(root)
        raise
    journal.end(root)
    result.project = root
    return result


def _rehearse(
    project: Project,
    src: str,
    target: source.TemplateVersion,
    conflict: engine.Conflict,
    data: dict[str, Any],
    dirty: list[str],
) -> UpdateResult:
    """--pretend: Copier's own pretend mode reports nothing useful, so update a throwaway
    clone of HEAD instead (uncommitted changes are not in it: the result says which)."""
    with tempfile.TemporaryDirectory(prefix="mlscaffold-pretend-") as tmp:
        clone = Path(tmp) / project.root.name
        git.local_clone(project.root, clone)
        rehearsal = _apply(load(clone), src, target, conflict, data)
    rehearsal.project, rehearsal.pretend, rehearsal.uncommitted = project.root, True, dirty
    return rehearsal


def abort(path: Path) -> str | None:
    """Undo an update that died half-way (killed): the tree as it was before, exactly, or a
    refusal when the user has worked on the project since (see journal.py)."""
    project = load(path, check_commit=False)
    if not git.is_repository_root(project.root):
        return None
    with locking.exclusive(project.root):
        return journal.abort(project.root)


def quit_update(path: Path) -> str | None:
    """Forget a killed update's record, leaving every file as it is (after a manual fix)."""
    project = load(path, check_commit=False)
    if not git.is_repository_root(project.root):
        return None
    with locking.exclusive(project.root):
        return journal.quit_update(project.root)


def _apply(
    project: Project,
    src: str,
    target: source.TemplateVersion,
    conflict: engine.Conflict,
    data: dict[str, Any],
) -> UpdateResult:
    """Copier's update of `project` (a clone), then what Copier leaves out or gets wrong."""
    root = project.root
    questions = engine.update(root, data, target, conflict)
    engine.refuse_unknown_questions(data, questions)  # a misspelt -d must not pass silently
    result = UpdateResult(root, project.version, str(target))
    result.kept_removed = _keep_edited_removals(project, src)
    result.conflicts = sorted(set(git.unmerged_files(root)) | set(git.rejected_hunk_files(root)))
    result.changed = git.dirty_files(root)
    return result
