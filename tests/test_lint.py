"""mlscaffold's own code is lint clean (the same ruff rules as generated projects)."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import ROOT


def test_ruff_check_and_format() -> None:
    for args in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "src", "tests", "scripts", "benchmarks"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr


# standard-library modules newer than mlscaffold's Python floor (3.10)
NEWER_THAN_THE_FLOOR = {"tomllib"}


def _guarded_imports(tree: ast.AST) -> set[int]:
    """Line numbers of imports inside an `if sys.version_info >= ...:` block."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "version_info" in ast.unparse(node.test):
            for inner in node.body:
                imports = (ast.Import, ast.ImportFrom)
                lines |= {n.lineno for n in ast.walk(inner) if isinstance(n, imports)}
    return lines


def test_modules_newer_than_python_310_are_imported_behind_a_version_check() -> None:
    """mlscaffold supports Python 3.10: `import tomllib` alone fails there at run time."""
    bare = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        guarded = _guarded_imports(tree)
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            newer = any(n.split(".")[0] in NEWER_THAN_THE_FLOOR for n in names)
            if newer and node.lineno not in guarded:
                bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bare == [], f"guard with sys.version_info (tomli below 3.11): {bare}"
