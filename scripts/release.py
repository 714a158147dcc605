"""Add the current templates/ to the shipped template bundle as version VERSION.

    python scripts/release.py 0.2.0            # new version (must be newer than the last)
    python scripts/release.py 0.2.0 --replace  # re-cut the newest, not yet published version

The bundle (src/mlscaffold/data/templates.bundle) holds every released template version as a
tag `vX.Y.Z` on one linear history, so Copier can render any old version for `update`,
offline. The template version is the mlscaffold version: VERSION must equal __version__.

Then each kind's shipped lock (src/mlscaffold/data/locks/KIND.uv.lock.xz, what `new` puts in
a project) is checked against the new version's pyproject.toml and re-resolved with `uv lock`
(needs the package index) only where it no longer fits, so an unchanged dependency list
keeps its versions. A kind whose lock cannot be resolved here ships none (its projects run
`uv lock` at `new`). --no-locks skips this step.

CHANGELOG.md must have the release's dated heading, `## [VERSION] - YYYY-MM-DD`, before
anything is cut (0.4.0 shipped with its notes still under "[Unreleased]"). The script needs
no install of mlscaffold: it imports the package from this checkout's src/.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
SRC = ROOT / "src"
BUNDLE = SRC / "mlscaffold" / "data" / "templates.bundle"
CHANGELOG = ROOT / "CHANGELOG.md"
IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache"}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "mlscaffold release",
    "GIT_AUTHOR_EMAIL": "release@mlscaffold.invalid",
    "GIT_COMMITTER_NAME": "mlscaffold release",
    "GIT_COMMITTER_EMAIL": "release@mlscaffold.invalid",
}


def template_files(root: Path) -> dict[str, bytes]:
    """Every file of a template tree, by relative path (caches and .git left out)."""
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (
            path.is_file()
            and not (IGNORED_PARTS | {".git"}) & set(rel.parts)
            and path.suffix != ".pyc"
        ):
            files[rel.as_posix()] = path.read_bytes()
    return files


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    if done.returncode != 0:
        sys.exit(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def tags(repo: Path) -> list[Version]:
    found = [t for t in git(repo, "tag", "--list", "v*").splitlines() if t]
    return sorted(Version(t[1:]) for t in found)


def package_version() -> str:
    text = (ROOT / "src" / "mlscaffold" / "__init__.py").read_text()
    match = re.search(r'__version__ = "([^"]+)"', text)
    assert match, "__version__ not found"
    return match.group(1)


def import_mlscaffold() -> ModuleType:
    """mlscaffold from this checkout's src/, installed or not: the locks must be made by the
    code being released, never by another installed version."""
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    try:
        package = importlib.import_module("mlscaffold")
    except ImportError as exc:  # a dependency (copier, click...) is missing
        sys.exit(f"cannot import mlscaffold from {SRC} ({exc}): pip install -e . first")
    where = Path(package.__file__ or "").resolve()
    if not where.is_relative_to(SRC):
        sys.exit(f"mlscaffold was imported from {where.parent}, not {SRC}: run in a fresh process")
    return package


def check_changelog(version: str, changelog: Path) -> None:
    """Refuse a release whose notes are not under their own dated heading yet."""
    heading = re.compile(rf"^## \[{re.escape(version)}\] - (\d{{4}}-\d{{2}}-\d{{2}})\s*$", re.M)
    text = changelog.read_text(encoding="utf-8") if changelog.exists() else ""
    found = heading.search(text)
    try:
        dated = found is not None and datetime.date.fromisoformat(found.group(1)) is not None
    except ValueError:
        dated = False
    if not dated:
        sys.exit(
            f"{changelog.name} has no '## [{version}] - YYYY-MM-DD' heading: move the "
            "[Unreleased] notes under it, dated today, then release"
        )


def release(
    version: str, replace: bool, bundle: Path = BUNDLE, templates: Path = TEMPLATES
) -> None:
    new = Version(version)
    with tempfile.TemporaryDirectory(prefix="mlscaffold-release-") as tmp:
        repo = Path(tmp) / "repo"
        if bundle.exists():
            git(Path(tmp), "clone", "--quiet", str(bundle), str(repo))
            existing = tags(repo)
        else:
            repo.mkdir()
            git(repo, "init", "--quiet", "--initial-branch=main")
            existing = []
        newest = existing[-1] if existing else None
        if newest is not None and new == newest:
            if not replace:
                sys.exit(f"v{new} exists; pass --replace to re-cut it (only if never published)")
            previous = git(repo, "rev-list", "--max-count=1", "--skip=1", f"v{new}")
            git(repo, "tag", "--delete", f"v{new}")
            if previous:
                git(repo, "reset", "--quiet", "--hard", previous)
            else:  # re-cutting the very first version: start a fresh history
                shutil.rmtree(repo / ".git")
                git(repo, "init", "--quiet", "--initial-branch=main")
        elif newest is not None and new < newest:
            sys.exit(f"v{new} is older than the newest version v{newest}")
        elif existing:
            git(repo, "checkout", "--quiet", "-B", "main", f"v{newest}")
        for child in repo.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        for rel, data in template_files(templates).items():
            target = repo / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "--allow-empty", "-m", f"Template version {new}")
        git(repo, "tag", "-a", f"v{new}", "-m", f"Template version {new}")
        out = bundle.with_suffix(".bundle.tmp")
        bundle.parent.mkdir(parents=True, exist_ok=True)
        git(repo, "bundle", "create", str(out), "--all")
        os.replace(out, bundle)
    print(
        f"{bundle.relative_to(ROOT) if bundle.is_relative_to(ROOT) else bundle}: "
        f"versions {', '.join('v' + str(v) for v in [*[e for e in existing if e != new], new])}"
    )


def refresh_locks(version: str, bundle: Path = BUNDLE) -> None:
    """Every kind's shipped lock fits the templates of `version`, or is made anew."""
    import lzma

    import_mlscaffold()
    from mlscaffold import catalog, source, uvlock
    from mlscaffold.generate import NewRequest, generate

    os.environ[source.SHIPPED_ENV] = str(bundle)
    for kind in catalog.available():
        with tempfile.TemporaryDirectory(prefix="mlscaffold-lock-") as tmp:
            project = Path(tmp) / "project"
            answers = {"package_name": uvlock.PLACEHOLDER.replace("-", "_")}
            generate(
                NewRequest(kind.name, project, answers, defaults=True, version=version, git=False)
            )
            python_version = answers_python(project)
            archive = uvlock.shipped_lock(kind.name)
            if uvlock.adopt_shipped(project, kind.name, answers["package_name"], python_version):
                print(f"{archive.name}: still fits v{version}")
                continue
            why = uvlock.lock(project, python_version)
            if why is not None:
                archive.unlink(missing_ok=True)
                print(f"{kind.name}: no shipped lock ({why})")
                continue
            archive.parent.mkdir(parents=True, exist_ok=True)
            data = lzma.compress((project / uvlock.LOCK_FILE).read_bytes(), preset=9)
            archive.with_suffix(".tmp").write_bytes(data)
            os.replace(archive.with_suffix(".tmp"), archive)
            print(f"{archive.name}: resolved anew ({len(data) // 1024} KiB)")


def answers_python(project: Path) -> str:
    import yaml

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    return str(answers.get("python_version", ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("version")
    parser.add_argument("--replace", action="store_true", help="re-cut the newest version")
    parser.add_argument("--no-locks", action="store_true", help="leave the shipped locks")
    args = parser.parse_args(argv)
    if args.version != package_version():
        sys.exit(
            f"VERSION {args.version} != mlscaffold __version__ {package_version()}: bump it first"
        )
    check_changelog(args.version, CHANGELOG)
    if not args.no_locks:
        import_mlscaffold()  # before the bundle is cut: a release is made whole or not at all
    release(args.version, args.replace, bundle=BUNDLE, templates=TEMPLATES)
    if not args.no_locks:
        refresh_locks(args.version, bundle=BUNDLE)


if __name__ == "__main__":
    main()
