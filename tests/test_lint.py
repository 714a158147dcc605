"""mlscaffold's own code is lint clean (the same ruff rules as generated projects)."""

from __future__ import annotations

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
