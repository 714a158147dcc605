"""`mlscaffold publish`: GitHub through a fake `gh` that really pushes to a local bare
repository, plain git to local bare remotes, and every refusal (exit 2, nothing created)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git, new_project, run_cli

from mlscaffold import publish
from mlscaffold.project import Project

# The fake `gh`: records its arguments (one JSON list a line), answers `auth status` as the
# test says, and for `repo create NAME --source X --push` makes a bare repository under
# FAKE_GH_REMOTES/OWNER/NAME.git, sets it as X's origin and pushes, as the real one does.
FAKE_GH = """\
#!{python}
import json, os, subprocess, sys
from pathlib import Path

args = sys.argv[1:]
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")


def git(*a):
    subprocess.run(["git", *a], check=True, capture_output=True)


if args[:2] == ["auth", "status"]:
    if os.environ.get("FAKE_GH_AUTH") == "fail":
        sys.stderr.write("You are not logged into any GitHub hosts. Run gh auth login\\n")
        sys.exit(1)
    sys.stderr.write("github.com\\n  Logged in to github.com account fake-user\\n")
    sys.exit(0)
if args[:2] == ["repo", "create"]:
    owner, _, name = args[2].rpartition("/")
    owner = owner or "fake-user"
    source = args[args.index("--source") + 1]
    bare = Path(os.environ["FAKE_GH_REMOTES"]) / owner / (name + ".git")
    if bare.exists():
        sys.stderr.write("GraphQL: Name already exists on this account (createRepository)\\n")
        sys.exit(1)
    git("init", "--quiet", "--bare", str(bare))
    print("https://github.com/" + owner + "/" + name)
    git("-C", source, "remote", "add", "origin", str(bare))
    if "--push" in args:
        git("-C", source, "push", "--quiet", "--set-upstream", "origin", "HEAD")
    sys.exit(0)
if args[:2] == ["repo", "edit"]:
    if os.environ.get("FAKE_GH_EDIT") == "fail":
        sys.stderr.write("HTTP 422: Validation Failed\\n")
        sys.exit(1)
    sys.exit(0)
sys.stderr.write("fake gh: unexpected arguments %r\\n" % (args,))
sys.exit(3)
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One generated project (no git) for the module; each test copies it."""
    base = tmp_path_factory.mktemp("generated")
    home = base / "home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        patch.delenv("XDG_CONFIG_HOME", raising=False)
        yield new_project(base / "movie-reviews")


def _copy(generated: Path, dest: Path, extra_answers: str = "") -> Path:
    shutil.copytree(generated, dest)
    if extra_answers:
        answers = dest / ".copier-answers.yml"
        text = answers.read_text().replace("github_user: ''\n", "")
        answers.write_text(text + extra_answers)
    return dest


def _commit_all(root: Path) -> Path:
    git(root, "init", "--quiet", "-b", "main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "First commit")
    return root


@pytest.fixture
def project(generated: Path, tmp_path: Path) -> Path:
    """A committed, clean project named movie-reviews with no remote."""
    return _commit_all(_copy(generated, tmp_path / "movie-reviews"))


class FakeGh:
    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.remotes = root / "github"
        self.log = root / "gh-calls.jsonl"
        self.bin.mkdir(parents=True)
        self.remotes.mkdir()
        gh = self.bin / "gh"
        gh.write_text(FAKE_GH.replace("{python}", sys.executable))
        gh.chmod(0o755)
        self.env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "FAKE_GH_LOG": str(self.log),
            "FAKE_GH_REMOTES": str(self.remotes),
            "FAKE_GH_AUTH": "ok",
        }

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def created(self) -> list[Path]:
        return sorted(self.remotes.glob("*/*.git"))


@pytest.fixture
def gh(tmp_path: Path) -> FakeGh:
    return FakeGh(tmp_path / "fake-gh")


def _no_gh_path(tmp_path: Path) -> str:
    """A PATH with git and nothing else: `gh` cannot be found, whatever this machine has."""
    only_git = tmp_path / "only-git"
    only_git.mkdir()
    found = shutil.which("git")
    assert found
    (only_git / "git").symlink_to(found)
    return str(only_git)


def _bare(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    git(path.parent, "init", "--quiet", "--bare", str(path))
    return path


def _head(repo: Path, rev: str = "HEAD") -> str:
    return git(repo, "rev-parse", rev).strip()


def _refused(done, *expected: str) -> None:  # type: ignore[no-untyped-def]
    """Exit 2, one `error:` line and one `hint:` line, each expected text in them."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error:") and lines[1].startswith("hint:"), lines
    for text in expected:
        assert text in done.stderr, (text, done.stderr)
    assert "Traceback" not in done.stderr


# ---- success ------------------------------------------------------------------------------


def test_publish_creates_repository_pushes_and_adds_topics(project: Path, gh: FakeGh) -> None:
    done = run_cli("publish", str(project), env=gh.env)
    assert done.returncode == 0, done.stderr
    assert "published: https://github.com/fake-user/movie-reviews" in done.stdout
    assert "https://github.com/fake-user/movie-reviews/actions" in done.stdout

    calls = gh.calls()
    assert calls[0] == ["auth", "status"]
    assert calls[1] == [
        "repo",
        "create",
        "movie-reviews",
        "--source",
        str(project),
        "--push",
        "--public",
        "--description",
        "A sentiment classifier built with mlscaffold.",
    ]
    edit = calls[2]
    assert edit[:3] == ["repo", "edit", "fake-user/movie-reviews"]
    added = [edit[i + 1] for i, arg in enumerate(edit) if arg == "--add-topic"]
    assert {"machine-learning", "sentiment-classifier", "imdb", "nlp"} <= set(added)
    assert len(calls) == 3

    (bare,) = gh.created()
    assert _head(bare, "main") == _head(project)  # the commits are on the remote
    assert git(project, "rev-parse", "--abbrev-ref", "main@{upstream}").strip() == "origin/main"
    assert not git(project, "status", "--porcelain")


def test_name_and_description_come_from_the_answers(
    generated: Path, tmp_path: Path, gh: FakeGh
) -> None:
    root = _commit_all(
        _copy(
            generated,
            tmp_path / "folder-name",
            "github_user: ada\nrepository_name: reviews-2026\n",
        )
    )
    answers = root / ".copier-answers.yml"
    answers.write_text(
        answers.read_text().replace(
            "A sentiment classifier built with mlscaffold.", "Sentiment of movie reviews"
        )
    )
    git(root, "commit", "--quiet", "-am", "Describe")
    done = run_cli("publish", str(root), "--private", env=gh.env)
    assert done.returncode == 0, done.stderr
    create = gh.calls()[1]
    assert create[2] == "ada/reviews-2026"  # github_user/repository_name: the badge's repository
    assert "--private" in create and "--public" not in create
    assert create[create.index("--description") + 1] == "Sentiment of movie reviews"
    assert gh.calls()[2][2] == "ada/reviews-2026"
    assert "https://github.com/ada/reviews-2026/actions" in done.stdout
    assert _head(gh.remotes / "ada" / "reviews-2026.git", "main") == _head(root)


def test_name_option_overrides(project: Path, gh: FakeGh) -> None:
    done = run_cli("publish", str(project), "--name", "my-org/hw1", env=gh.env)
    assert done.returncode == 0, done.stderr
    assert gh.calls()[1][2] == "my-org/hw1"
    assert gh.created() == [gh.remotes / "my-org" / "hw1.git"]


def test_remote_pushes_with_plain_git(project: Path, tmp_path: Path) -> None:
    bare = _bare(tmp_path / "empty.git")
    done = run_cli(
        "publish", str(project), "--remote", str(bare), env={"PATH": _no_gh_path(tmp_path)}
    )
    assert done.returncode == 0, done.stderr
    assert f"pushed main to {bare}" in done.stdout
    assert _head(bare, "main") == _head(project)
    assert git(project, "remote", "get-url", "origin").strip() == str(bare)
    assert git(project, "rev-parse", "--abbrev-ref", "main@{upstream}").strip() == "origin/main"


# ---- --dry-run ----------------------------------------------------------------------------


def test_dry_run_prints_commands_and_writes_nothing(
    project: Path, gh: FakeGh, tmp_path: Path
) -> None:
    before = git(project, "status", "--porcelain", "--ignored")
    done = run_cli("publish", str(project), "--dry-run", env=gh.env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("gh repo create movie-reviews --source ")
    assert "--push --public --description" in lines[0]
    assert lines[1].startswith("gh repo edit OWNER/movie-reviews --add-topic machine-learning")
    assert gh.calls() == [] and gh.created() == []  # gh was not even asked
    assert git(project, "remote").strip() == ""
    assert git(project, "status", "--porcelain", "--ignored") == before

    bare = _bare(tmp_path / "empty.git")
    done = run_cli("publish", str(project), "--remote", str(bare), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert f"remote add -- origin {bare}" in done.stdout
    assert "push --set-upstream -- origin main" in done.stdout
    assert git(bare, "for-each-ref").strip() == ""
    assert git(project, "remote").strip() == ""


def test_dry_run_on_a_dirty_tree_shows_the_commands_and_what_a_real_run_refuses(
    project: Path, gh: FakeGh
) -> None:
    (project / "README.md").write_text("results table rewritten by make all\n")
    (project / "notes.txt").write_text("not committed\n")
    done = run_cli("publish", str(project), "--dry-run", env=gh.env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("gh repo create movie-reviews --source ")
    assert "gh repo edit OWNER/movie-reviews" in done.stdout
    refused = [line for line in done.stderr.splitlines() if "a real run would refuse" in line]
    assert len(refused) == 1 and "README.md" in refused[0] and "notes.txt" in refused[0]
    assert "hint: commit them" in done.stderr and "Traceback" not in done.stderr
    assert gh.calls() == [] and git(project, "remote").strip() == ""


def test_dry_run_with_origin_says_a_real_run_would_refuse(project: Path, tmp_path: Path) -> None:
    git(project, "remote", "add", "origin", "git@github.com:ada/elsewhere.git")
    done = run_cli("publish", str(project), "--remote", str(tmp_path / "x.git"), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "remote add -- origin" in done.stdout
    assert "a real run would refuse: movie-reviews already has a remote 'origin'" in done.stderr


def test_dry_run_still_refuses_what_it_cannot_show(generated: Path, tmp_path: Path) -> None:
    root = _copy(generated, tmp_path / "no-git")
    _refused(run_cli("publish", str(root), "--dry-run"), "not a git repository")


# ---- refusals: exit 2, one line and a hint, nothing created -------------------------------


def test_refuses_a_folder_that_is_not_a_project(tmp_path: Path, gh: FakeGh) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    _refused(run_cli("publish", str(plain), env=gh.env), "not a generated project")
    assert gh.calls() == []


def test_refuses_a_project_that_is_not_a_git_repository(
    generated: Path, tmp_path: Path, gh: FakeGh
) -> None:
    root = _copy(generated, tmp_path / "no-git")
    _refused(run_cli("publish", str(root), env=gh.env), "not a git repository", "git init")
    git(root, "init", "--quiet", "-b", "main")
    _refused(run_cli("publish", str(root), env=gh.env), "no commit yet", "git commit")
    assert gh.calls() == []


def test_refuses_a_dirty_tree_naming_the_files(project: Path, gh: FakeGh) -> None:
    (project / "README.md").write_text("edited\n")
    (project / "scratch.py").write_text("x = 1\n")
    done = run_cli("publish", str(project), env=gh.env)
    _refused(done, "README.md", "scratch.py", "git commit")
    assert gh.calls() == [] and gh.created() == []


def test_refuses_a_project_that_already_has_origin(
    project: Path, gh: FakeGh, tmp_path: Path
) -> None:
    git(project, "remote", "add", "origin", "git@github.com:ada/elsewhere.git")
    done = run_cli("publish", str(project), env=gh.env)
    _refused(done, "already has a remote 'origin' (git@github.com:ada/elsewhere.git)", "git push")
    assert gh.calls() == []
    bare = _bare(tmp_path / "empty.git")
    _refused(run_cli("publish", str(project), "--remote", str(bare)), "already has a remote")
    assert git(bare, "for-each-ref").strip() == ""


def test_refuses_when_gh_is_missing(project: Path, tmp_path: Path) -> None:
    done = run_cli("publish", str(project), env={"PATH": _no_gh_path(tmp_path)})
    _refused(done, "GitHub CLI (gh) was not found", "https://cli.github.com", "--remote URL")
    assert git(project, "remote").strip() == ""


def test_refuses_when_gh_is_not_logged_in(project: Path, gh: FakeGh) -> None:
    done = run_cli("publish", str(project), env={**gh.env, "FAKE_GH_AUTH": "fail"})
    _refused(done, "gh is not logged in", "gh auth login")
    assert gh.calls() == [["auth", "status"]]  # nothing created
    assert gh.created() == [] and git(project, "remote").strip() == ""


def test_refuses_a_bad_name_and_contradictory_options(
    project: Path, gh: FakeGh, tmp_path: Path
) -> None:
    _refused(run_cli("publish", str(project), "--name", "my repo", env=gh.env), "'my repo'")
    bare = str(_bare(tmp_path / "empty.git"))
    _refused(run_cli("publish", str(project), "--remote", bare, "--name", "x"), "--name")
    _refused(run_cli("publish", str(project), "--remote", bare, "--private"), "--private")
    assert gh.calls() == [] and git(project, "remote").strip() == ""


@pytest.mark.parametrize("name", ["--internal", "--clone", "-x", "me/.git", "ok/-x", "x.GIT", ".."])
def test_refuses_names_gh_would_take_for_options_or_github_refuses(
    project: Path, gh: FakeGh, name: str
) -> None:
    _refused(run_cli("publish", str(project), "--name", name, env=gh.env), "not a GitHub")
    _refused(run_cli("publish", str(project), "--name", name, "--dry-run"), "not a GitHub")
    assert gh.calls() == [] and gh.created() == []


@pytest.mark.parametrize("name", ["movie-reviews", ".github", "my_org/a.b", "Ada-L/x_y-1.2"])
def test_accepts_github_names(name: str) -> None:
    assert publish._checked_name(name) == name


def test_refuses_a_remote_that_git_would_take_for_an_option(project: Path, tmp_path: Path) -> None:
    """With the branch tracking a non-origin remote, `git ls-remote --upload-pack=CMD`
    (no URL after it) ran CMD against that remote."""
    upstream = _bare(tmp_path / "upstream.git")
    git(project, "remote", "add", "upstream", str(upstream))
    git(project, "push", "--quiet", "--set-upstream", "upstream", "main")
    marker = tmp_path / "ran"
    for extra in ([], ["--dry-run"]):
        done = run_cli("publish", str(project), "--remote", f"--upload-pack=touch {marker}", *extra)
        _refused(done, "starts with '-'", "--remote")
        assert not marker.exists()
    assert git(project, "remote").split() == ["upstream"]


@pytest.mark.parametrize(
    "remote", ["nohelper://ada:s3cret@git.example/x.git", "nohelper://s3cret@git.example/x.git"]
)
def test_credentials_in_a_remote_are_never_shown(project: Path, remote: str) -> None:
    done = run_cli("publish", str(project), "--remote", remote)
    assert done.returncode == 1, done.stderr
    assert "cannot reach nohelper://***@git.example/x.git" in done.stderr
    shown = run_cli("publish", str(project), "--remote", remote, "--dry-run")
    assert shown.returncode == 0, shown.stderr
    assert "remote add -- origin 'nohelper://***@git.example/x.git'" in shown.stdout
    git(project, "remote", "add", "origin", remote.replace("nohelper", "https"))
    already = run_cli("publish", str(project))
    _refused(already, "already has a remote 'origin' (https://***@git.example/x.git)")
    for said in (done, shown, already):
        assert "s3cret" not in said.stdout + said.stderr


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("fatal: 'https://u:p@h/x.git/' not found", "fatal: 'https://***@h/x.git/' not found"),
        ("https://x-access-token:ghp_1@github.com/a/b", "https://***@github.com/a/b"),
        ("https://u:p@ss@h/x and http://tok@h2", "https://***@h/x and http://***@h2"),
        ("ssh://git@github.com/a/b.git", "ssh://git@github.com/a/b.git"),
        ("ssh://git:pw@host/a.git", "ssh://***@host/a.git"),
        ("git@github.com:ada/reviews.git", "git@github.com:ada/reviews.git"),
    ],
)
def test_redact(text: str, shown: str) -> None:
    assert publish.redact(text) == shown


def test_refuses_a_remote_that_is_not_empty(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "README.md").write_text("someone else's work\n")
    _commit_all(other)
    bare = _bare(tmp_path / "used.git")
    git(other, "push", "--quiet", str(bare), "main")
    _refused(run_cli("publish", str(project), "--remote", str(bare)), "is not empty", "empty")
    assert git(project, "remote").strip() == ""


# ---- failures of gh and git: exit 1, the project left as it was ---------------------------


def test_unreachable_remote_fails_and_adds_no_origin(project: Path, tmp_path: Path) -> None:
    done = run_cli("publish", str(project), "--remote", str(tmp_path / "missing.git"))
    assert done.returncode == 1, done.stderr
    assert "cannot reach" in done.stderr and "Traceback" not in done.stderr
    assert git(project, "remote").strip() == ""


def test_gh_create_failure_is_reported(project: Path, gh: FakeGh) -> None:
    _bare(gh.remotes / "fake-user" / "movie-reviews.git")  # the name is taken
    done = run_cli("publish", str(project), env=gh.env)
    assert done.returncode == 1
    assert "gh repo create failed: GraphQL: Name already exists" in done.stderr
    assert "--name" in done.stderr


def test_topics_failure_still_says_where_it_was_published(project: Path, gh: FakeGh) -> None:
    done = run_cli("publish", str(project), env={**gh.env, "FAKE_GH_EDIT": "fail"})
    assert done.returncode == 1
    assert "published https://github.com/fake-user/movie-reviews, but adding topics" in done.stderr
    assert "gh repo edit fake-user/movie-reviews --add-topic" in done.stderr
    (bare,) = gh.created()
    assert _head(bare, "main") == _head(project)


# ---- the pieces ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            {"kind": "sentiment-classifier", "sentiment_dataset": "sst2"},
            ["sentiment-analysis", "sst2"],
        ),
        (
            {"kind": "image-classifier", "image_dataset": "fashion-mnist"},
            ["pytorch", "fashion-mnist"],
        ),
        ({"kind": "recommender", "recommender_dataset": "ml-1m"}, ["movielens"]),
        ({"kind": "kaggle-entry", "competition": "Titanic"}, ["kaggle", "titanic"]),
    ],
)
def test_topics_from_answers(answers: dict[str, str], expected: list[str]) -> None:
    found = publish.topics(answers)
    assert found[:2] == ["machine-learning", answers["kind"]]
    assert set(expected) <= set(found)
    assert all(len(t) <= 50 and t == t.lower() and " " not in t for t in found)
    assert len(found) == len(set(found)) <= 20


def test_own_data_gives_no_dataset_topic() -> None:
    assert "csv" not in publish.topics({"kind": "sentiment-classifier", "sentiment_dataset": "csv"})
    assert "folder" not in publish.topics({"kind": "image-classifier", "image_dataset": "folder"})


@pytest.mark.parametrize(
    ("remote", "web"),
    [
        ("git@github.com:ada/reviews.git", "https://github.com/ada/reviews"),
        ("https://github.com/ada/reviews.git", "https://github.com/ada/reviews"),
        ("ssh://git@github.com/ada/reviews.git", "https://github.com/ada/reviews"),
        ("git@gitlab.com:ada/group/reviews.git", "https://gitlab.com/ada/group/reviews"),
        ("/srv/git/reviews.git", None),
        ("file:///srv/git/reviews.git", None),
    ],
)
def test_web_url(remote: str, web: str | None) -> None:
    assert publish.web_url(remote) == web


def test_actions_page_only_on_github(tmp_path: Path) -> None:
    on_github = publish.PublishResult(tmp_path, "main", url="https://github.com/ada/reviews")
    assert on_github.actions_url == "https://github.com/ada/reviews/actions"
    elsewhere = publish.PublishResult(tmp_path, "main", url="https://gitlab.com/ada/reviews")
    assert elsewhere.actions_url is None


def test_repository_name_falls_back_to_a_valid_folder_name(tmp_path: Path) -> None:
    project = Project(root=tmp_path / "My Project (v2)", answers={"github_user": ""})
    assert publish.repository_name(project) == "My-Project-v2"


def test_help_has_examples() -> None:
    done = run_cli("publish", "--help")
    assert done.returncode == 0
    assert "Examples:" in done.stdout and "--dry-run" in done.stdout
    assert "gh repo create" in done.stdout
