"""Hidden checks judged outside the sandbox: the split of a hidden test file, the runner
that calls the probes, and the verdicts this process gives. Fast: no project, no sandbox
(the sandboxed end-to-end run with forgers is in test_grading_attacks.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlscaffold.cohort import probes

SECRET = "EXPECTED-8d1f"

HIDDEN = f'''"""Hidden checks."""

import math

from hw1 import features

INPUTS = ["a b", "", "x  y z"]
ANSWERS = [2, 0, 3]
NOTE = "{SECRET}"


def shared_rounding(x):
    return round(x, 3)


def probe_count_words():
    return [features.count_words(s) for s in INPUTS]


def check_count_words(values):
    assert values == ANSWERS, NOTE


def probe_mean_length():
    return shared_rounding(sum(map(len, INPUTS)) / len(INPUTS))


def check_mean_length(values):
    assert math.isclose(shared_rounding(values), 3.0), NOTE


def test_plain_inside():
    assert features.count_words("a") == 1
'''

HONEST = "def count_words(text):\n    return len(text.split())\n"


def _suite(tmp_path: Path, text: str = HIDDEN) -> probes.HiddenSuite:
    folder = tmp_path / "grading-tests"
    folder.mkdir(exist_ok=True)
    (folder / "test_words.py").write_text(text)
    return probes.split(folder, "hw1")


def test_checks_and_what_only_they_use_never_enter_the_sandbox(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    inside = suite.inside["test_words.py"]
    assert SECRET not in inside and "ANSWERS" not in inside and "check_" not in inside
    assert "def probe_count_words" in inside and "INPUTS = " in inside
    assert "def shared_rounding" in inside  # used by a probe too: both sides have it
    assert "def test_plain_inside" in inside and "from hw1 import features" in inside
    assert [p.name for p in suite.pairs] == ["count_words", "mean_length"]
    assert suite.plain == {"test_words.py": {"test_plain_inside"}}
    compile(inside, "inside", "exec")  # what enters the sandbox is valid Python


def test_a_check_that_uses_student_code_is_refused(tmp_path: Path) -> None:
    text = HIDDEN.replace("assert values == ANSWERS, NOTE", "assert features.count_words('a')")
    with pytest.raises(probes.HiddenTestError, match="student's package hw1"):
        _suite(tmp_path, text)


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ("def check_mean_length(values):", "probe_mean_length has no check_mean_length"),
        ("def probe_mean_length():", "check_mean_length has no probe_mean_length"),
        ("def check_count_words(values):", "has no check_count_words"),
    ],
)
def test_unpaired_probes_and_checks_are_refused(tmp_path: Path, replace: str, message: str) -> None:
    text = HIDDEN.replace(replace, "def other_" + replace.split("_", 1)[1])
    with pytest.raises(probes.HiddenTestError, match=message):
        _suite(tmp_path, text)


def _run_probes(tmp_path: Path, suite: probes.HiddenSuite, module: str) -> dict | None:
    project = tmp_path / "project"
    (project / "src" / "hw1").mkdir(parents=True)
    (project / "src" / "hw1" / "__init__.py").write_text("")
    (project / "src" / "hw1" / "features.py").write_text(module)
    suite.write_inside(project / "tests" / "hidden")
    runner = tmp_path / "run_probes.py"
    runner.write_text(probes.RUNNER)
    out = tmp_path / probes.RESULTS
    subprocess.run(
        [sys.executable, str(runner), str(project / "tests" / "hidden"), str(out)],
        cwd=project,
        env={"PYTHONPATH": str(project / "src"), "PATH": "/usr/bin:/bin"},
        check=False,
        timeout=60,
    )
    return probes.read_values(out)


def _outcomes(suite: probes.HiddenSuite, values: dict | None) -> list[str]:
    return [v.outcome for v in probes.judge(suite, suite.pairs, values)]


def test_honest_code_passes_and_wrong_code_fails(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    assert _outcomes(suite, _run_probes(tmp_path / "a", suite, HONEST)) == ["passed"] * 2
    wrong = "def count_words(text):\n    return len(text)\n"
    assert _outcomes(suite, _run_probes(tmp_path / "b", suite, wrong)) == ["failed", "passed"]
    crash = "def count_words(text):\n    raise SystemExit(0)\n"
    assert _outcomes(suite, _run_probes(tmp_path / "c", suite, crash)) == ["crashed", "passed"]
    broken = "raise ImportError('no')\n"
    assert _outcomes(suite, _run_probes(tmp_path / "d", suite, broken)) == ["crashed"] * 2


# Forgers: each runs in the probe runner's process and controls everything there.
FORGERS = {
    "patches json to say passed": """
import json as _json
_dump = _json.dump
def _forged(obj, handle, *a, **k):
    return _dump({key: {"value": "passed"} for key in obj}, handle)
_json.dump = _forged
def count_words(text):
    return 0
""",
    "patches builtins to make everything equal": """
import builtins as _builtins
class _Equal(list):
    def __eq__(self, other):
        return True
_builtins.list = _Equal
def count_words(text):
    return 0
""",
    "rewrites the results file at exit": """
import atexit as _atexit, sys as _sys
def _forge():
    with open(_sys.argv[2], "w") as handle:
        handle.write('{"test_words.py::count_words": {"value": true}, '
                     '"test_words.py::mean_length": "passed"}')
_atexit.register(_forge)
def count_words(text):
    return 0
""",
    "writes a huge number": """
import atexit as _atexit, sys as _sys
_atexit.register(lambda: open(_sys.argv[2], "w").write('{"x": ' + "9" * 100000 + "}"))
def count_words(text):
    return 0
""",
    "writes deeply nested data": """
import atexit as _atexit, sys as _sys
_atexit.register(lambda: open(_sys.argv[2], "w").write("[" * 200000 + "]" * 200000))
def count_words(text):
    return 0
""",
}


@pytest.mark.parametrize("forger", sorted(FORGERS))
def test_forgers_gain_nothing_on_checks_judged_here(tmp_path: Path, forger: str) -> None:
    suite = _suite(tmp_path)
    outcomes = _outcomes(suite, _run_probes(tmp_path, suite, FORGERS[forger]))
    assert outcomes[0] != "passed", outcomes  # count_words is wrong: no way to buy the pass
    assert set(outcomes) <= {"failed", "crashed", "output missing", "passed"}


def test_unusable_results_are_output_missing(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    link = tmp_path / "link.json"
    link.symlink_to("/etc/passwd")
    assert probes.read_values(link) is None
    assert _outcomes(suite, None) == ["output missing"] * 2
    values = {"test_words.py::count_words": "passed", "test_words.py::mean_length": 3.0}
    assert _outcomes(suite, values) == ["output missing"] * 2
    assert json.loads(json.dumps(probes.PROBE_SECONDS)) > 0
