"""`update`: merge a newer template version into a project, keeping the user's edits.

Copier does the three-way merge; we add what it leaves out: a refusal that names the files
making the repository dirty (only when there is something to do), a per-user template source
that exists on this machine, a conflict report (Copier exits 0 with conflicts; we look at
`git ls-files -u` and `*.rej`), and user-edited files the new template removes are kept.

Copier never runs on the project itself: it runs on a clone of HEAD, and the result is
carried into the project under a write-ahead journal (see journal.py), while a lock keeps a
second update out (locking.py). `--pretend` is the same rehearsal, thrown away.

Two things Copier gets wrong are put right in the rehearsal:
- binary files (what git treats as binary: NUL bytes, `-diff`): Copier's patch cannot carry
  the user's change to one, so the template's version silently replaced it. Now a binary
  file only the user changed keeps the user's version, and one both changed is a conflict
  like any other: the user's version stays, the template's is saved beside it as NAME.rej,
  and with inline conflicts the index records the three versions (as `git merge` does).
- renamed files (`git mv` in the history): the template's change to the old name was
  silently dropped. Now it is reported, with the change saved beside the new name as a patch
  (NEW.rej, `git apply`-able), and the old name is not re-created.
- files the template moved (its `_moves.yml`, see moves.py): Copier deleted the old file
  and wrote the new one, so an edit stayed behind in the old file. Now the edit is merged
  into the new path, or is a conflict there; a moved file the user renamed is reported as
  above (compared with the new path, whose copy is not written beside it), one they
  deleted stays deleted, one they had moved already merges against its old self.

The version to update to is at most this mlscaffold's own (source.offer): the per-user
bundle is shared with other installs, and a newer one's tag is named, not used.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscaffold import (
    engine,
    git,
    interrupts,
    journal,
    locking,
    moves,
    patching,
    source,
    uvlock,
)
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
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (template's name, user's)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old, new): edits carried
    dropped: list[str] = field(default_factory=list)  # moved files the user had deleted
    binary_conflicts: list[str] = field(default_factory=list)  # also in `conflicts`
    uncommitted: list[str] = field(default_factory=list)  # left out of a --pretend rehearsal
    pretend: bool = False
    # uv.lock after the update: "" (none, or it still fits), "refreshed" (uv lock made it fit
    # pyproject.toml again), "stale" (--pretend: it would need refreshing), "unchecked" (not
    # checked: no uv, or a project whose code must not run here), else why it
    # could not be refreshed: the lock is left as it was and CI's `uv sync --locked` would fail
    lock: str = ""

    @property
    def stale_lock(self) -> bool:
        """A lock left not fitting pyproject.toml (a rehearsal's "stale" is refreshed by
        the real update)."""
        return self.lock not in ("", "refreshed", "stale", "unchecked")

    @property
    def nothing_to_do(self) -> bool:
        return self.from_version == self.to_version and not self.changed

    @property
    def needs_attention(self) -> bool:
        """Conflicts to resolve, removed files kept, template changes to renamed files not
        applied or a lock that no longer fits: a person must look (exit 1)."""
        return bool(self.conflicts or self.kept_removed or self.renamed or self.stale_lock)

    @property
    def attention_count(self) -> int:
        stale = 1 if self.stale_lock else 0
        return len(self.conflicts) + len(self.kept_removed) + len(self.renamed) + stale

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": str(self.project),
            "from": self.from_version,
            "to": self.to_version,
            "changed": self.changed,
            "conflicts": self.conflicts,
            "kept_removed": self.kept_removed,
            "renamed": [{"from": old, "to": new} for old, new in self.renamed],
            "moved": [{"from": old, "to": new} for old, new in self.moved],
            "dropped": self.dropped,
            "binary_conflicts": self.binary_conflicts,
            "uncommitted": self.uncommitted,
            "pretend": self.pretend,
            "lock": self.lock,
            "needs_attention": self.needs_attention,
        }


def _keep_edited_removals(project: Project, src: str) -> tuple[list[str], dict[str, bytes]]:
    """Copier deletes a file the new template dropped even if the user edited it: undo that.

    Only files whose committed content differs from what the old template generated are
    restored; untouched ones stay deleted, as the template intends. Also returns the
    deleted files as the old template generated them.
    """
    deleted = git.deleted_files(project.root)
    if not deleted:
        return [], {}
    pristine = engine.render_files(
        src, project.answers, project.commit, deleted, folder=project.root.name
    )
    kept = []
    for name in deleted:
        if pristine.get(name) != git.head_content(project.root, name):
            git.restore_from_head(project.root, name)
            kept.append(name)
    return kept, pristine


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


def _target_version(
    project: Project, src: str, to: str | None, progress: Progress = lambda _msg: None
) -> source.TemplateVersion:
    target = source.resolve(to, src) if to else _newest_for_this(src, progress)
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


def _newest_for_this(src: str, progress: Progress) -> source.TemplateVersion | None:
    """The newest version this mlscaffold updates to by default (at most its own), saying
    so when another mlscaffold put a newer one in the shared per-user bundle."""
    offered = source.offer(src)
    if offered.beyond is not None and offered.newest is not None:
        progress(
            f"template {offered.beyond} exists (from a newer mlscaffold); this mlscaffold "
            f"{offered.newest} updates to {offered.newest} at most: upgrade mlscaffold, "
            f"or pass --to {offered.beyond}"
        )
    return offered.newest


def update(
    path: Path,
    to: str | None = None,
    pretend: bool = False,
    conflict: engine.Conflict = "inline",
    data: dict[str, Any] | None = None,
    progress: Progress = lambda _msg: None,
    refresh_lock: bool = True,
    on_applied: Callable[[str], None] = lambda _version: None,
) -> UpdateResult:
    """`refresh_lock`: let uv refresh uv.lock. uv runs the project's build backend when its
    metadata is dynamic, so a repository someone else controls (a student's, in `cohort
    update`) must pass False: its lock is then reported "unchecked", never run.

    `on_applied(version)` runs once the update is in the project, before a signal that came
    after the point of no return is raised: a caller can then say the update was applied."""
    root = path.expanduser().absolute()
    exclusive = not pretend and git.is_repository_root(root)  # --pretend writes nothing
    with locking.exclusive(root) if exclusive else contextlib.nullcontext():
        journal.refuse_if_pending(root)  # before anything else reads the project
        project = load(root)
        _refuse_not_a_repository(project)
        src = template_source(project, progress=progress)
        target = _target_version(project, src, to, progress)
        if str(target) == project.version and not data:  # dirty or not: nothing to merge
            return UpdateResult(project.root, project.version, str(target), pretend=pretend)
        dirty = git.dirty_files(project.root)
        if not pretend:
            _refuse_dirty(dirty)
        verb = "trying" if pretend else "updating"
        progress(f"{verb} {project.root.name}: template {project.version} → {target}")
        if pretend:
            return _rehearse(project, src, target, conflict, data or {}, dirty, refresh_lock)
        return _update(project, src, target, conflict, data or {}, refresh_lock, on_applied)


def _update(
    project: Project,
    src: str,
    target: source.TemplateVersion,
    conflict: engine.Conflict,
    data: dict[str, Any],
    refresh_lock: bool = True,
    applied: Callable[[str], None] = lambda _version: None,
) -> UpdateResult:
    """Rehearse on a clone inside .git/, then carry the result in under the journal.

    A signal while carrying waits for the next file boundary and rolls back; one after the
    last file waits until the record is gone and `applied` has been told: whoever reports
    the signal then knows the update is in."""
    root = project.root
    with interrupts.deferrable() as late:
        journal.begin(root)  # what SIGKILL leaves behind says how to undo it
        try:
            clone = journal.clone_path(root)
            git.local_clone(root, clone)
            result = _apply(load(clone), src, target, conflict, data)
            result.lock = _refresh_lock(clone, project, result, run_uv=refresh_lock)
            if result.lock == "refreshed":
                result.changed = git.dirty_files(clone)  # uv.lock joins the changed files
            late.hold()  # from here a signal waits for a file boundary
            journal.carry(root, clone, checkpoint=late.checkpoint)
        except BaseException:  # failure, Ctrl-C, SIGTERM: no half-applied update (it was clean)
            late.hold()  # a second Ctrl-C must not cut the rollback short
            journal.rollback(root)
            raise
        journal.end(root)  # past the point of no return: a signal waits until the record goes
        applied(str(target))
    result.project = root
    return result


def _rehearse(
    project: Project,
    src: str,
    target: source.TemplateVersion,
    conflict: engine.Conflict,
    data: dict[str, Any],
    dirty: list[str],
    refresh_lock: bool = True,
) -> UpdateResult:
    """--pretend: Copier's own pretend mode reports nothing useful, so update a throwaway
    clone of HEAD instead (uncommitted changes are not in it: the result says which)."""
    with tempfile.TemporaryDirectory(prefix="mlscaffold-pretend-") as tmp:
        clone = Path(tmp) / project.root.name
        git.local_clone(project.root, clone)
        rehearsal = _apply(load(clone), src, target, conflict, data)
        rehearsal.lock = _refresh_lock(clone, project, rehearsal, pretend=True, run_uv=refresh_lock)
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
    kept, removed = _keep_edited_removals(project, src)
    package = str(project.answers.get("package_name", ""))
    table = moves.table(src, project.template_version, target, package)
    result.moved = moves.carry(root, table, kept, removed, conflict)
    carried = {old for old, _ in result.moved}
    result.kept_removed = [name for name in kept if name not in carried]
    binary = [name for name in git.binary_changes(root) if (root / name).is_file()]
    in_head = git.tracked_files(root)
    history = {
        old: new
        for old, new in git.renamed_in_history(root).items()
        if old not in in_head and new in in_head
    }
    made = moves.made_by_user(table, in_head)
    renamed = {old: new for old, new in history.items() if made.get(old) != new}
    deleted = moves.deleted_by_user(root, table, in_head, renamed)
    involved = set(binary) | set(renamed) | {moves.new_name(table, n) for n in renamed}
    involved |= set(made) | set(made.values()) | set(deleted)
    old, new = _pristine(project, src, target, sorted(involved))
    moves.merge_made(root, made, old, new, conflict)
    result.dropped = moves.drop_deleted(root, deleted, old)
    saved_beside: set[str] = set()  # .rej files we wrote that are not conflicts by name
    result.binary_conflicts = _merge_binary(root, binary, old, new, conflict)
    if conflict == "inline":
        saved_beside |= {f"{name}.rej" for name in result.binary_conflicts}
    result.renamed, patches = _report_renamed(root, renamed, old, new, in_head, table)
    saved_beside |= set(patches)
    rejected = set(git.rejected_hunk_files(root)) - saved_beside
    result.conflicts = sorted(set(git.unmerged_files(root)) | rejected)
    result.changed = git.dirty_files(root)
    return result


def _refresh_lock(
    root: Path, project: Project, result: UpdateResult, pretend: bool = False, run_uv: bool = True
) -> str:
    """uv.lock made to fit the updated pyproject.toml, in the rehearsal clone (so the journal
    carries it in, or puts it back, with the rest). `uv lock` keeps every locked version that
    still fits and resolves only what the template changed; it needs the package index."""
    if not (root / uvlock.LOCK_FILE).is_file() or "pyproject.toml" not in result.changed:
        return ""
    if "pyproject.toml" in result.conflicts:
        return "pyproject.toml has conflicts"
    if not run_uv or uvlock.uv_binary() is None:
        return "unchecked"  # not checked (untrusted project, or no uv): a note, not a failure
    python_version = str(project.answers.get("python_version", ""))
    if uvlock.fits(root, python_version):
        return ""
    if pretend:
        return "stale"
    why = uvlock.lock(root, python_version, keep=True)
    return "refreshed" if why is None else why


def _pristine(
    project: Project, src: str, target: source.TemplateVersion, names: list[str]
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The named files as the old and the new template version generate them (two renders,
    only when a binary or renamed file needs them)."""
    if not names:
        return {}, {}
    folder = project.root.name
    old = engine.render_files(src, project.answers, project.commit, names, folder=folder)
    answers = load(project.root).answers  # as the update left them (with any -d changes)
    return old, engine.render_files(src, answers, target.tag, names, folder=folder)


def _merge_binary(
    root: Path,
    names: list[str],
    old: dict[str, bytes],
    new: dict[str, bytes],
    conflict: engine.Conflict,
) -> list[str]:
    """Copier's patch cannot carry a change to a binary file, so its update left the
    template's version: keep the user's when only they changed it; a conflict when both did."""
    conflicts = []
    for name in names:
        base, theirs = old.get(name), new.get(name)
        ours = git.head_content(root, name)
        if theirs is None or ours in (theirs, base):
            continue  # dropped (kept_removed's business), the same, or a template-only change
        git.restore_from_head(root, name)
        if base == theirs:
            continue  # only the user changed it
        (root / f"{name}.rej").write_bytes(theirs)
        if conflict == "inline":
            _record_stages(root, name, base, theirs)
        conflicts.append(name)
    return conflicts


def _record_stages(root: Path, name: str, base: bytes | None, theirs: bytes) -> None:
    """Base, ours and theirs in the index, as `git merge` leaves a binary conflict: `git
    status` shows it unmerged, and `git checkout --theirs` takes the template's version."""
    mode, ours = git.output("ls-tree", "HEAD", "--", name, cwd=root).split()[:3:2]

    def blob(data: bytes) -> str:
        return git.run_bytes("hash-object", "-w", "--no-filters", "--stdin", cwd=root, data=data)

    lines = [f"0 {'0' * len(ours)}\t{name}"]
    if base is not None:
        lines.append(f"{mode} {blob(base).decode().strip()} 1\t{name}")
    lines.append(f"{mode} {ours} 2\t{name}")
    lines.append(f"{mode} {blob(theirs).decode().strip()} 3\t{name}")
    listing = b"".join(line.encode("utf-8", "surrogateescape") + b"\0" for line in lines)
    git.run_bytes("update-index", "-z", "--index-info", cwd=root, data=listing)


def _report_renamed(
    root: Path,
    renamed: dict[str, str],
    old: dict[str, bytes],
    new: dict[str, bytes],
    in_head: set[str],
    table: dict[str, str],
) -> tuple[list[tuple[str, str]], list[str]]:
    """Template changes to files the user renamed (Copier drops them without a word): the
    (old, new) names, and the patches saved beside the new names (NEW.rej). A file the
    template also moved (`table`) is compared with the target's file at its new path."""
    reported, patches = [], []
    for before_name, now in sorted(renamed.items()):
        theirs_name = moves.new_name(table, before_name)
        base, theirs = old.get(before_name), new.get(theirs_name)
        if base is None or theirs is None:
            continue
        stray = root / theirs_name
        if theirs_name not in in_head and stray.is_file() and stray.read_bytes() == theirs:
            stray.unlink()  # the template's copy beside the user's renamed file
        if base == theirs:
            continue
        patch = patching.unified_diff(base, theirs, now)
        if patch is not None and not (root / f"{now}.rej").exists():
            (root / f"{now}.rej").write_text(patch, encoding="utf-8")
            patches.append(f"{now}.rej")
        reported.append((before_name, now))
    return reported, patches
