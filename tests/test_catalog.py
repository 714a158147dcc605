"""One catalogue: `list`, the template's `kind` question, its questions and the kind folders
agree, and every kind uses the shared layer through exact one-line stubs."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, TEMPLATES

from mlscaffold import catalog, engine
from mlscaffold.errors import UnknownKindError

_spec = importlib.util.spec_from_file_location("sync_kinds", ROOT / "scripts" / "sync_kinds.py")
assert _spec and _spec.loader
sync_kinds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sync_kinds)

COMPUTED = {"reserved_package_names"}  # `when: false`: never asked, never recorded


def test_kinds_file_is_generated_from_the_catalogue() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync_kinds.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    generated = yaml.safe_load((TEMPLATES / "_kinds.yml").read_text())
    offered = sorted(generated["kind"]["choices"].values())
    assert offered == sorted(kind.name for kind in catalog.available())


def test_template_questions_are_exactly_the_catalogued_answers() -> None:
    questions = engine.template_questions(str(TEMPLATES))
    assert set(questions) - COMPUTED == set(catalog.public_answers())


def test_each_kind_question_file_is_guarded_by_its_kind() -> None:
    owners: dict[str, str] = {}
    for path in sorted((TEMPLATES / "_questions").glob("*.yml")):
        for name in yaml.safe_load(path.read_text()):
            assert name not in owners, f"{name} is asked by {owners[name]} and {path.stem}"
            owners[name] = path.stem
    for kind in catalog.available():
        own = yaml.safe_load((TEMPLATES / "_questions" / f"{kind.name}.yml").read_text())
        assert list(own) == list(kind.answers), "the catalogue lists the kind's questions"
        for name, question in own.items():
            assert f"kind == '{kind.name}'" in question["when"], name


@pytest.mark.parametrize("kind", [k.name for k in catalog.available()])
def test_every_kind_stub_is_exactly_an_include_or_extends(kind: str) -> None:
    shared = sync_kinds.shared_files()
    assert len(shared) > 20, "the shared layer is where generic project code lives"
    problems = {rel: sync_kinds.stub_problem(TEMPLATES / kind, rel) for rel in shared}
    assert {rel: p for rel, p in problems.items() if p} == {}


def test_stub_check_rejects_near_misses(tmp_path) -> None:
    rel = "Makefile.jinja"
    (tmp_path / rel).write_text(sync_kinds.include_line(rel) + "\n# my own target\n")
    assert sync_kinds.stub_problem(tmp_path, rel) is not None
    (tmp_path / rel).write_text('{% include "_shared/project/Makefile.jinja" %}')
    assert sync_kinds.stub_problem(tmp_path, rel) is None
    (tmp_path / rel).write_text("{# _shared/project/Makefile.jinja #} my own Makefile")
    assert sync_kinds.stub_problem(tmp_path, rel) is not None
    assert sync_kinds.stub_problem(tmp_path, "missing.jinja") == "missing"


def test_reserved_package_names_come_from_the_kind() -> None:
    reserved = yaml.safe_load(
        yaml.safe_load((TEMPLATES / "_kinds.yml").read_text())["reserved_package_names"]["default"]
    )
    for kind in catalog.available():
        assert set(kind.reserved) <= set(reserved[kind.name])
    config = (TEMPLATES / "copier.yml").read_text()
    assert "sklearn" not in config, "no kind's modules are named in the shared questions"


def test_unknown_kind_error_suggests() -> None:
    with pytest.raises(UnknownKindError) as caught:
        catalog.get("sentiment")
    assert caught.value.hint == "did you mean 'sentiment-classifier'?"


def test_grading_takes_every_shared_module_from_the_reference() -> None:
    """A student's copy of the shared layer's plumbing (serve.py, runs.py...) is not graded."""
    from mlscaffold.cohort import overlay

    package = TEMPLATES / "_shared" / "project" / "src" / "{{ package_name }}"
    shared = {path.name.removesuffix(".py.jinja") for path in package.glob("*.py.jinja")}
    assert shared == set(overlay.SHARED_MODULES)
    plumbing = {p.name.removesuffix(".py.jinja") for p in (package / "plumbing").glob("*.py.jinja")}
    assert plumbing - {"__init__"} == set(overlay.PLUMBING_MODULES)
