"""`update` at its edges: what a user did to a module the template then moved, the template
source shared by several installed mlscaffolds, and why a lock could not be refreshed.

The moved-module cases update a real 0.3.0 project to 0.4.0 (the shipped bundle), where
0.4.0 moved the shared modules into `plumbing/` (templates/_moves.yml).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from conftest import ROOT, git, run_cli

from mlscaffold import source, uvlock
from mlscaffold.update import update

MINE = "\n\nMY_A = 1\nMY_B = 2\n"  # four lines appended to the user's own plumbing/config.py
SEED = "    seed: int\n"  # 0.4.0 adds `serve: ServeSettings` right below this line


@pytest.fixture
def project_030(tmp_path: Path) -> Path:
    """A sentiment project generated at template 0.3.0 from the shipped bundle."""
    root = tmp_path / "reviews"
    made = run_cli("new", "sentiment-classifier", str(root), "--defaults", "--vcs-ref", "0.3.0")
    assert made.returncode == 0, made.stderr
    return root


def _do_to_moved_modules(root: Path) -> None:
    """runs.py renamed, seeding.py deleted, config.py moved to plumbing/ by the user (four
    lines appended and one line changed where 0.4.0 changes the next one): then committed."""
    package = root / "src" / "reviews"
    git(root, "mv", "src/reviews/runs.py", "src/reviews/myruns.py")
    git(root, "rm", "-q", "src/reviews/seeding.py")
    (package / "plumbing").mkdir()
    git(root, "mv", "src/reviews/config.py", "src/reviews/plumbing/config.py")
    config = package / "plumbing" / "config.py"
    text = config.read_text(encoding="utf-8")
    assert text.count(SEED) == 1
    config.write_text(text.replace(SEED, "    seed: int  # mine\n") + MINE, encoding="utf-8")
    git(root, "commit", "-qam", "my layout")


def test_what_the_user_did_to_a_moved_module_follows_it(project_030: Path) -> None:
    root, package = project_030, project_030 / "src" / "reviews"
    _do_to_moved_modules(root)
    myruns = (package / "myruns.py").read_bytes()

    rehearsal = update(root, to="0.4.0", pretend=True, conflict="rej")
    assert rehearsal.conflicts == ["src/reviews/plumbing/config.py.rej"]
    assert rehearsal.renamed == [("src/reviews/runs.py", "src/reviews/myruns.py")]
    assert rehearsal.dropped == ["src/reviews/plumbing/seeding.py"]

    done = run_cli("update", str(root), "--to", "0.4.0", timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    # renamed: reported as a renamed module that did not move is, its change saved beside
    renamed = "src/reviews/runs.py → src/reviews/myruns.py (its change: src/reviews/myruns.py.rej)"
    assert renamed in done.stderr
    assert not (package / "plumbing" / "runs.py").exists(), "no template copy beside yours"
    assert (package / "myruns.py").read_bytes() == myruns
    git(root, "apply", "--check", "src/reviews/myruns.py.rej")
    # deleted: stays deleted at its new path, as a deleted module that did not move does
    assert not (package / "plumbing" / "seeding.py").exists()
    assert "you had deleted" in done.stdout and "src/reviews/plumbing/seeding.py" in done.stdout
    # moved by the user: merged against the old file, so only the line both changed conflicts
    assert "conflicts in 1 file(s):\n  src/reviews/plumbing/config.py" in done.stderr
    config = (package / "plumbing" / "config.py").read_text(encoding="utf-8")
    assert config.count("<<<<<<<") == 1 and "seed: int  # mine" in config
    assert config.endswith(MINE) and "class ServeSettings" in config
    assert "def example_override" in config, "the template's other changes merged in"
    unmerged = git(root, "ls-files", "-u", "--", "src/reviews/plumbing/config.py")
    stages = {line.split()[2]: line.split()[1] for line in unmerged.splitlines()}
    assert sorted(stages) == ["1", "2", "3"]
    assert stages["1"] != "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", "the base is not empty"


# ---- a per-user bundle shared with a newer mlscaffold ---------------------------------------


def test_a_newer_tag_from_another_install_is_named_not_used(
    tmp_path: Path, synthetic_bundles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer mlscaffold (shipping 1.0.0 and 2.0.0) ran first and left its versions in the
    per-user bundle; this mlscaffold ships 1.0.0: its project is up to date, `update` stays
    on 1.0.0 and names 2.0.0, and `--to 2.0.0` still reaches it on request."""
    v1, v12 = synthetic_bundles()
    monkeypatch.setenv(source.SHIPPED_ENV, str(v12))
    source.ensure_user_source()
    monkeypatch.setenv(source.SHIPPED_ENV, str(v1))
    root = tmp_path / "demo"
    assert run_cli("new", "sentiment-classifier", str(root), "--defaults").returncode == 0
    assert [str(v) for v in source.versions(source.user_bundle())] == ["1.0.0", "2.0.0"]

    done = run_cli("check", str(root))
    assert done.returncode == 0 and done.stdout.startswith("up to date"), done.stdout
    assert "template 2.0.0 exists (from a newer mlscaffold)" in done.stderr
    assert json.loads(run_cli("check", str(root), "--json").stdout)["latest"] == "1.0.0"

    done = run_cli("update", str(root))
    assert done.returncode == 0 and "already on template 1.0.0" in done.stdout, done.stderr
    assert "this mlscaffold 1.0.0 updates to 1.0.0 at most" in done.stderr
    assert "--to 2.0.0" in done.stderr
    assert git(root, "status", "--porcelain") == ""

    done = run_cli("update", str(root), "--to", "2.0.0")
    assert done.returncode == 0 and "updated 1.0.0 → 2.0.0" in done.stdout, done.stderr


def test_a_template_source_of_ones_own_offers_every_version(synthetic_bundles) -> None:
    """Only the shared per-user bundle is capped: a template author's own source is not."""
    _, v12 = synthetic_bundles()
    offered = source.offer(str(v12))
    assert str(offered.newest) == "2.0.0" and offered.beyond is None


# ---- uv.lock: an unreachable index said in words --------------------------------------------

SPLIT = """[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["tabulate>=0.9; python_version < '3.12'", "six; python_version >= '3.12'"]
"""


def test_offline_lock_failure_says_the_index_was_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline, uv's resolver reports a fork on markers ("split (markers: ...)") and no
    versions: the reason given is that the package index could not be reached."""
    if uvlock.uv_binary() is None:
        pytest.skip("uv is not installed")
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-uv-cache"))
    project = tmp_path / "demo"
    project.mkdir()
    (project / "pyproject.toml").write_text(SPLIT, encoding="utf-8")
    why = uvlock.lock(project, keep=True)
    assert why == uvlock.OFFLINE_WORDS and "split" not in why


def test_a_resolver_failure_drops_the_fork_markers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UV_OFFLINE", raising=False)
    stderr = (
        "error: No solution found when resolving dependencies for split "
        "(markers: python_full_version >= '3.12')\n"
        "  cause: Because you require numpy<1 and numpy>=2, we can conclude ...\n"
    )
    assert uvlock._reason(stderr).startswith("No solution found when resolving dependencies;")


# ---- one home for the patch helper ----------------------------------------------------------


def test_moves_does_not_reach_into_update() -> None:
    """moves.py used update's private `_patch` (an import circle): both use patching.py."""
    tree = ast.parse((ROOT / "src" / "mlscaffold" / "moves.py").read_text(encoding="utf-8"))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert "mlscaffold.update" not in imported and "update" not in names
