"""The grader's own work on a student's repository, on the host, is bounded before it starts.

A commit of a few KB can name 10^6 paths (one subtree shared ten times per level); a
pipeline can make a folder 1,200 levels deep; a `.git` file can point at another student's
repository. Fast: no project generation, no sandbox."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git

from mlscaffold.cohort import overlay, trees

PATTERNS = ["src/hw1/features.py", "configs/*", "notebooks/*"]
WIDTH, LEVELS = 10, 6  # 10^6 paths


def _plumb(repo: Path, *args: str, data: str = "") -> str:
    who = {"GIT_AUTHOR_NAME": "Student", "GIT_AUTHOR_EMAIL": "s@example.com"}
    who |= {"GIT_COMMITTER_NAME": "Student", "GIT_COMMITTER_EMAIL": "s@example.com"}
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        input=data,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **who},
    )
    return done.stdout.strip()


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _reference(tmp_path: Path) -> Path:
    reference = tmp_path / "reference"
    _write(
        reference,
        {
            "src/hw1/features.py": "REFERENCE = 1\n",
            "tests/test_x.py": "def test_x():\n    pass\n",
            "configs/a.yaml": "a: 1\n",
            "README.md": "# hw1\n",
        },
    )
    return reference


def _student(tmp_path: Path, name: str = "student") -> Path:
    """The first commit as `cohort new` makes it, then the student's: an allowed file, a
    test (not theirs), a new config and a committed link."""
    repo = tmp_path / name
    _write(
        repo,
        {
            "src/hw1/features.py": "REFERENCE = 1\n",
            "tests/test_x.py": "def test_x():\n    pass\n",
            "configs/a.yaml": "a: 1\n",
            "README.md": "# hw1\n",
        },
    )
    git(repo, "-c", "init.defaultBranch=main", "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "cohort new")
    _write(
        repo,
        {
            "src/hw1/features.py": f"STUDENT = '{name}'\n",
            "tests/test_x.py": "def test_x():\n    assert True  # mine\n",
            "configs/b.yaml": "b: 2\n",
        },
    )
    (repo / "configs" / "link.yaml").symlink_to("/etc/passwd")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "my work")
    return repo


def _bomb(repo: Path, where: str) -> None:
    """Commit a tree naming WIDTH**LEVELS paths (a few KB) at `where` (`junk` or
    `configs/bomb`) with plumbing: each level is WIDTH entries pointing at the level below."""
    blob = _plumb(repo, "hash-object", "-w", "--stdin", data="x\n")
    tree = _plumb(repo, "mktree", data="".join(f"100644 blob {blob}\tf{i}\n" for i in range(WIDTH)))
    for _ in range(LEVELS - 1):
        tree = _plumb(
            repo, "mktree", data="".join(f"040000 tree {tree}\td{i}\n" for i in range(WIDTH))
        )
    parts = where.split("/")
    for depth in range(len(parts) - 1, -1, -1):  # the folder that holds it, then up to the root
        folder = "/".join(parts[:depth])
        listing = _plumb(repo, "ls-tree", f"HEAD:{folder}" if folder else "HEAD")
        rows = [row for row in listing.splitlines() if row.split("\t", 1)[1] != parts[depth]]
        rows.append(f"040000 tree {tree}\t{parts[depth]}")
        tree = _plumb(repo, "mktree", data="\n".join(rows) + "\n")
    commit = _plumb(repo, "commit-tree", tree, "-p", "HEAD", "-m", "bomb")
    _plumb(repo, "update-ref", "refs/heads/main", commit)


MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from mlscaffold.cohort import overlay
    reference, repo, dest = map(Path, sys.argv[1:4])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    try:
        done = overlay.build(reference, repo, dest, sys.argv[4:])
        outcome = {"taken": done.taken, "refused": done.refused}
    except overlay.TooLarge as exc:
        outcome = {"too_large": str(exc)}
    outcome["seconds"] = time.monotonic() - start
    outcome["extra_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    outcome["git_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(outcome))
    """
)


def _measured_build(reference: Path, repo: Path, dest: Path) -> dict:
    """overlay.build in a process of its own: its peak memory (ru_maxrss) is the build's."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(reference), str(repo), str(dest), *PATTERNS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"overlay.build: {outcome['seconds']:.2f} s, {outcome['extra_mb']:.1f} MB more for the"
        f" grader, {outcome['git_mb']:.1f} MB at most for one git process"
    )
    return outcome


def test_a_small_commit_still_overlays(tmp_path: Path) -> None:
    repo = _student(tmp_path)
    dest = tmp_path / "graded"
    done = overlay.build(_reference(tmp_path), repo, dest, PATTERNS)
    assert sorted(done.taken) == ["configs/a.yaml", "configs/b.yaml", "src/hw1/features.py"]
    assert (dest / "src/hw1/features.py").read_text() == "STUDENT = 'student'\n"
    assert (dest / "configs/b.yaml").read_text() == "b: 2\n"
    assert "pass" in (dest / "tests/test_x.py").read_text()  # the reference's
    assert done.refused == ["tests/test_x.py"]
    assert done.skipped == ["configs/link.yaml"]
    assert not (dest / "configs/link.yaml").exists()


def test_a_bomb_outside_the_allowed_paths_costs_nothing(tmp_path: Path) -> None:
    repo = _student(tmp_path)
    _bomb(repo, "junk")
    assert _plumb(repo, "count-objects", "-v").count("\n") < 20  # a few KB of objects
    outcome = _measured_build(_reference(tmp_path), repo, tmp_path / "graded")
    assert "too_large" not in outcome
    assert "src/hw1/features.py" in outcome["taken"]
    assert outcome["seconds"] < 5
    assert outcome["extra_mb"] < 100 and outcome["git_mb"] < 100
    refused = outcome["refused"]  # bounded: the first ones in git's order, then "..."
    assert len(refused) == overlay.MAX_REFUSED + 1 and refused[-1] == overlay.MORE
    assert refused[0] == "junk/d0/d0/d0/d0/d0/f0"
    assert all(path.startswith("junk/") for path in refused[:-1])


def test_a_bomb_where_students_may_write_is_too_large(tmp_path: Path) -> None:
    repo = _student(tmp_path)
    _bomb(repo, "configs/bomb")
    assert _plumb(repo, "rev-parse", "HEAD:configs/bomb/d0/d0/d0/d0/d0/f9")
    outcome = _measured_build(_reference(tmp_path), repo, tmp_path / "graded")
    assert "more than" in outcome.get("too_large", ""), outcome
    assert outcome["seconds"] < 5
    assert outcome["extra_mb"] < 100 and outcome["git_mb"] < 100


def test_the_time_budget_covers_git(tmp_path: Path) -> None:
    repo = _student(tmp_path)
    with pytest.raises(overlay.TooLarge, match="took more than"):
        overlay.build(_reference(tmp_path), repo, tmp_path / "graded", PATTERNS, seconds=0)


def test_git_is_killed_when_the_budget_runs_out(tmp_path: Path) -> None:
    student = overlay._Git(_student(tmp_path), overlay.Budget(0.5))
    start = time.monotonic()
    with student.start("cat-file", "--batch", stdin=subprocess.PIPE) as running:
        assert running.read1() == b""  # git waits for input: the budget's timer ends it
        assert isinstance(running.cut_short(), overlay.TooLarge)
    assert time.monotonic() - start < 5


def test_many_changed_files_elsewhere_are_listed_up_to_the_cap(tmp_path: Path) -> None:
    repo = _student(tmp_path)
    _write(repo, {f"other/{i:03}.txt": "x\n" for i in range(120)})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "more")
    done = overlay.build(_reference(tmp_path), repo, tmp_path / "graded", PATTERNS)
    assert len(done.refused) == overlay.MAX_REFUSED + 1 and done.refused[-1] == overlay.MORE


def test_pathspecs_come_from_the_allowed_patterns() -> None:
    assert overlay.pathspecs(["src/hw1/model.py", "configs/*", "src/*/x.py", "a/b?/c"]) == [
        "a/",
        "configs/",
        "src/",
        "src/hw1/model.py",
    ]
    assert overlay.pathspecs(["*.ipynb", "configs/*"]) is None  # from the top
    assert overlay.pathspecs([]) == []


@pytest.mark.parametrize("kind", ["file", "symlink"])
def test_a_git_that_is_not_the_repository_s_own_is_refused(tmp_path: Path, kind: str) -> None:
    other = _student(tmp_path, "other")
    repo = tmp_path / "student"
    repo.mkdir()
    if kind == "file":
        (repo / ".git").write_text(f"gitdir: {other / '.git'}\n")
    else:
        (repo / ".git").symlink_to(other / ".git")
    assert "other" in git(repo, "show", "HEAD:src/hw1/features.py")  # git would follow it
    with pytest.raises(overlay.NotARepository, match="not a repository of its own"):
        overlay.build(_reference(tmp_path), repo, tmp_path / "graded", PATTERNS)
    assert not (tmp_path / "graded").exists()  # refused before anything else


def test_an_inherited_git_dir_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = _student(tmp_path, "other")
    repo = _student(tmp_path)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    dest = tmp_path / "graded"
    overlay.build(_reference(tmp_path), repo, dest, PATTERNS)
    assert (dest / "src/hw1/features.py").read_text() == "STUDENT = 'student'\n"


# ---- trees ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _deep_trees_removed(tmp_path: Path) -> Iterator[None]:
    """pytest's own clean-up (shutil.rmtree) fails on the deep trees these tests make."""
    yield
    for child in tmp_path.iterdir():
        trees.remove(child)


def _deep(top: Path, levels: int) -> None:
    """`top`/d/d/.../d/bottom.txt, made through folder fds (os.makedirs recurses too)."""
    top.mkdir(parents=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(levels):
        os.mkdir("d", dir_fd=fd)
        below = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = below
    os.close(os.open("bottom.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    os.close(fd)


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    _write(outside, {"keep.txt": "mine\n", "sub/also.txt": "mine\n"})
    return outside


def test_remove_copes_with_depth_read_only_folders_and_links(tmp_path: Path) -> None:
    top = tmp_path / "scratch"
    _deep(top / "deep", 2_500)  # past PATH_MAX (4,096 bytes) as one path
    _write(top, {"ro/a.txt": "a", "ro/sub/b.txt": "b", "closed/c.txt": "c"})
    (top / "ro" / "sub").chmod(0o500)
    (top / "ro").chmod(0o500)
    (top / "closed").chmod(0)
    outside = _outside(tmp_path)
    (top / "folder-link").symlink_to(outside)
    (top / "file-link").symlink_to(outside / "keep.txt")
    trees.remove(top)
    assert not os.path.lexists(top)
    assert (outside / "keep.txt").read_text() == "mine\n"
    assert (outside / "sub" / "also.txt").is_file()
    trees.remove(top)  # missing: nothing to do
    link = tmp_path / "link"
    link.symlink_to(outside)
    trees.remove(link)  # the link, not its target
    assert not os.path.lexists(link) and (outside / "keep.txt").is_file()


def test_copy_copes_with_depth_respects_caps_and_copies_links_as_links(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _deep(src / "deep", 1_200)
    outside = _outside(tmp_path)
    (src / "folder-link").symlink_to(outside)
    (src / "file-link").symlink_to(outside / "keep.txt")
    os.mkfifo(src / "fifo")
    dst = tmp_path / "dst"
    trees.copy(src, dst, max_depth=2_000, max_entries=10_000)
    assert (dst / "deep" / ("d/" * 1_200) / "bottom.txt").is_file()
    assert os.readlink(dst / "folder-link") == str(outside)
    assert os.readlink(dst / "file-link") == str(outside / "keep.txt")
    assert not os.path.lexists(dst / "fifo")  # neither blocked on nor copied
    with pytest.raises(trees.TooDeep):
        trees.copy(src, tmp_path / "shallow", max_depth=100, max_entries=10_000)
    with pytest.raises(trees.TooMany):
        trees.copy(src, tmp_path / "few", max_depth=2_000, max_entries=50)
    assert issubclass(trees.TooDeep, overlay.TooLarge)  # a grade's note says it in words


def test_copy_merging_never_writes_through_a_link(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    src, dst = tmp_path / "outputs", tmp_path / "project"
    _write(src, {"models/model.txt": "new\n"})
    (dst / "models").mkdir(parents=True)
    (dst / "models" / "model.txt").symlink_to(outside / "keep.txt")
    trees.copy(src, dst, max_depth=10, max_entries=10, merge=True)
    assert (dst / "models" / "model.txt").read_text() == "new\n"
    assert not (dst / "models" / "model.txt").is_symlink()
    assert (outside / "keep.txt").read_text() == "mine\n"


def test_files_copes_with_depth_respects_caps_and_follows_no_link(tmp_path: Path) -> None:
    top = tmp_path / "models"
    _deep(top / "deep", 1_200)
    _write(top, {"a.txt": "a"})
    outside = _outside(tmp_path)
    (top / "folder-link").symlink_to(outside)
    (top / "file-link").symlink_to(outside / "keep.txt")
    found = list(trees.files(top, max_depth=2_000, max_entries=10_000))
    assert [p.name for p in found] == ["a.txt", "bottom.txt"]
    assert found[1] == top / "deep" / ("d/" * 1_200) / "bottom.txt"
    with pytest.raises(trees.TooDeep):
        list(trees.files(top, max_depth=100, max_entries=10_000))
    with pytest.raises(trees.TooMany):
        list(trees.files(top, max_depth=2_000, max_entries=50))
    assert list(trees.files(top / "folder-link", max_depth=9, max_entries=9)) == []


def test_scratch_is_removed_whatever_happens(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), trees.scratch("mlscaffold-test-", tmp_path) as folder:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        _deep(folder / "deep", 1_200)
        _write(folder, {"inputs/held-out.csv": "secret\n"})
        (folder / "inputs").chmod(0o500)
        raise RuntimeError("the grader failed")
    assert not folder.exists()
    with trees.scratch("mlscaffold-test-", tmp_path) as folder:
        pass
    assert not folder.exists()
