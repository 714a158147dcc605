"""scripts/release.py: it refuses a release whose CHANGELOG section is not dated yet, and it
runs from a checkout where mlscaffold is not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import packaging
import pytest
from conftest import ROOT, TEMPLATES, git, release

from mlscaffold import source

SCRIPT = ROOT / "scripts" / "release.py"
VERSION = release.package_version()


def _changelog(tmp_path: Path, *headings: str) -> Path:
    path = tmp_path / "CHANGELOG.md"
    body = "".join(f"{heading}\n\n### Added\n- something\n\n" for heading in headings)
    path.write_text(f"# Changelog\n\n{body}", encoding="utf-8")
    return path


def _private_release(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, changelog: Path) -> Path:
    """main() cutting into a copy of the shipped bundle, with `changelog` as CHANGELOG.md."""
    bundle = tmp_path / "templates.bundle"
    shutil.copyfile(source.shipped_bundle(), bundle)
    monkeypatch.setattr(release, "BUNDLE", bundle)
    monkeypatch.setattr(release, "TEMPLATES", TEMPLATES)
    monkeypatch.setattr(release, "CHANGELOG", changelog)
    return bundle


@pytest.mark.parametrize(
    "headings",
    [
        ("## [Unreleased]", "## [0.3.0] - 2026-11-22"),  # how 0.4.0 shipped
        (f"## [{VERSION}]",),  # not dated
        (f"## [{VERSION}] - 2026-13-45",),  # not a date
        (f"## [{VERSION}1] - 2026-12-06",),  # another version
    ],
)
def test_release_refuses_a_changelog_without_the_dated_heading(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, headings: tuple[str, ...]
) -> None:
    bundle = _private_release(monkeypatch, tmp_path, _changelog(tmp_path, *headings))
    before = bundle.read_bytes()
    with pytest.raises(SystemExit) as refused:
        release.main([VERSION, "--replace", "--no-locks"])
    message = str(refused.value.code)
    assert f"CHANGELOG.md has no '## [{VERSION}] - YYYY-MM-DD' heading" in message
    assert "\n" not in message
    assert bundle.read_bytes() == before  # nothing was cut


def test_release_cuts_with_the_dated_heading(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    changelog = _changelog(tmp_path, "## [Unreleased]", f"## [{VERSION}] - 2026-12-06")
    bundle = _private_release(monkeypatch, tmp_path, changelog)
    release.main([VERSION, "--replace", "--no-locks"])
    tags = git(tmp_path, "ls-remote", "--tags", "--", str(bundle))
    assert f"refs/tags/v{VERSION}\n" in tags + "\n"


def _without_mlscaffold() -> dict[str, str]:
    """An environment whose Python has the dependencies but no mlscaffold: `python -S` skips
    the .pth file of the editable install, PYTHONPATH gives back the site-packages."""
    site_packages = Path(packaging.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(site_packages)}
    probe = subprocess.run(
        [sys.executable, "-S", "-c", "import mlscaffold"],
        env=env,
        cwd=ROOT.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode != 0, "mlscaffold is importable: the test proves nothing"
    return env


def test_release_help_runs_without_an_install() -> None:
    done = subprocess.run(
        [sys.executable, "-S", str(SCRIPT), "--help"],
        env=_without_mlscaffold(),
        cwd=ROOT.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout and "## [VERSION] - YYYY-MM-DD" in done.stdout


def test_release_imports_this_checkouts_mlscaffold_without_an_install() -> None:
    """The lock step imports mlscaffold: from this checkout's src/, installed or not."""
    code = (
        "import runpy, sys\n"
        f"script = runpy.run_path({str(SCRIPT)!r})\n"
        "package = script['import_mlscaffold']()\n"
        "from mlscaffold import catalog, generate, uvlock\n"
        "print(package.__file__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        env=_without_mlscaffold(),
        cwd=ROOT.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == ROOT / "src" / "mlscaffold" / "__init__.py"
