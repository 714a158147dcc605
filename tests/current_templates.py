"""Fixtures for tests that generate from templates/ as they are now, not from the shipped
bundle (re-cut only at release time): import `templates_now` (and `current_bundle`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEMPLATES, release

from mlscaffold import source


@pytest.fixture(scope="session")
def current_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped bundle with its newest version re-cut from templates/ as they are now."""
    bundle = tmp_path_factory.mktemp("bundle") / "templates.bundle"
    shutil.copyfile(source.shipped_bundle(), bundle)
    release.release(release.package_version(), replace=True, bundle=bundle, templates=TEMPLATES)
    return bundle


@pytest.fixture
def templates_now(
    isolated_home: Path, current_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """`new` in this test generates from `current_bundle`."""
    monkeypatch.setenv(source.SHIPPED_ENV, str(current_bundle))
    yield current_bundle
