"""`check` and `update` on a synthetic two-version template history.

After every scenario, every line the user wrote must still be somewhere in the tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import git, run_cli

from mlscaffold import source

USER_LINE = "user_tuning = 'kept across updates'"


def _tree_text(root: Path) -> str:
    return "\n".join(
        p.read_text(errors="replace")
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    )


def _assert_kept(root: Path, *lines: str) -> None:
    text = _tree_text(root)
    for line in lines:
        assert line in text, f"user line lost: {line!r}"


@pytest.fixture
def project(tmp_path: Path, synthetic_bundles, monkeypatch) -> tuple[Path, Path]:
    """A project generated from v1; the installed mlscaffold then 'upgrades' to ship v1+v2."""
    v1, v12 = synthetic_bundles()
    monkeypatch.setenv(source.SHIPPED_ENV, str(v1))
    dest = tmp_path / "demo"
    done = run_cli("new", "sentiment-classifier", str(dest), "--defaults")
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv(source.SHIPPED_ENV, str(v12))
    return dest, v12


def _edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / name
    path.write_text(path.read_text().replace(old, new))


def _commit(root: Path, message: str = "my edits") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def test_check_reports_behind_then_up_to_date(project) -> None:
    root, _ = project
    done = run_cli("check", str(root))
    assert done.returncode == 1 and "behind" in done.stdout and "2.0.0" in done.stdout
    payload = json.loads(run_cli("check", str(root), "--json").stdout)
    assert payload == {
        "project": str(root),
        "kind": "sentiment-classifier",
        "current": "1.0.0",
        "latest": "2.0.0",
        "state": "behind",
        "up_to_date": False,
    }
    assert run_cli("update", str(root)).returncode == 0
    _commit(root, "update")
    done = run_cli("check", str(root))
    assert done.returncode == 0 and "up to date" in done.stdout


def test_clean_merge_keeps_user_edit_and_applies_template_change(project) -> None:
    root, _ = project
    _edit(root, "app.py", "setting_15 = 15", USER_LINE)
    _commit(root)
    done = run_cli("update", str(root))
    assert done.returncode == 0, done.stderr
    app = (root / "app.py").read_text()
    assert USER_LINE in app and "changed by template v2" in app
    assert "## Added in v2" in (root / "README.md").read_text()
    assert (root / "added_in_v2.txt").is_file()
    assert not (root / "removed_in_v2.txt").exists(), "a file the template removed goes away"
    assert yaml.safe_load((root / ".copier-answers.yml").read_text())["_commit"] == "v2.0.0"
    assert "<<<<<<<" not in _tree_text(root)
    _assert_kept(root, USER_LINE)


def test_same_region_conflict_is_marked_listed_and_exits_1(project) -> None:
    root, _ = project
    mine = "setting_3 = 'my own value'"
    _edit(root, "app.py", "setting_3 = 3", mine)
    _commit(root)
    done = run_cli("update", str(root))
    assert done.returncode == 1
    assert "conflicts in 1 file(s)" in done.stderr and "app.py" in done.stderr
    assert "<<<<<<<" in (root / "app.py").read_text()
    assert git(root, "ls-files", "-u").strip(), "conflict recorded in the index too"
    _assert_kept(root, mine)


def test_conflict_as_rej_files(project) -> None:
    root, _ = project
    mine = "setting_3 = 'mine again'"
    _edit(root, "app.py", "setting_3 = 3", mine)
    _commit(root)
    done = run_cli("update", str(root), "--conflict", "rej")
    assert done.returncode == 1 and "app.py.rej" in done.stderr
    assert (root / "app.py.rej").is_file()
    _assert_kept(root, mine)


def test_file_deleted_by_user_stays_deleted(project) -> None:
    root, _ = project
    (root / "notes.txt").unlink()
    _edit(root, "app.py", "setting_20 = 20", USER_LINE)
    _commit(root, "I do not want notes")
    done = run_cli("update", str(root))
    assert done.returncode == 0, done.stderr
    assert not (root / "notes.txt").exists()
    _assert_kept(root, USER_LINE)


def test_file_removed_by_template_but_edited_by_user_is_kept(project) -> None:
    root, _ = project
    _edit(root, "removed_in_v2.txt", "goes away in v2.", "goes away in v2.\nMy own notes here.")
    _commit(root)
    done = run_cli("update", str(root))
    assert done.returncode == 1, "the user must decide: exit 1"
    assert "removes 1 file(s) you had edited" in done.stderr and "removed_in_v2.txt" in done.stderr
    _assert_kept(root, "My own notes here.")
    assert (root / "added_in_v2.txt").is_file(), "the rest of the update still applies"


def test_dirty_repository_is_refused_naming_the_files(project) -> None:
    root, _ = project
    (root / "scratch.py").write_text("print('wip')\n")
    _edit(root, "app.py", "setting_15 = 15", USER_LINE)
    before = _tree_text(root)
    done = run_cli("update", str(root))
    assert done.returncode == 2
    assert "uncommitted changes" in done.stderr and "scratch.py" in done.stderr
    assert "app.py" in done.stderr and "commit or stash" in done.stderr
    assert _tree_text(root) == before


def test_pretend_shows_changes_and_conflicts_but_writes_nothing(project) -> None:
    root, _ = project
    _edit(root, "app.py", "setting_3 = 3", "setting_3 = 'mine'")
    _commit(root)
    head, before = git(root, "rev-parse", "HEAD"), _tree_text(root)
    done = run_cli("update", str(root), "--pretend")
    assert done.returncode == 1, "the real update would leave a conflict"
    assert "would update 1.0.0 → 2.0.0" in done.stdout and "added_in_v2.txt" in done.stdout
    assert "app.py" in done.stderr and "would remain" in done.stderr
    assert git(root, "status", "--porcelain") == "" and git(root, "rev-parse", "HEAD") == head
    assert _tree_text(root) == before and not (root / "added_in_v2.txt").exists()


def test_update_to_named_and_unknown_versions(project) -> None:
    root, _ = project
    done = run_cli("update", str(root), "--to", "1.0.0")
    assert done.returncode == 0 and "already on template 1.0.0" in done.stdout
    done = run_cli("update", str(root), "--to", "3.0.0")
    assert done.returncode == 2 and "unknown template version" in done.stderr
    assert "1.0.0, 2.0.0" in done.stderr


def test_downgrade_is_refused(project) -> None:
    root, _ = project
    assert run_cli("update", str(root)).returncode == 0
    _commit(root, "update")
    done = run_cli("update", str(root), "--to", "1.0.0")
    assert done.returncode == 2 and "cannot go back from template 2.0.0 to 1.0.0" in done.stderr


def test_project_newer_than_this_mlscaffold(project, synthetic_bundles, monkeypatch) -> None:
    root, _ = project
    assert run_cli("update", str(root)).returncode == 0
    _commit(root, "update")
    v1, _ = synthetic_bundles()
    monkeypatch.setenv("HOME", str(root.parent / "old-laptop"))
    monkeypatch.setenv(source.SHIPPED_ENV, str(v1))
    done = run_cli("update", str(root))
    assert done.returncode == 2 and "newer than this mlscaffold knows" in done.stderr
    done = run_cli("check", str(root))
    assert done.returncode == 0 and done.stdout.startswith("ahead: ")
    assert json.loads(run_cli("check", str(root), "--json").stdout)["state"] == "ahead"


def test_missing_recorded_template_is_named(project) -> None:
    root, _ = project
    answers = root / ".copier-answers.yml"
    answers.write_text(
        answers.read_text().replace(
            "~/.local/share/mlscaffold/templates.bundle", "/nowhere/template"
        )
    )
    _commit(root, "moved template")
    done = run_cli("update", str(root))
    assert done.returncode == 2 and "/nowhere/template" in done.stderr
    assert "not on this machine" in done.stderr


def test_not_a_project(tmp_path: Path) -> None:
    for command in ("check", "update"):
        done = run_cli(command, str(tmp_path))
        assert done.returncode == 2
        assert "not a generated project" in done.stderr and "Traceback" not in done.stderr


def test_generated_on_one_home_updated_from_a_clone_under_another(
    project, tmp_path: Path, monkeypatch
) -> None:
    root, _ = project
    _edit(root, "app.py", "setting_15 = 15", USER_LINE)
    _commit(root)
    clone = tmp_path / "laptop" / "demo"
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True)
    other_home = tmp_path / "laptop-home"
    other_home.mkdir()
    monkeypatch.setenv("HOME", str(other_home))
    assert not source.user_bundle().exists()
    done = run_cli("update", str(clone))
    assert done.returncode == 0, done.stderr
    assert "changed by template v2" in (clone / "app.py").read_text()
    _assert_kept(clone, USER_LINE)


def test_plain_copier_update_works_once_the_source_exists(project) -> None:
    root, _ = project
    _edit(root, "app.py", "setting_15 = 15", USER_LINE)
    _commit(root)
    assert run_cli("check", str(root)).returncode == 1  # refreshes the per-user source
    copier = shutil.which("copier", path=os.path.dirname(sys.executable))
    assert copier, "copier's own command is installed with mlscaffold"
    done = subprocess.run(
        [copier, "update", "--defaults", "--trust"],
        cwd=root,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "changed by template v2" in (root / "app.py").read_text()
    _assert_kept(root, USER_LINE)


def test_check_and_update_through_click_runner(project) -> None:
    from click.testing import CliRunner

    from mlscaffold.cli import main

    root, _ = project
    result = CliRunner().invoke(main, ["check", str(root), "--json"])
    assert result.exit_code == 1 and json.loads(result.output)["latest"] == "2.0.0"
    result = CliRunner().invoke(main, ["update", str(root)])
    assert result.exit_code == 0, result.output
    assert "updated 1.0.0 → 2.0.0" in result.output


def test_failed_update_leaves_the_project_as_it_was(project, monkeypatch) -> None:
    from click.testing import CliRunner

    import mlscaffold.update as update_module
    from mlscaffold.cli import main

    root, _ = project
    head = git(root, "rev-parse", "HEAD")
    real_keep = update_module._keep_edited_removals

    def interrupted(*args, **kwargs):
        real_keep(*args, **kwargs)  # Copier has already written the new version by now
        raise KeyboardInterrupt

    monkeypatch.setattr(update_module, "_keep_edited_removals", interrupted)
    result = CliRunner().invoke(main, ["update", str(root)])
    assert result.exit_code == 130 and "nothing was changed" in result.output
    assert git(root, "status", "--porcelain") == "" and git(root, "rev-parse", "HEAD") == head
    assert not (root / "added_in_v2.txt").exists()


# ---- interrupted and killed updates -------------------------------------------------------

PATCHED_RUN = """
import importlib, os, signal, sys, time
module = importlib.import_module({module!r})
real = getattr(module, {name!r})
calls = []
def stop(*args, **kwargs):
    result = real(*args, **kwargs)
    calls.append(1)
    if len(calls) == {after}:
        {action}
    return result
setattr(module, {name!r}, stop)
from mlscaffold.cli import main
main(sys.argv[1:], prog_name="mlscaffold")
"""

# Copier has written the new version (into the rehearsal clone) by the time this returns
AFTER_COPIER = ("mlscaffold.update", "_keep_edited_removals", 1)
# the update is carrying its result into the project: two paths moved, the rest not yet
MID_CARRY = ("mlscaffold.journal", "_carry_one", 2)
# every file is in, and so are the conflicted index entries; only the clean-up is left
AFTER_INDEX = ("mlscaffold.journal", "_carry_index", 1)


def _patched_code(action: str, hook: tuple[str, str, int]) -> str:
    module, name, after = hook
    return PATCHED_RUN.format(module=module, name=name, after=after, action=action)


def _run_patched(
    action: str, *args: str, hook: tuple[str, str, int] = AFTER_COPIER
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _patched_code(action, hook), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=os.environ.copy(),
        timeout=120,
    )


def _snapshot(root: Path) -> tuple[str, dict[str, bytes]]:
    """HEAD and every file's bytes (ignored ones too), .git aside: "byte-identical" means this."""
    files = {
        p.relative_to(root).as_posix(): (
            os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
        )
        for p in sorted(root.rglob("*"))
        if (p.is_file() or p.is_symlink()) and ".git" not in p.relative_to(root).parts
    }
    return git(root, "rev-parse", "HEAD"), files


def _edited_and_committed(root: Path) -> str:
    _edit(root, "README.md", "# Demo", "# Demo, my title")
    _edit(root, "notes.txt", "Notes shipped by the template.", "My own notes.")
    _edit(root, "app.py", "setting_15 = 15", USER_LINE)
    _commit(root)
    return _tree_text(root)


@pytest.mark.parametrize(("signame", "code"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_update_stopped_by_a_signal_puts_the_project_back(project, signame, code) -> None:
    root, _ = project
    before, head = _edited_and_committed(root), git(root, "rev-parse", "HEAD")
    done = _run_patched(f"os.kill(os.getpid(), signal.{signame})", "update", str(root))
    assert done.returncode == code, done.stderr
    assert f"stopped by {signame}" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 2  # progress line + one error line
    assert git(root, "status", "--porcelain") == "" and git(root, "rev-parse", "HEAD") == head
    assert _tree_text(root) == before
    assert run_cli("update", str(root)).returncode == 0, "nothing left to block the next one"


def test_killed_update_is_reported_and_abort_restores_exactly(project) -> None:
    root, _ = project
    before, head = _edited_and_committed(root), git(root, "rev-parse", "HEAD")
    done = _run_patched("os._exit(137)", "update", str(root), hook=MID_CARRY)  # like SIGKILL
    assert done.returncode == 137
    assert _tree_text(root) != before, "the kill left a half-applied tree"
    for command in (["check", str(root)], ["update", str(root)]):
        refused = run_cli(*command)
        assert refused.returncode == 2, refused.stderr
        assert "update --abort" in refused.stderr and "commit" not in refused.stderr.lower()
        assert "another" not in refused.stderr, "a dead update's lock blocks nothing"
    done = run_cli("update", "--abort", str(root))
    assert done.returncode == 0 and "restored" in done.stdout
    assert _tree_text(root) == before and git(root, "rev-parse", "HEAD") == head
    assert git(root, "status", "--porcelain") == ""
    assert "nothing" in run_cli("update", "--abort", str(root)).stdout
    assert run_cli("update", str(root)).returncode == 0


def test_signal_while_carrying_puts_the_project_back(project) -> None:
    root, _ = project
    _edited_and_committed(root)
    before = _snapshot(root)
    done = _run_patched("os.kill(os.getpid(), signal.SIGTERM)", "update", str(root), hook=MID_CARRY)
    assert done.returncode == 143, done.stderr
    assert _snapshot(root) == before and git(root, "status", "--porcelain") == ""
    assert run_cli("update", str(root)).returncode == 0


# a signal sent before the hooked function runs (PATCHED_RUN sends it after)
SIGNAL_FIRST = PATCHED_RUN.replace(
    "    result = real(*args, **kwargs)\n    calls.append(1)\n    if len(calls) == {after}:\n"
    "        {action}\n",
    "    calls.append(1)\n    if len(calls) == {after}:\n        {action}\n"
    "    result = real(*args, **kwargs)\n",
)
# Ctrl-C raises in the child even where the test runner was started with SIGINT ignored
SIGINT_DEFAULT = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"


@pytest.mark.parametrize(
    ("hook", "first", "signame", "code"),
    [
        (("mlscaffold.journal", "carry", 1), False, "SIGTERM", 143),  # every file is in
        (("mlscaffold.journal", "end", 1), True, "SIGTERM", 143),  # the record is going
        (("mlscaffold.journal", "end", 1), True, "SIGINT", 130),
        (("mlscaffold.update", "update", 1), False, "SIGINT", 130),  # the result is listed
    ],
    ids=["after-carry", "before-end-term", "before-end-int", "while-reporting"],
)
def test_a_signal_after_the_point_of_no_return_says_the_update_was_applied(
    project, hook, first, signame, code
) -> None:
    """A signal once every file is in waits until the update's record is gone; then, or
    while the result is listed, the message says the update was applied (it was), and no
    record is left to make the next command call the project half-updated."""
    root, _ = project
    before = _edited_and_committed(root)
    module, name, after = hook
    template = SIGNAL_FIRST if first else PATCHED_RUN
    code_text = SIGINT_DEFAULT + template.format(
        module=module, name=name, after=after, action=f"os.kill(os.getpid(), signal.{signame})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code_text, "update", str(root)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert done.returncode == code, done.stderr
    assert "the update to template 2.0.0 was applied" in done.stderr, done.stderr
    assert "nothing was changed" not in done.stderr and "Traceback" not in done.stderr
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v2.0.0" and _tree_text(root) != before
    assert (root / "added_in_v2.txt").is_file()
    git_dir = Path(git(root, "rev-parse", "--absolute-git-dir").strip())
    assert not (git_dir / "mlscaffold-update.json").exists(), "no record of a half update"
    assert not (git_dir / "mlscaffold-update").exists()
    assert run_cli("check", str(root)).returncode == 0, "not reported as interrupted"
    assert "nothing" in run_cli("update", "--abort", str(root)).stdout


def test_deferred_signal_waits_for_the_checkpoint_or_the_end() -> None:
    """Before hold() a signal acts at once; after it, at a checkpoint or the block's end."""
    import signal

    from mlscaffold.interrupts import Terminated, deferrable, terminate_as_interrupt

    steps: list[str] = []
    with terminate_as_interrupt():
        with pytest.raises(Terminated), deferrable() as late:
            late.hold()
            signal.raise_signal(signal.SIGTERM)
            steps.append("went on")
        assert steps == ["went on"]
        with pytest.raises(Terminated), deferrable() as late:
            late.hold()
            signal.raise_signal(signal.SIGTERM)
            late.checkpoint()
            steps.append("not reached")
        with pytest.raises(Terminated), deferrable():
            signal.raise_signal(signal.SIGTERM)
            steps.append("not reached")
    assert steps == ["went on"]


def test_killed_after_the_conflicts_are_recorded_abort_restores_exactly(project) -> None:
    root, _ = project
    _edit(root, "app.py", "setting_3 = 3", "setting_3 = 'mine'")
    _commit(root)
    before = _snapshot(root)
    done = _run_patched("os._exit(137)", "update", str(root), hook=AFTER_INDEX)
    assert done.returncode == 137
    assert "app.py" in git(root, "ls-files", "-u"), "the conflict reached the index"
    done = run_cli("update", "--abort", str(root))
    assert done.returncode == 0 and "restored" in done.stdout, done.stderr
    assert _snapshot(root) == before and git(root, "status", "--porcelain") == ""
    assert not (
        Path(git(root, "rev-parse", "--absolute-git-dir").strip()) / "mlscaffold-update"
    ).exists()


def _user_work_after_the_kill(root: Path, what: str) -> None:
    """What a user does next on a half-updated tree, not knowing an update was killed."""
    if what == "commit":
        _edit(root, "notes.txt", "My own notes.", "My own notes, and more after the kill.")
        _commit(root, "work after the kill")
    elif what == "edit":
        path = root / "app.py"
        path.write_text(path.read_text() + "after_the_kill = True\n")
    else:
        (root / "scratch.py").write_text("print('written after the kill')\n")


@pytest.mark.parametrize("what", ["commit", "edit", "new file"])
def test_abort_refuses_when_the_user_worked_after_the_kill(project, what) -> None:
    root, _ = project
    _edited_and_committed(root)
    start = git(root, "rev-parse", "HEAD").strip()
    done = _run_patched("os._exit(137)", "update", str(root), hook=MID_CARRY)
    assert done.returncode == 137
    _user_work_after_the_kill(root, what)
    before = _snapshot(root)
    done = run_cli("update", "--abort", str(root))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "restored" not in done.stdout and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    named = {"commit": "1 new commit", "edit": "app.py", "new file": "scratch.py"}[what]
    assert named in lines[0]
    assert start[:8] in lines[1] and f"git diff {start[:8]}" in lines[1]
    assert _snapshot(root) == before, "--abort must not touch the user's work"
    assert run_cli("update", "--abort", str(root)).returncode == 2, "it stays refused"
    assert _snapshot(root) == before


def test_quit_forgets_a_killed_update_and_keeps_the_tree(project) -> None:
    root, _ = project
    _edited_and_committed(root)
    assert _run_patched("os._exit(137)", "update", str(root), hook=MID_CARRY).returncode == 137
    _user_work_after_the_kill(root, "new file")
    before = _snapshot(root)
    done = run_cli("update", "--quit", str(root))
    assert done.returncode == 0, done.stderr
    assert _snapshot(root) == before
    assert run_cli("check", str(root)).returncode in (0, 1), "no longer blocked"
    assert "nothing" in run_cli("update", "--quit", str(root)).stdout


def _start_paused_update(
    root: Path, tmp_path: Path, hook: tuple[str, str, int]
) -> tuple[subprocess.Popen[str], Path]:
    """An update that stops at `hook` until the test creates the file `go`."""
    ready, go = tmp_path / "ready", tmp_path / "go"
    wait = (
        f"open({str(ready)!r}, 'w').close()\n"
        f"        while not os.path.exists({str(go)!r}): time.sleep(0.05)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", _patched_code(wait, hook), "update", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    for _ in range(1200):
        if ready.exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert ready.exists(), proc.communicate()
    return proc, go


@pytest.mark.parametrize("hook", [AFTER_COPIER, MID_CARRY], ids=["rehearsing", "carrying"])
def test_one_update_at_a_time(project, tmp_path: Path, hook) -> None:
    root, _ = project
    _edited_and_committed(root)
    first, go = _start_paused_update(root, tmp_path, hook)
    try:
        during = _snapshot(root)
        for command in (["update"], ["update", "--abort"], ["update", "--pretend"], ["check"]):
            done = run_cli(*command, str(root))
            assert done.returncode == 2, (command, done.stdout, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert lines[0] == (
                f"error: another mlscaffold update (pid {first.pid}) is working on this project"
            ), (command, done.stderr)
            assert lines[1].startswith("hint: wait for it to finish")
            assert _snapshot(root) == during, f"{command} touched the running update's tree"
    finally:
        go.touch()
        _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert "changed by template v2" in (root / "app.py").read_text()
    assert (root / "added_in_v2.txt").is_file()
    _assert_kept(root, USER_LINE, "My own notes.", "# Demo, my title")
    assert run_cli("update", str(root)).returncode == 0


def test_a_stale_lock_file_blocks_nothing(project) -> None:
    root, _ = project
    (root / ".git" / "mlscaffold-update.lock").write_text("999999\n")  # its owner is long gone
    done = run_cli("update", str(root))
    assert done.returncode == 0, done.stderr


def test_killed_before_touching_the_project_leaves_it_as_it_was(project) -> None:
    root, _ = project
    before = _snapshot(root)
    assert _run_patched("os._exit(137)", "update", str(root)).returncode == 137
    assert _snapshot(root) == before and git(root, "status", "--porcelain") == ""
    done = run_cli("update", str(root))
    assert done.returncode == 0, done.stderr
    assert (root / "added_in_v2.txt").is_file()


# ---- dirty trees with nothing to do, pretend on a dirty tree --------------------------------


def _make_dirty(root: Path) -> None:
    (root / "scratch.py").write_text("print('wip')\n")
    _edit(root, "notes.txt", "Notes shipped by the template.", "Notes being edited.")


def test_up_to_date_with_uncommitted_changes_is_nothing_to_do(project) -> None:
    root, _ = project
    assert run_cli("update", str(root)).returncode == 0
    _commit(root, "update")
    _make_dirty(root)
    before = _snapshot(root)
    for extra in ([], ["--pretend"]):
        done = run_cli("update", str(root), *extra)
        assert done.returncode == 0, done.stderr
        assert "already on template 2.0.0: nothing to do" in done.stdout
        assert _snapshot(root) == before


def test_pretend_on_a_dirty_tree_rehearses_the_last_commit(project) -> None:
    root, _ = project
    _make_dirty(root)
    before = _snapshot(root)
    done = run_cli("update", str(root), "--pretend")
    assert done.returncode == 0, done.stderr
    assert "would update 1.0.0 → 2.0.0" in done.stdout
    assert "uncommitted" in done.stderr and "scratch.py" in done.stderr
    assert _snapshot(root) == before
    refused = run_cli("update", str(root))
    assert refused.returncode == 2 and "uncommitted changes" in refused.stderr, "real one refuses"


# ---- binary files and renamed files ------------------------------------------------------

WIDE_V1 = "Wide text, v1\nsecond line\n"
WIDE_V2 = "Wide text, v2 of the template\nsecond line\n"
BLOB = b"\x00\x01header\x00shipped by the template\x00"
MOVABLE_V1 = "a = 1\nb = 2\nc = 3\n"
MOVABLE_V2 = "a = 1\nb = 2\nc = 'changed by template v2'\n"


def _write_rich_template(root: Path, version: int) -> None:
    """The synthetic template plus a UTF-16 text file (binary to git: NUL bytes) the template
    changes, a NUL-byte blob it does not, and a file it changes that users like to rename."""
    from conftest import _write_template

    _write_template(root, version)
    kind = root / "sentiment-classifier"
    (kind / "wide.txt").write_bytes((WIDE_V1 if version == 1 else WIDE_V2).encode("utf-16"))
    (kind / "blob.bin").write_bytes(BLOB)
    (kind / "movable.py").write_text(MOVABLE_V1 if version == 1 else MOVABLE_V2)


@pytest.fixture
def rich_project(tmp_path: Path, monkeypatch) -> Path:
    from conftest import release

    src, bundle = tmp_path / "rich-src", tmp_path / "rich-bundles" / "current.bundle"
    _write_rich_template(src, 1)
    release.release("1.0.0", replace=False, bundle=bundle, templates=src)
    v1 = bundle.with_name("v1.bundle")
    v1.write_bytes(bundle.read_bytes())
    _write_rich_template(src, 2)
    release.release("2.0.0", replace=False, bundle=bundle, templates=src)
    monkeypatch.setenv(source.SHIPPED_ENV, str(v1))
    dest = tmp_path / "rich"
    done = run_cli("new", "sentiment-classifier", str(dest), "--defaults")
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv(source.SHIPPED_ENV, str(bundle))
    return dest


@pytest.mark.parametrize("mode", ["inline", "rej"])
def test_binary_file_changed_by_both_is_a_conflict(rich_project: Path, mode: str) -> None:
    root = rich_project
    mine = (WIDE_V1 + "my own line\n").encode("utf-16")
    (root / "wide.txt").write_bytes(mine)
    _commit(root)
    done = run_cli("update", str(root), "--conflict", mode)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (root / "wide.txt").read_bytes() == mine, "the user's version stays in the tree"
    assert (root / "wide.txt.rej").read_bytes() == WIDE_V2.encode("utf-16")
    listed = "wide.txt" if mode == "inline" else "wide.txt.rej"
    assert f"conflicts in 1 file(s):\n  {listed}\n" in done.stderr
    assert "binary" in done.stderr
    if mode == "inline":
        assert "wide.txt" in git(root, "ls-files", "-u"), "git status shows it unmerged"
    assert "changed by template v2" in (root / "app.py").read_text(), "the rest applies"


def test_binary_conflict_through_the_api(rich_project: Path) -> None:
    from mlscaffold.update import update

    root = rich_project
    (root / "wide.txt").write_bytes((WIDE_V1 + "mine\n").encode("utf-16"))
    _commit(root)
    pretend = update(root, pretend=True)
    assert pretend.conflicts == ["wide.txt"] and pretend.needs_attention
    result = update(root)
    assert result.conflicts == ["wide.txt"] and result.needs_attention


def test_binary_file_changed_only_by_the_user_is_kept(rich_project: Path) -> None:
    root = rich_project
    mine = BLOB + b"my own bytes\x00"
    (root / "blob.bin").write_bytes(mine)
    _commit(root)
    done = run_cli("update", str(root))
    assert done.returncode == 0, done.stderr
    assert (root / "blob.bin").read_bytes() == mine
    assert (root / "wide.txt").read_bytes() == WIDE_V2.encode("utf-16"), "template-only: applied"


def test_renamed_file_the_template_changed_is_reported(rich_project: Path) -> None:
    root = rich_project
    git(root, "mv", "movable.py", "moved.py")
    _commit(root, "rename")
    done = run_cli("update", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "renamed" in done.stderr and "movable.py → moved.py" in done.stderr
    assert not (root / "movable.py").exists(), "the old name is not re-created"
    assert (root / "moved.py").read_text() == MOVABLE_V1
    patch = (root / "moved.py.rej").read_text()
    assert "+c = 'changed by template v2'" in patch and "+++ b/moved.py" in patch
    git(root, "apply", "moved.py.rej")
    assert (root / "moved.py").read_text() == MOVABLE_V2, "the patch applies to the new name"


def test_renamed_file_the_template_did_not_change_is_quiet(rich_project: Path) -> None:
    root = rich_project
    git(root, "mv", "blob.bin", "kept.bin")
    _commit(root, "rename")
    done = run_cli("update", str(root))
    assert done.returncode == 0, done.stderr
    assert not (root / "blob.bin").exists() and (root / "kept.bin").read_bytes() == BLOB


# ---- damaged or inconsistent state ---------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda a: a.update(_commit=""), "_commit"),
        (lambda a: a.pop("_commit"), "_commit"),
        (lambda a: a.update(_commit="banana"), "_commit"),
        (lambda a: a.update(_commit=123), "_commit"),
        (lambda a: a.update(project_name=None), "project_name"),
        (lambda a: a.update(_src_path="https://example.com/template.git"), "_src_path"),
    ],
)
def test_damaged_answers_are_one_clear_error(project, edit, named) -> None:
    root, _ = project
    path = root / ".copier-answers.yml"
    answers = yaml.safe_load(path.read_text())
    edit(answers)
    path.write_text(yaml.safe_dump(answers))
    _commit(root, "damage")
    for command in ("check", "update"):
        done = run_cli(command, str(root))
        assert done.returncode == 2, done.stderr
        assert ".copier-answers.yml" in done.stderr and named in done.stderr
        assert "unexpected" not in done.stderr and len(done.stderr.strip().splitlines()) <= 2


def test_answers_file_not_text_yaml_or_git_source(project, tmp_path: Path) -> None:
    root, _ = project
    path = root / ".copier-answers.yml"
    original = path.read_text()
    path.write_bytes(b"\xff\xfe\x00binary")
    done = run_cli("check", str(root))
    assert done.returncode == 2 and "not UTF-8" in done.stderr
    path.write_text("_src_path: [unclosed\nkind: x\n")
    done = run_cli("check", str(root))
    assert done.returncode == 2 and "not valid YAML (line" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 2
    plain_folder = tmp_path / "plain"
    plain_folder.mkdir()
    path.write_text(original.replace(source.USER_SOURCE, str(plain_folder)))
    done = run_cli("update", str(root))
    assert done.returncode == 2 and "not a git repository" in done.stderr


def test_unknown_answer_on_update_is_refused(project) -> None:
    root, _ = project
    before = _tree_text(root)
    done = run_cli("update", str(root), "-d", "nosuch=1")
    assert done.returncode == 2 and "nosuch" in done.stderr
    assert _tree_text(root) == before and git(root, "status", "--porcelain") == ""


def test_short_version_names_the_release(project) -> None:
    root, _ = project
    done = run_cli("update", str(root), "--to", "2.0")
    assert done.returncode == 0, done.stderr
    assert "updated 1.0.0 → 2.0.0" in done.stdout


def test_check_json_errors_and_read_only_home(project, tmp_path: Path) -> None:
    root, _ = project
    done = run_cli("check", str(tmp_path), "--json")
    assert done.returncode == 2 and "not a generated project" in done.stderr
    assert json.loads(done.stdout)["error"]["exit_code"] == 2
    home = Path(os.environ["HOME"])
    source.user_bundle().unlink()
    home.chmod(0o500)
    try:
        done = run_cli("check", str(root), "--json")
    finally:
        home.chmod(0o700)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["state"] == "behind"


def test_damaged_per_user_bundle_is_replaced(project) -> None:
    root, v12 = project
    user = source.user_bundle()
    user.write_bytes(b"garbage, not a bundle")
    done = run_cli("check", str(root))
    assert done.returncode == 1 and user.read_bytes() == v12.read_bytes()
    assert "damaged" in done.stderr
    user.unlink()
    user.mkdir()
    (user / "junk").write_text("x")
    done = run_cli("update", str(root))
    assert done.returncode == 0, done.stderr
    assert "damaged" in done.stderr and user.is_file()


# ---- uv.lock kept in step with pyproject.toml ---------------------------------------------

PYPROJECT = """[project]
name = "demo-project"
dependencies = [{dependencies}]
description = "A synthetic project"
requires-python = ">=3.10"
keywords = ["demo"]
classifiers = ["Private :: Do Not Upload"]
version = "0.1.0"
"""


def _locked_project(tmp_path: Path, monkeypatch, v2_dependencies: str) -> Path:
    """A project from a synthetic v1 whose pyproject.toml v2 changes, with a committed
    uv.lock; uv works offline from an empty cache (only a dependency-free lock resolves)."""
    from conftest import _write_template, release

    from mlscaffold import uvlock

    src, bundle = tmp_path / "lock-src", tmp_path / "lock-bundles" / "current.bundle"
    for version, dependencies in ((1, ""), (2, v2_dependencies)):
        _write_template(src, version)
        text = PYPROJECT.format(dependencies=dependencies)
        (src / "sentiment-classifier" / "pyproject.toml").write_text(text)
        release.release(f"{version}.0.0", replace=False, bundle=bundle, templates=src)
        if version == 1:
            v1 = bundle.with_name("v1.bundle")
            v1.write_bytes(bundle.read_bytes())
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-uv-cache"))
    monkeypatch.setenv(source.SHIPPED_ENV, str(v1))
    root = tmp_path / "locked"
    assert run_cli("new", "sentiment-classifier", str(root), "--defaults").returncode == 0
    assert uvlock.lock(root) is None and uvlock.fits(root)
    _commit(root, "lock")
    monkeypatch.setenv(source.SHIPPED_ENV, str(bundle))
    return root


def test_update_refreshes_a_lock_the_new_pyproject_outgrew(tmp_path: Path, monkeypatch) -> None:
    from mlscaffold import uvlock

    root = _locked_project(tmp_path, monkeypatch, "\"tabulate; python_version < '3'\"")
    before = (root / "uv.lock").read_bytes()
    rehearsal = run_cli("update", str(root), "--pretend")
    assert rehearsal.returncode == 0, rehearsal.stderr
    assert "uv.lock would be refreshed" in rehearsal.stdout
    assert (root / "uv.lock").read_bytes() == before, "--pretend writes nothing"

    done = run_cli("update", str(root))
    assert done.returncode == 0, done.stderr
    assert "uv.lock refreshed for the new pyproject.toml" in done.stdout
    assert "  uv.lock\n" in done.stdout, "listed with the other changed files"
    assert (root / "uv.lock").read_bytes() != before and uvlock.fits(root)
    assert "tabulate" in (root / "uv.lock").read_text()


def test_a_lock_that_cannot_be_refreshed_is_left_and_exits_1(tmp_path: Path, monkeypatch) -> None:
    root = _locked_project(tmp_path, monkeypatch, '"tabulate>=0.9"')  # needs the index
    before = (root / "uv.lock").read_bytes()
    done = run_cli("update", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "uv.lock does not match the updated pyproject.toml" in done.stderr
    assert "make lock" in done.stderr and "Traceback" not in done.stderr
    assert "uv could not reach the package index" in done.stderr, "said in words"
    assert (root / "uv.lock").read_bytes() == before, "the old lock is left, not deleted"
    assert "tabulate>=0.9" in (root / "pyproject.toml").read_text(), "the update applied"
    assert "Added in v2" in (root / "README.md").read_text()


def test_cohort_update_never_runs_a_students_build_backend(tmp_path: Path, monkeypatch) -> None:
    """uv runs a project's own build backend to read dynamic metadata; in `cohort update`
    the project is a student's, so its lock is listed, not refreshed: no student code runs
    on the instructor's machine."""
    from mlscaffold.cohort import repos

    root = _locked_project(tmp_path, monkeypatch, "\"tabulate; python_version < '3'\"")
    marker = tmp_path / "student-code-ran"
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text().replace('version = "0.1.0"\n', 'dynamic = ["version"]\n')
    backend = '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    pyproject.write_text(text + "\n" + backend)
    (root / "backend.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    _commit(root, "my own build backend")
    job = repos.UpdateJob(root, "2.0.0", "template-2.0.0", push=False)
    outcome = repos.update_one(job)
    assert not marker.exists(), "the student's build backend ran"
    assert outcome.state == "updated", outcome
    assert "uv.lock not refreshed: the student runs make lock" in outcome.detail
    assert "tabulate" in git(root, "show", "template-2.0.0:pyproject.toml")
