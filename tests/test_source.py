"""The versioned template source: shipped bundle, per-user copy, release script."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import TEMPLATES, release

from mlscaffold import __version__, source


def test_shipped_bundle_newest_version_equals_templates(tmp_path: Path) -> None:
    bundle = source.shipped_bundle()
    newest = source.versions(bundle)[-1]
    assert str(newest) == __version__, "template version is the mlscaffold version"
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(bundle), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", f"v{newest}"], cwd=clone, check=True)
    shipped, current = release.template_files(clone), release.template_files(TEMPLATES)
    assert sorted(shipped) == sorted(current), "run: python scripts/release.py VERSION --replace"
    changed = [name for name in current if shipped[name] != current[name]]
    assert changed == [], f"templates/ changed since the last release: {changed}"


def test_user_copy_is_created_and_refreshed(synthetic_bundles, monkeypatch) -> None:
    v1, v12 = synthetic_bundles()
    monkeypatch.setenv(source.SHIPPED_ENV, str(v1))
    assert source.ensure_user_source() == "~/.local/share/mlscaffold/templates.bundle"
    assert [str(v) for v in source.versions(source.user_bundle())] == ["1.0.0"]
    monkeypatch.setenv(source.SHIPPED_ENV, str(v12))
    source.ensure_user_source()
    assert [str(v) for v in source.versions(source.user_bundle())] == ["1.0.0", "2.0.0"]
    # an older mlscaffold must not take versions away from a newer one's copy
    monkeypatch.setenv(source.SHIPPED_ENV, str(v1))
    source.ensure_user_source()
    assert source.versions(source.user_bundle())[-1].version.major == 2
    assert not list(source.user_bundle().parent.glob(".templates.*")), "no temp files left"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v0.2.0", "0.2.0"),
        ("0.2.0", "0.2.0"),
        ("0.2", "0.2"),
        ("v1.0.0-3-gabc123", "1.0.0"),
        ("HEAD", None),
        ("", None),
        (123, None),
        (None, None),
    ],
)
def test_parse_version(text: object, expected: str | None) -> None:
    parsed = source.TemplateVersion.parse(text)
    assert (str(parsed) if parsed else None) == expected


def test_versions_compare_and_tag() -> None:
    parse = source.TemplateVersion.parse
    assert parse("0.2") == parse("v0.2.0") and parse("0.2").tag == "v0.2"
    assert parse("0.10.0") > parse("0.9.1")
    assert sorted([parse("1.0.0"), parse("0.2.0")]) == [parse("0.2.0"), parse("1.0.0")]


def test_resolve_accepts_short_versions(synthetic_bundles) -> None:
    _, bundle = synthetic_bundles()
    assert source.resolve("2.0", bundle).tag == "v2.0.0"
    with pytest.raises(Exception, match="unknown template version"):
        source.resolve("9.9.9", bundle)


def test_release_refuses_older_or_existing_version(synthetic_bundles, tmp_path: Path) -> None:
    _, bundle = synthetic_bundles()
    templates = tmp_path / "template-src"
    with pytest.raises(SystemExit, match="older"):
        release.release("1.5.0", replace=False, bundle=bundle, templates=templates)
    with pytest.raises(SystemExit, match="--replace"):
        release.release("2.0.0", replace=False, bundle=bundle, templates=templates)
    release.release("2.0.0", replace=True, bundle=bundle, templates=templates)
    assert [str(v) for v in source.versions(bundle)] == ["1.0.0", "2.0.0"]
