"""`publish`: put a generated project on GitHub (or any empty remote) and push it.

Two ways, both ending with the project's branch pushed and `origin` tracking it:

* through the official GitHub CLI, `gh repo create NAME --source PATH --push`, then
  `gh repo edit OWNER/NAME --add-topic ...` (`gh repo create` has no topics flag). `gh`
  holds the user's login, so mlscaffold never sees a token;
* with `--remote URL`, plain git to a repository that already exists and is empty (any
  host, no `gh` needed): `git remote add origin URL`, `git push --set-upstream`.

Everything that can be checked without touching the network or the project is checked
first, and each problem is one refusal (exit 2) that says how to fix it: not a generated
project, not a git repository or no commit, an interrupted update, an `origin` already set
(publishing twice would push somewhere unexpected), uncommitted files (they would not be
published, and the user believes they are), `gh` missing or not logged in. `--dry-run`
makes the project's checks and prints the commands instead of running them; it does not
call `gh` at all, so it shows what would happen on a machine without it too. A state a
real run refuses (an `origin`, uncommitted files: `make all` rewrites the README) does not
stop a dry run: it shows the commands and says what a real run would refuse.

What the user passes never reaches git or gh as an option: a URL or name starting with `-`
is refused and git gets `--` before URLs and refs. Credentials in a URL
(`https://user:token@host/...`) are blanked out of every message.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlscaffold import git, journal
from mlscaffold.answers import printable
from mlscaffold.errors import DirtyRepositoryError, GitError, MlscaffoldError, UsageError
from mlscaffold.project import Project, load

Progress = Callable[[str], None]

# GitHub's own rules: a repository name is 1-100 of these (an owner 1-39), never starting
# with '-' (it would reach `gh` as an option), never '.', '..' or ending in '.git'.
_GITHUB_NAME = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._-]*$")
_REPO_MAX, _OWNER_MAX = 100, 39

# `scheme://USERINFO@`: a password or token (`user:pass@`, `token@`) that must not be shown.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s]+)@")
_LOGIN_SCHEMES = ("ssh://", "git+ssh://", "ssh+git://")  # `ssh://git@host`: a login, no secret

# A topic is lowercase letters, digits and hyphens, starts with a letter or digit, 50 at
# most; a repository takes 20.
_TOPIC_MAX, _TOPICS_MAX = 50, 20

# Topics that say what each kind of project is, so the portfolio shows up in GitHub's topic
# pages people browse (https://github.com/topics/sentiment-analysis).
KIND_TOPICS: dict[str, tuple[str, ...]] = {
    "sentiment-classifier": ("nlp", "sentiment-analysis", "text-classification", "scikit-learn"),
    "image-classifier": ("computer-vision", "image-classification", "deep-learning", "pytorch"),
    "recommender": ("recommender-system", "collaborative-filtering", "matrix-factorization"),
    "kaggle-entry": ("kaggle", "tabular-data", "scikit-learn"),
}

# The answer naming each kind's dataset. "Your own data" values say nothing to a visitor.
DATASET_ANSWERS: tuple[str, ...] = (
    "sentiment_dataset",
    "image_dataset",
    "recommender_dataset",
    "competition",
)
_OWN_DATA = {"csv", "folder", ""}
_DATASET_TOPICS = {"ml-100k": "movielens", "ml-latest-small": "movielens", "ml-1m": "movielens"}

GH_INSTALL_HINT = (
    "install the GitHub CLI (https://cli.github.com: brew install gh, winget install "
    "GitHub.cli, or your Linux package manager), or push to an existing empty repository "
    "with --remote URL"
)


class GhError(MlscaffoldError):
    """`gh` ran and failed (name taken, network, permissions): its own words are shown."""


@dataclass(frozen=True)
class PublishRequest:
    path: Path
    name: str | None = None  # NAME or OWNER/NAME for gh; default from the answers
    public: bool = True  # a portfolio is meant to be seen
    remote: str | None = None  # push to this existing empty repository with plain git
    dry_run: bool = False


@dataclass
class PublishResult:
    root: Path
    branch: str
    commands: list[list[str]] = field(default_factory=list)  # what ran, or would run
    url: str | None = None  # the repository's web page (None for a remote with no web page)
    remote: str | None = None  # where origin points
    topics: list[str] = field(default_factory=list)
    dry_run: bool = False
    refusals: list[MlscaffoldError] = field(default_factory=list)  # what a real run refuses

    @property
    def actions_url(self) -> str | None:
        """GitHub's Actions page, where the generated CI workflow's first run shows up."""
        if self.url and _is_github_host(urlsplit(self.url).hostname or ""):
            return f"{self.url}/actions"
        return None


# ---- what the answers say ---------------------------------------------------------------


def _topic(text: str) -> str:
    """`text` as a GitHub topic (`Titanic` → `titanic`, `SST 2` → `sst-2`)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:_TOPIC_MAX].rstrip("-")


def topics(answers: dict[str, Any]) -> list[str]:
    """Topics from the answers: the field, the kind, what the kind is about, the dataset."""
    kind = str(answers.get("kind", ""))
    found = ["machine-learning", kind, *KIND_TOPICS.get(kind, ())]
    for name in DATASET_ANSWERS:
        value = str(answers.get(name) or "").strip()
        if value.lower() not in _OWN_DATA:
            found.append(_DATASET_TOPICS.get(value, value))
    unique: list[str] = []
    for topic in (_topic(item) for item in found):
        if topic and topic not in unique:
            unique.append(topic)
    return unique[:_TOPICS_MAX]


def description(answers: dict[str, Any]) -> str:
    """The one-line description answer (the project name when it was left empty)."""
    text = str(answers.get("description") or "").strip() or str(answers.get("project_name") or "")
    return " ".join(text.split())  # GitHub keeps one line; answers are one line already


def _folder_repo_name(folder: str) -> str:
    """A folder name as GitHub would accept it (it turns other characters into '-')."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", folder).removesuffix(".git").strip("-")
    return name if name not in ("", ".", "..") else "ml-project"


def repository_name(project: Project, override: str | None = None) -> str:
    """NAME or OWNER/NAME to create: --name, else the answers (`github_user/repository_name`,
    so the README's CI badge points at the new repository), else the folder's name."""
    if override is not None:
        return _checked_name(override)
    name = str(project.answers.get("repository_name") or "").strip()
    name = name or _folder_repo_name(project.root.name)
    owner = str(project.answers.get("github_user") or "").strip()
    return _checked_name(f"{owner}/{name}" if owner else name)


def _is_github_name(part: str, longest: int) -> bool:
    """One part of OWNER/NAME as GitHub accepts it (and `gh` cannot take for an option)."""
    return (
        len(part) <= longest
        and _GITHUB_NAME.match(part) is not None
        and part not in (".", "..")
        and not part.lower().endswith(".git")
    )


def _checked_name(name: str) -> str:
    owner, slash, repo = name.rpartition("/")
    if not _is_github_name(repo, _REPO_MAX) or (slash and not _is_github_name(owner, _OWNER_MAX)):
        raise UsageError(
            f"'{printable(name)}' is not a GitHub repository name",
            "use NAME or OWNER/NAME, each of letters, digits, '.', '-' and '_', not starting "
            "with '-' nor ending in '.git' (e.g. --name movie-reviews)",
        )
    return name


# ---- what the repository says -------------------------------------------------------------


def _shown(names: list[str], limit: int = 5) -> str:
    listed = ", ".join(printable(name) for name in names[:limit])
    return listed + (f" and {len(names) - limit} more" if len(names) > limit else "")


def current_branch(root: Path) -> str:
    """The branch to push; a repository with no commit or a detached HEAD has none."""
    if not git.succeeds("rev-parse", "--verify", "--quiet", "HEAD", cwd=root):
        raise UsageError(
            f"{root} has no commit yet: there is nothing to push",
            "commit the project first: git add -A && git commit -m 'First commit'",
        )
    branch = git.run("symbolic-ref", "--quiet", "--short", "HEAD", cwd=root, check=False)
    if branch.returncode != 0:
        raise UsageError(
            f"{root} is on a detached HEAD: no branch to publish",
            "switch to your branch first: git switch main",
        )
    return branch.stdout.strip()


def origin_url(root: Path) -> str | None:
    done = git.run("remote", "get-url", "origin", cwd=root, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def state_refusals(root: Path) -> list[MlscaffoldError]:
    """What a real run refuses in the repository's present state (an `origin`, uncommitted
    files); a dry run only reports them, since the commands can be shown all the same."""
    found: list[MlscaffoldError] = []
    existing = origin_url(root)
    if existing is not None:
        found.append(
            UsageError(
                f"{root.name} already has a remote 'origin' ({printable(existing)})",
                "it is published already: push with 'git push'; to publish elsewhere, "
                "'git remote remove origin' first",
            )
        )
    dirty = git.changed_paths(root)
    if dirty:
        found.append(
            DirtyRepositoryError(
                f"uncommitted changes would not be published: {_shown(dirty)}",
                "commit them (git add -A && git commit) or stash them, then publish",
            )
        )
    return found


def check_project(path: Path, dry_run: bool = False) -> tuple[Project, str, list[MlscaffoldError]]:
    """Every refusal that needs only the project: (the project, the branch to push, what a
    real run would refuse; raised at once unless `dry_run`)."""
    project = load(path, check_commit=False)
    root = project.root
    if not git.is_repository_root(root):
        raise UsageError(
            f"{root} is not a git repository (generated with --no-git?)",
            "make it one: git init -b main && git add -A && git commit -m 'First commit'",
        )
    journal.refuse_if_pending(root)
    branch = current_branch(root)
    refusals = state_refusals(root)
    if refusals and not dry_run:
        raise refusals[0]
    return project, branch, refusals


# ---- GitHub CLI ---------------------------------------------------------------------------


def _gh_environment() -> dict[str, str]:
    """`gh` must never wait on a prompt we cannot show, nor print upgrade notices."""
    return {**os.environ, "GH_PROMPT_DISABLED": "1", "GH_NO_UPDATE_NOTIFIER": "1"}


def require_gh() -> str:
    found = shutil.which("gh")
    if found is None:
        raise UsageError("the GitHub CLI (gh) was not found on PATH", GH_INSTALL_HINT)
    return found


def run_gh(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`gh ARGS`, never interactive; the output captured for us to read or quote."""
    git.install_quiet_git_environment()  # the git gh runs inherits it
    return subprocess.run(
        [require_gh(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=_gh_environment(),
        check=False,
    )


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return printable(lines[0]) if lines else ""


def require_gh_login() -> None:
    """`gh auth status` fails when no account is logged in (or its token has expired)."""
    done = run_gh("auth", "status")
    if done.returncode != 0:
        # Its report starts with the host ("github.com") when a token is bad: skip to the why.
        lines = (done.stderr or done.stdout).splitlines()
        said = _first_line("\n".join(line.lstrip(" X✗-") for line in lines if " " in line.strip()))
        raise UsageError(
            "gh is not logged in to GitHub" + (f" ({said})" if said else ""),
            "run 'gh auth login' (or set GH_TOKEN), then publish again",
        )


def gh_create_command(root: Path, name: str, about: str, public: bool) -> list[str]:
    command = ["gh", "repo", "create", name, "--source", str(root), "--push"]
    command.append("--public" if public else "--private")
    if about:
        command += ["--description", about]
    return command


def gh_topics_command(full_name: str, wanted: list[str]) -> list[str]:
    command = ["gh", "repo", "edit", full_name]
    for topic in wanted:
        command += ["--add-topic", topic]
    return command


def _created_url(stdout: str) -> str | None:
    """`gh repo create` prints the new repository's URL when its output is not a terminal."""
    found = re.findall(r"https?://\S+", stdout)
    return found[0].rstrip("/").removesuffix(".git") if found else None


def full_name(url: str) -> str:
    """OWNER/NAME (HOST/OWNER/NAME off github.com) for `gh repo edit`."""
    parts = urlsplit(url)
    path = parts.path.strip("/").removesuffix(".git")
    host = parts.hostname or "github.com"
    return path if host == "github.com" else f"{host}/{path}"


def _publish_with_gh(
    project: Project, request: PublishRequest, result: PublishResult, progress: Progress
) -> None:
    name = repository_name(project, request.name)
    create = gh_create_command(project.root, name, description(project.answers), request.public)
    owner_known = "/" in name
    edit_name = name if owner_known else f"OWNER/{name}"
    result.commands = [create, gh_topics_command(edit_name, result.topics)]
    if request.dry_run:
        if owner_known:
            result.url = f"https://github.com/{name}"
        return
    require_gh()
    require_gh_login()
    visibility = "public" if request.public else "private"
    progress(f"creating {visibility} repository {name} on GitHub and pushing {result.branch}")
    done = run_gh(*create[1:], cwd=project.root)
    if done.returncode != 0:
        left = origin_url(project.root)
        hint = (
            f"the repository may exist already: check 'gh repo view {name}', then 'git push -u "
            f"origin {result.branch}'"
            if left
            else "fix what gh says (a name taken? use --name), then publish again"
        )
        raise GhError(f"gh repo create failed: {_first_line(done.stderr or done.stdout)}", hint)
    result.url = _created_url(done.stdout) or web_url(origin_url(project.root) or "")
    result.remote = origin_url(project.root)
    if result.url is None:
        raise GhError(
            "gh created the repository but did not say where",
            "see it with 'gh repo view --web' in the project",
        )
    result.commands[1] = gh_topics_command(full_name(result.url), result.topics)
    progress(f"adding topics: {', '.join(result.topics)}")
    tagged = run_gh(*result.commands[1][1:], cwd=project.root)
    if tagged.returncode != 0:
        raise GhError(
            f"published {result.url}, but adding topics failed: "
            f"{_first_line(tagged.stderr or tagged.stdout)}",
            "add them later: " + shlex.join(result.commands[1]),
        )


# ---- plain git to an existing empty repository ---------------------------------------------


def _is_github_host(host: str) -> bool:
    return host == "github.com" or host.startswith("github.")  # GitHub Enterprise: github.corp


def web_url(remote: str) -> str | None:
    """The web page of a git URL on a forge (`git@github.com:o/n.git` → `https://github.com/o/n`);
    None for a local path or an unknown form."""
    scp = re.match(r"^(?:[\w.-]+@)?([\w.-]+\.[a-z]{2,}):(?!//)(.+)$", remote)
    if scp:
        host, path = scp.groups()
    else:
        parts = urlsplit(remote)
        if parts.scheme not in ("http", "https", "ssh", "git") or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
    path = path.strip("/").removesuffix(".git")
    return f"https://{host}/{path}" if path.count("/") >= 1 else None


def check_remote_url(remote: str) -> None:
    """A URL git would read as an option (`--upload-pack=CMD` runs CMD) is refused."""
    if not remote.strip():
        raise UsageError("--remote needs a URL", "e.g. --remote git@github.com:you/project.git")
    if remote.startswith("-"):
        raise UsageError(
            f"--remote '{printable(remote)}' is not a repository URL (it starts with '-')",
            "pass the repository's URL or path, e.g. --remote git@github.com:you/project.git",
        )


def check_remote_is_empty(root: Path, remote: str) -> None:
    """Pushing into a repository that has commits would fail half-way (or, forced, destroy
    them): asked first, before origin is added."""
    done = git.run("ls-remote", "--heads", "--tags", "--", remote, cwd=root, check=False)
    if done.returncode != 0:
        raise GitError(
            f"cannot reach {printable(remote)}: {_first_line(done.stderr)}",
            "check the URL and your access to it (git ls-remote URL must work)",
        )
    refs = [line.split("\t", 1)[-1] for line in done.stdout.splitlines() if "\t" in line]
    if refs:
        raise UsageError(
            f"{printable(remote)} is not empty (it has {_shown(refs, 3)})",
            "create a new empty repository (no README, licence or .gitignore) and pass its URL",
        )


def remote_commands(root: Path, remote: str, branch: str) -> list[list[str]]:
    return [
        ["git", "-C", str(root), "remote", "add", "--", "origin", remote],
        ["git", "-C", str(root), "push", "--set-upstream", "--", "origin", branch],
    ]


def _publish_to_remote(
    project: Project, request: PublishRequest, result: PublishResult, progress: Progress
) -> None:
    assert request.remote is not None
    root, remote = project.root, request.remote
    result.commands = remote_commands(root, remote, result.branch)
    result.remote = remote
    result.url = web_url(remote)
    result.topics = []  # plain git cannot set them
    if request.dry_run:
        return
    check_remote_is_empty(root, remote)
    progress(f"pushing {result.branch} to {printable(remote)}")
    git.run("remote", "add", "--", "origin", remote, cwd=root)
    try:
        git.run("push", "--quiet", "--set-upstream", "--", "origin", result.branch, cwd=root)
    except BaseException:
        git.run("remote", "remove", "origin", cwd=root, check=False)  # as it was: try again
        raise


# ---- the command --------------------------------------------------------------------------


def redact(text: str) -> str:
    """`text` with the credentials of any URL in it blanked (`https://***@host/...`): an
    error or a log line must not show a password or token."""

    def blank(found: re.Match[str]) -> str:
        scheme, userinfo = found.group("scheme"), found.group("userinfo")
        if ":" not in userinfo and scheme.lower() in _LOGIN_SCHEMES:
            return found.group(0)
        return f"{scheme}***@"

    return _USERINFO.sub(blank, text)


def publish(request: PublishRequest, progress: Progress = lambda _msg: None) -> PublishResult:
    """Check everything, then create and push (or, with dry_run, only say how); no message
    it gives shows a URL's credentials."""
    try:
        result = _publish(request, lambda message: progress(redact(message)))
    except MlscaffoldError as exc:
        _redacted(exc)
        raise
    result.refusals = [_redacted(refusal) for refusal in result.refusals]
    return result


def _redacted(error: MlscaffoldError) -> MlscaffoldError:
    """`error` with credentials blanked everywhere it is shown (a debug traceback too)."""
    error.message = redact(error.message)
    error.hint = redact(error.hint) if error.hint else error.hint
    error.args = (error.message,)
    return error


def _publish(request: PublishRequest, progress: Progress) -> PublishResult:
    if request.remote is not None and request.name is not None:
        raise UsageError(
            "--name is for GitHub through gh; --remote names the repository itself",
            "drop --name, or drop --remote to create the repository with gh",
        )
    if request.remote is not None:
        check_remote_url(request.remote)
    elif request.name is not None:
        _checked_name(request.name)
    project, branch, refusals = check_project(request.path, dry_run=request.dry_run)
    result = PublishResult(
        root=project.root,
        branch=branch,
        topics=topics(project.answers),
        dry_run=request.dry_run,
        refusals=refusals,
    )
    if request.remote is not None:
        _publish_to_remote(project, request, result, progress)
    else:
        _publish_with_gh(project, request, result, progress)
    return result
