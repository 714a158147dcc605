"""`update` across a template version that moved files: the user's edits follow the files.

Template 0.4.0 moved the shared layer's modules into `src/<pkg>/plumbing/` (templates/
_moves.yml). A project generated at 0.3.0, with edits in a moved module and in a kind
module, is updated to the templates as they are now (cut into a private bundle): a clean
edit lands at the new path, an overlapping one is a conflict there, nothing is stranded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATES, git, release, run_cli

from mlscaffold import moves, source
from mlscaffold.update import update

MOVED = ("config", "datameta", "download", "errors", "paths", "persist", "pipeline", "plots")
MOVED += ("readme", "reporting", "runs", "seeding")
PIPELINE_IMPORTS = "from . import datameta, reporting, runs, steps\n"  # 0.4.0 changed this line


@pytest.fixture
def old_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sentiment project generated at template 0.3.0 and edited by its user (committed);
    the shipped bundle with its newest version re-cut from templates/."""
    bundle = tmp_path / "bundle" / "templates.bundle"
    bundle.parent.mkdir()
    shutil.copyfile(source.shipped_bundle(), bundle)
    release.release(release.package_version(), replace=True, bundle=bundle, templates=TEMPLATES)
    monkeypatch.setenv(source.SHIPPED_ENV, str(bundle))
    monkeypatch.setenv("MLSCAFFOLD_NO_LOCK", "1")
    root = tmp_path / "reviews"
    made = run_cli("new", "sentiment-classifier", str(root), "--defaults", "--vcs-ref", "0.3.0")
    assert made.returncode == 0, made.stderr
    package = root / "src" / "reviews"
    with (package / "config.py").open("a", encoding="utf-8") as handle:
        handle.write('\n\nMY_CONFIG_EDIT = "kept through the move"\n')
    with (package / "model.py").open("a", encoding="utf-8") as handle:
        handle.write('\n\nMY_MODEL_EDIT = "kept in place"\n')
    pipeline = package / "pipeline.py"
    text = pipeline.read_text(encoding="utf-8")
    assert PIPELINE_IMPORTS in text
    pipeline.write_text(text.replace(PIPELINE_IMPORTS, PIPELINE_IMPORTS.strip() + "  # mine\n"))
    git(root, "commit", "-qam", "my edits")
    return root


def test_edits_follow_moved_modules_or_are_conflicts_there(old_project: Path) -> None:
    root, package = old_project, old_project / "src" / "reviews"

    rehearsal = update(root, pretend=True, conflict="rej")  # on a clone: nothing written
    assert sorted(rehearsal.moved) == [
        ("src/reviews/config.py", "src/reviews/plumbing/config.py"),
        ("src/reviews/pipeline.py", "src/reviews/plumbing/pipeline.py"),
    ]
    assert rehearsal.conflicts == ["src/reviews/plumbing/pipeline.py.rej"]
    assert rehearsal.kept_removed == [] and rehearsal.needs_attention
    assert (package / "config.py").is_file() and not (package / "plumbing").exists()

    done = run_cli("update", str(root), timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "src/reviews/config.py → src/reviews/plumbing/config.py" in done.stdout
    assert "conflicts in 1 file(s):\n  src/reviews/plumbing/pipeline.py" in done.stderr
    assert "removes" not in done.stderr  # nothing kept behind at an old path

    config = (package / "plumbing" / "config.py").read_text(encoding="utf-8")
    assert 'MY_CONFIG_EDIT = "kept through the move"' in config and "<<<<<<<" not in config
    assert "class ServeSettings" in config  # and the template's own change since 0.3.0
    assert 'MY_MODEL_EDIT = "kept in place"' in (package / "model.py").read_text()
    pipeline = (package / "plumbing" / "pipeline.py").read_text(encoding="utf-8")
    assert "<<<<<<< before updating" in pipeline and "steps  # mine" in pipeline
    unmerged = git(root, "ls-files", "-u", "--", "src/reviews/plumbing/pipeline.py")
    assert {line.split()[2] for line in unmerged.splitlines()} == {"1", "2", "3"}
    assert [m for m in MOVED if (package / f"{m}.py").exists()] == []

    imported = subprocess.run(
        [sys.executable, "-c", "import reviews.plumbing.config as c; print(c.MY_CONFIG_EDIT)"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
        capture_output=True,
        text=True,
    )
    assert imported.stdout.strip() == "kept through the move", imported.stderr


def test_moves_table_follows_chains_within_the_versions_crossed(monkeypatch) -> None:
    table = """\
"0.4.0":
  src/{{ package_name }}/config.py: src/{{ package_name }}/plumbing/config.py
  src/{{ package_name }}/paths.py: src/{{ package_name }}/plumbing/paths.py
"0.5.0":
  src/{{ package_name }}/plumbing/config.py: src/{{ package_name }}/plumbing/settings.py
"0.6.0":
  src/{{ package_name }}/model.py: src/{{ package_name }}/models.py
"""
    monkeypatch.setattr(source, "template_file", lambda *args: table.encode())
    version = source.TemplateVersion.parse
    assert moves.table("bundle", version("0.3.0"), version("0.5.0"), "p") == {
        "src/p/config.py": "src/p/plumbing/settings.py",
        "src/p/paths.py": "src/p/plumbing/paths.py",
    }
    assert moves.table("bundle", version("0.4.0"), version("0.6.0"), "p") == {
        "src/p/plumbing/config.py": "src/p/plumbing/settings.py",
        "src/p/model.py": "src/p/models.py",
    }
    monkeypatch.setattr(source, "template_file", lambda *args: None)
    assert moves.table("bundle", version("0.3.0"), version("0.6.0"), "p") == {}
