"""The one git runner: every git command mlscaffold issues goes through `run`.

Missing git is detected here and nowhere else. GitPython is used only for `clone` (imported
lazily, ~50 ms); everything else is a plain `git` command, which keeps `new` close to the
cost of a Copier copy.

Git's automatic `gc`/`maintenance` is switched off for every git process we (and Copier,
which inherits our environment) start: a detached `git gc --auto` packs and deletes loose
refs while Python removes a temporary clone, which made `rmtree` fail now and then with
"No such file or directory (tags)".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from mlscaffold.errors import GitError, GitMissingError

_QUIET_GIT = {"gc.auto": "0", "maintenance.auto": "false"}


def quiet_git_environment() -> dict[str, str]:
    """Config for every git child process (git >= 2.31 reads GIT_CONFIG_COUNT)."""
    env: dict[str, str] = {}
    start = int(os.environ.get("GIT_CONFIG_COUNT", "0") or 0)
    for offset, (key, value) in enumerate(_QUIET_GIT.items()):
        env[f"GIT_CONFIG_KEY_{start + offset}"] = key
        env[f"GIT_CONFIG_VALUE_{start + offset}"] = value
    env["GIT_CONFIG_COUNT"] = str(start + len(_QUIET_GIT))
    return env


def install_quiet_git_environment() -> None:
    """Apply `quiet_git_environment` to this process, so Copier's git calls inherit it."""
    if os.environ.get("GIT_CONFIG_KEY_0") == "gc.auto":
        return
    os.environ.update(quiet_git_environment())


def require_git() -> str:
    found = shutil.which("git")
    if found is None:
        raise GitMissingError()
    return found


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `git ARGS`; a non-zero exit raises GitError with git's own message (when check)."""
    require_git()
    install_quiet_git_environment()
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if check and done.returncode != 0:
        raise GitError(done.stderr.strip() or f"git {args[0]} failed")
    return done


def succeeds(*args: str, cwd: Path | None = None) -> bool:
    """Whether `git ARGS` exits 0 (a question, not a command that must work)."""
    return run(*args, cwd=cwd, check=False).returncode == 0


def output(*args: str, cwd: Path | None = None) -> str:
    return run(*args, cwd=cwd).stdout.strip()


def is_repository_root(path: Path) -> bool:
    return (path / ".git").exists()


def identity(path: Path) -> dict[str, str]:
    """The configured user.name / user.email (empty when none: a fresh laptop or CI)."""
    found = run("config", "--get-regexp", r"^user\.(name|email)$", cwd=path, check=False).stdout
    return dict(line.split(" ", 1) for line in found.splitlines() if " " in line)


def init_and_commit(path: Path, message: str, fallback_name: str, fallback_email: str) -> None:
    """`git init`, add everything, first commit; the answers' author when no identity is set."""
    run("-c", "init.defaultBranch=main", "init", "--quiet", str(path))
    commit_all(path, message, fallback_name, fallback_email)


def commit_all(path: Path, message: str, fallback_name: str = "", fallback_email: str = "") -> None:
    """Add everything and commit, as the configured identity or else the fallback author."""
    configured = identity(path)
    name = (
        os.environ.get("GIT_AUTHOR_NAME")
        or configured.get("user.name")
        or fallback_name
        or "mlscaffold"
    )
    email = (
        os.environ.get("GIT_AUTHOR_EMAIL")
        or configured.get("user.email")
        or fallback_email
        or "mlscaffold@users.noreply.github.com"
    )
    author = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    run("add", "--all", cwd=path)
    run("commit", "--quiet", "--no-verify", "-m", message, cwd=path, env=author)


def _lines(*args: str, cwd: Path) -> list[str]:
    return [line for line in run(*args, cwd=cwd).stdout.splitlines() if line.strip()]


def dirty_files(path: Path) -> list[str]:
    """Modified, staged and untracked files (Copier refuses to update over any of them)."""
    return [line[3:] for line in _lines("status", "--porcelain", "--untracked-files=all", cwd=path)]


def unmerged_files(path: Path) -> list[str]:
    """Files Copier recorded as conflicted in the index (`git ls-files -u`)."""
    lines = _lines("ls-files", "-u", cwd=path)
    return sorted({line.split("\t", 1)[1] for line in lines if "\t" in line})


def rejected_hunk_files(path: Path) -> list[str]:
    """`*.rej` files left by `--conflict rej`, ignored ones included (a .venv costs nothing:
    git walks the tree in C)."""
    return sorted(_lines("ls-files", "--others", "--", "*.rej", cwd=path))


def deleted_files(path: Path) -> list[str]:
    """Tracked files missing from the working tree."""
    return sorted(_lines("ls-files", "--deleted", cwd=path))


def head_content(path: Path, name: str) -> bytes:
    require_git()
    return subprocess.run(
        ["git", "show", f"HEAD:{name}"], cwd=path, capture_output=True, check=True
    ).stdout


def restore_from_head(path: Path, name: str) -> None:
    run("checkout", "HEAD", "--", name, cwd=path)


def clone(path: Path, target: Path) -> None:
    """A local clone (hard-linked objects: fast and cheap) for rehearsing an update."""
    require_git()
    install_quiet_git_environment()
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")  # we checked for git ourselves
    import git as gitpython

    gitpython.Repo(path).clone(str(target))


def discard_changes(path: Path) -> None:
    """Back to HEAD: tracked files reset, new untracked files removed (ignored ones kept).

    Only called on a repository that was clean before we touched it, so nothing of the
    user's is lost.
    """
    run("reset", "--hard", "--quiet", "HEAD", cwd=path)
    run("clean", "-d", "--force", "--quiet", cwd=path)


def ls_remote_tags(source: str | Path) -> list[str]:
    """Tag names in a repository or bundle."""
    out = run("ls-remote", "--tags", "--refs", str(Path(source).expanduser())).stdout
    return [line.split("\t", 1)[-1].removeprefix("refs/tags/") for line in out.splitlines()]


# ---- for `update`'s rehearse-then-carry transaction (see journal.py) ----------------------


def git_dir(path: Path) -> Path:
    """The repository's git directory (`.git`, or where a `.git` file of a worktree points)."""
    plain = path.absolute() / ".git"
    if plain.is_dir():
        return plain  # the usual case, without a git process
    return Path(output("rev-parse", "--absolute-git-dir", cwd=path))


def local_clone(path: Path, target: Path) -> None:
    """A clone of HEAD sharing the objects by hard links (plain git: 3x faster than GitPython's
    `clone`, which costs its import too)."""
    run("clone", "--quiet", "--local", str(path.absolute()), str(target))


def run_bytes(*args: str, cwd: Path, data: bytes | None = None) -> bytes:
    """`git ARGS` with bytes in and out (blobs, NUL-separated lists); GitError on failure."""
    require_git()
    install_quiet_git_environment()
    done = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, check=False)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise GitError(message or f"git {args[0]} failed")
    return done.stdout


def _nul_fields(raw: bytes) -> list[str]:
    return [field.decode("utf-8", "surrogateescape") for field in raw.split(b"\0")]


def changed_paths(path: Path, ignored: bool = False) -> list[str]:
    """Every path `git status` reports (staged, modified, deleted, untracked, unmerged; with
    `ignored`, ignored files one by one too), NUL-separated so no name is mangled."""
    args = ["status", "--porcelain=v1", "-z", "--untracked-files=all"]
    if ignored:
        args.append("--ignored=traditional")
    fields = _nul_fields(run_bytes(*args, cwd=path))
    found, index = [], 0
    while index < len(fields):
        entry = fields[index]
        index += 1
        if len(entry) < 4:
            continue
        found.append(entry[3:])
        if entry[0] in "RC":  # a staged rename or copy: its source follows
            found.append(fields[index])
            index += 1
    return sorted(set(found))


def tracked_files(path: Path, rev: str = "HEAD") -> set[str]:
    fields = _nul_fields(run_bytes("ls-tree", "-r", "-z", "--name-only", rev, cwd=path))
    return {name for name in fields if name}


def unmerged_entries(path: Path) -> list[tuple[str, str, str, str]]:
    """(mode, object, stage, path) for every conflicted index entry."""
    entries = []
    for line in _nul_fields(run_bytes("ls-files", "-u", "-z", cwd=path)):
        if "\t" in line:
            meta, name = line.split("\t", 1)
            mode, obj, stage = meta.split()
            entries.append((mode, obj, stage, name))
    return entries


def binary_changes(path: Path) -> list[str]:
    """Files that differ from HEAD and that git treats as binary (NUL bytes, `-diff`...)."""
    out = _nul_fields(run_bytes("diff", "--numstat", "-z", "--no-renames", "HEAD", cwd=path))
    return sorted(line.split("\t", 2)[2] for line in out if line.startswith("-\t-\t"))


def renamed_in_history(path: Path) -> dict[str, str]:
    """Each path ever renamed in a commit (`git mv`), mapped to its latest name."""
    fields = [
        f
        for f in _nul_fields(
            run_bytes(
                "log", "-M", "--diff-filter=R", "--name-status", "-z", "--format=", "HEAD", cwd=path
            )
        )
        if f
    ]
    moves, index = [], 0
    while index + 2 < len(fields):
        if fields[index][:1] == "R" and fields[index][1:].isdigit():
            moves.append((fields[index + 1], fields[index + 2]))
            index += 3
        else:
            index += 1
    latest: dict[str, str] = {}
    for old, new in reversed(moves):  # oldest first, so a later rename extends a chain
        for key, value in latest.items():
            if value == old:
                latest[key] = new
        latest[old] = new
    return {old: new for old, new in latest.items() if old != new}
