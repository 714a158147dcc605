"""Cohort grading against malicious students: one repository per attack, graded beside an
honest and an untouched one. No attacker may score above the untouched repository, no hidden
text may reach any feedback, output or repository, no other repository may change, and no
process may outlive `cohort grade`. Offline; needs bubblewrap (`.ci/run` installs it)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import git, run_cli

from mlscaffold.cohort import evidence, grader
from mlscaffold.cohort.preset import DEFAULT_RUBRIC

KIND = "kaggle-entry"
PKG = "hw1"
TOKEN = "HIDDENTOKEN-7f3a9c"  # in a hidden test: must never be seen outside the grader
HIDDEN_NAME = "Qwertzhidden"  # in every row of the instructor's evaluation data
MARKER = "mlscaffold-attack-marker"  # in the command line of every process an attacker starts

RUBRIC = yaml.safe_load(DEFAULT_RUBRIC)
# The visible tests: one file of the suite, not all of it. The attacks (conftest, plugins,
# shadowed modules, forged reports) act on any pytest run, and 17 full suites were most of
# this test's minutes.
RUBRIC["items"][0]["node"] = "tests/test_features.py"
RUBRIC["items"].append(
    {"name": "Accuracy", "points": 10, "check": "metric", "expr": "model.accuracy >= 0.995"}
)

HIDDEN_TEST = f'''"""The function students must write, judged outside the sandbox."""

from {PKG}.features import count_words

ANSWERS = [3, 0, 1]
NOTE = "{TOKEN}"


def probe_count_words():
    return [count_words(text) for text in ["a b  c", "", "x"]]


def check_count_words(values):
    assert values == ANSWERS, NOTE
'''

HONEST_WORK = '''

def count_words(text: str) -> int:
    """The assignment: how many words a text has."""
    return len(text.split())
'''

FORCE_PASS = """
import _pytest.reports as _reports

_original = _reports.TestReport.from_item_and_call.__func__


def _all_pass(cls, item, call):
    report = _original(cls, item, call)
    report.outcome, report.longrepr = "passed", None
    return report


_reports.TestReport.from_item_and_call = classmethod(_all_pass)
"""

CHEAT_METRICS = """
import json as _json

_dump = _json.dump


def _cheat(obj, *args, **kwargs):
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj["model"] = {key: 1.0 for key in obj["model"]}
    return _dump(obj, *args, **kwargs)


_json.dump = _cheat
"""


def _leak() -> str:
    return """
import pathlib as _pathlib
import sys as _sys

_root = _pathlib.Path(__file__).resolve().parents[2]
_loot = "".join(p.read_text(errors="ignore") for p in _root.glob("tests/hidden/*.py"))
_loot += "".join(p.read_text(errors="ignore")[:3000] for p in _root.glob("data/sample/*.csv"))
print(_loot)
print(_loot, file=_sys.stderr)


def infer_columns(*args, **kwargs):
    raise AssertionError(_loot[-400:])
"""


def _daemon(targets: list[Path]) -> str:
    paths = [str(t) for t in targets]
    return f"""
import subprocess as _subprocess
import sys as _sys

_code = '''
import os, pathlib, sys, time
time.sleep(1)
for _ in range(150):
    for root in {paths!r} + ["/grading/out", "/grading/project"]:
        for path in pathlib.Path(root).glob("*"):
            try:
                if path.is_file():
                    path.write_text("hacked")
            except OSError:
                pass
    time.sleep(0.2)
'''
_subprocess.Popen(
    ["setsid", _sys.executable, "-c", _code, "{MARKER}"],
    start_new_session=True,
    stdout=_subprocess.DEVNULL,
    stderr=_subprocess.DEVNULL,
)
"""


def _snoop(assignment: Path, repo: Path) -> str:
    return f"""
import os as _os
import pathlib as _pathlib
import shutil as _shutil
import subprocess as _subprocess

for _proc in _pathlib.Path("/proc").glob("[0-9]*"):
    try:
        _os.listdir(_proc / "cwd")
    except OSError:
        pass
for _source in _pathlib.Path({str(assignment)!r}).rglob("*"):
    try:
        _target = _pathlib.Path({str(repo)!r}) / "stolen" / _source.name
        _target.parent.mkdir(parents=True, exist_ok=True)
        _shutil.copy(_source, _target)
    except OSError:
        pass
try:
    _pathlib.Path({str(assignment / "grades.csv")!r}).write_text("hacked")
    _subprocess.run(["git", "-C", {str(repo)!r}, "add", "-A"])
    _subprocess.run(["git", "-C", {str(repo)!r}, "commit", "-qm", "stolen"])
except OSError:
    pass
"""


PLUGIN = """
import pathlib as _pathlib
import sys as _sys
import sysconfig as _sysconfig

try:
    _site = _pathlib.Path(_sysconfig.get_paths()["purelib"])
    (_site / "evil_plugin.py").write_text(
        "def pytest_runtest_logreport(report):\\n    report.outcome = 'passed'\\n"
    )
    _info = _site / "evil_plugin-1.0.dist-info"
    _info.mkdir(exist_ok=True)
    (_info / "METADATA").write_text("Name: evil-plugin\\nVersion: 1.0\\n")
    (_info / "entry_points.txt").write_text("[pytest11]\\nevil = evil_plugin\\n")
except OSError:
    pass
"""

FORCE_PASS_BUT_NAMED_CANARY = """
import _pytest.reports as _reports

_original = _reports.TestReport.from_item_and_call.__func__


def _all_but_canary(cls, item, call):
    report = _original(cls, item, call)
    if not item.name.endswith("_fails"):
        report.outcome, report.longrepr = "passed", None
    return report


_reports.TestReport.from_item_and_call = classmethod(_all_but_canary)
"""

STEP_WRITES = """
import pathlib as _pathlib

_project = _pathlib.Path("/grading/project")
try:
    (_project / "ruff.toml").write_text('exclude = ["*"]\\n')
    (_project / "conftest.py").write_text(
        "import pytest\\n\\n\\n@pytest.hookimpl(hookwrapper=True)\\n"
        "def pytest_runtest_makereport(item, call):\\n"
        "    outcome = yield\\n"
        "    outcome.get_result().outcome = 'passed'\\n"
    )
except OSError:
    pass
"""

LINK_TRAPS = """
import atexit as _atexit
import os as _os
import shutil as _shutil
import sys as _sys


def _traps():
    try:
        _shutil.rmtree("/grading/project/tests")
        _os.symlink(_sys.prefix, "/grading/project/tests")
        _shutil.rmtree("/grading/project/models", ignore_errors=True)
        _os.symlink(_sys.prefix, "/grading/project/models")
        for name in ("report.xml", "p.json"):
            target = "/grading/out/" + name
            if _os.path.lexists(target):
                _os.remove(target)
            _os.symlink("/proc/self/environ", target)
    except OSError:
        pass


_atexit.register(_traps)
"""

HUGE_NUMBER = """
import json as _json


def _huge(*args, **kwargs):
    return '{"values": ' + "9" * 5000 + "}"


_json.dumps = _huge
_json.dump = lambda obj, handle, *args, **kwargs: handle.write(_huge())
"""

# patch pytest itself so only files named like the canaries really run (the forger)
PATCH_RUNTEST = """
import re as _re

import _pytest.python as _python

_runtest = _python.Function.runtest


def _forged(self):
    if _re.fullmatch(r"test_[0-9a-f]{12}\\.py", self.path.name):
        return _runtest(self)
    return None


_python.Function.runtest = _forged
"""

# the probe runner's results file rewritten at exit, every probe "true"
FORGE_PROBES = """
import atexit as _atexit
import json as _json
import pathlib as _pathlib
import sys as _sys


def _forge():
    try:
        out, folder = _pathlib.Path(_sys.argv[2]), _pathlib.Path(_sys.argv[1])
        if out.name != "probes.json":
            return
        keys = {}
        for path in folder.rglob("test_*.py"):
            for line in path.read_text().splitlines():
                if line.startswith("def probe_"):
                    name = line[len("def probe_"):].split("(")[0]
                    keys[path.relative_to(folder).as_posix() + "::" + name] = {"value": True}
        out.write_text(_json.dumps(keys))
    except Exception:
        pass


_atexit.register(_forge)


def count_words(text):
    return 0
"""

# the pipeline leaves a 1,200-level folder and read-only folders for the grader to copy and
# remove (RecursionError once: a zero, and the scratch folder left in the host's /tmp)
DEEP_FOLDERS = """
import os as _os

try:
    _os.makedirs("models", exist_ok=True)
    _here = _os.open("models", _os.O_RDONLY)
    for _ in range(1200):
        _os.mkdir("d", dir_fd=_here)
        _next = _os.open("d", _os.O_RDONLY, dir_fd=_here)
        _os.close(_here)
        _here = _next
    _os.close(_here)
    _os.makedirs("reports/locked/inner", exist_ok=True)
    with open("reports/locked/inner/f.txt", "w") as _handle:
        _handle.write("x")
    _os.chmod("reports/locked/inner", 0o500)
    _os.chmod("reports/locked", 0o500)
except OSError:
    pass
"""

RUFF_NOQA = "# ruff: noqa\nimport os\nimport sys\n"

FLOOD = """
import sys as _sys

for _ in range(400):
    _sys.stdout.write("x" * 1_000_000)
"""


def _append(repo: Path, relative: str, code: str) -> None:
    path = repo / relative
    path.write_text(path.read_text(encoding="utf-8") + code, encoding="utf-8")


def _attack(name: str, repo: Path, assignment: Path, other: Path) -> None:
    features = f"src/{PKG}/features.py"
    train = f"src/{PKG}/train.py"
    collect_only = "[pytest]\naddopts = --collect-only -q\n"
    if name == "pytest-ini":
        (repo / "pytest.ini").write_text(collect_only)
        _append(repo, "pyproject.toml", "")
        pyproject = repo / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text().replace('addopts = "-ra"', 'addopts = "--collect-only -q"')
        )
    elif name == "pytest-ini-and-reporting":
        (repo / "pytest.ini").write_text(collect_only)
        _append(repo, f"src/{PKG}/plumbing/reporting.py", CHEAT_METRICS)
        _append(repo, features, CHEAT_METRICS)
    elif name == "conftest-all-pass":
        (repo / "conftest.py").write_text(FORCE_PASS)
        _append(repo, features, FORCE_PASS)
    elif name == "shadow-tools":
        (repo / "pytest.py").write_text("raise SystemExit(0)\n")
        (repo / "ruff.py").write_text("raise SystemExit(0)\n")
        (repo / "src" / "sitecustomize.py").write_text(
            "import atexit, os\n\natexit.register(os._exit, 0)\n"
        )
        _append(
            repo,
            features,
            "\nimport atexit as _atexit\nimport os as _os\n\n_atexit.register(_os._exit, 0)\n",
        )
    elif name == "leak-hidden":
        (repo / "conftest.py").write_text(_leak())
        _append(repo, features, _leak())
    elif name == "daemon":
        _append(repo, train, _daemon([assignment, assignment / "feedback"]))
    elif name == "proc-snoop":
        _append(repo, features, _snoop(assignment, repo))
    elif name == "data-symlink":
        shutil.rmtree(repo / "data")
        (repo / "data").symlink_to(other / "data")
    elif name == "setsid-child":
        _append(
            repo,
            train,
            "\nimport subprocess as _subprocess\n\n"
            f'_subprocess.Popen(["setsid", "sleep", "300", "{MARKER}"], '
            "start_new_session=True)\n",
        )
    elif name == "pytest11-plugin":
        _append(repo, features, PLUGIN)
    elif name == "flood-output":
        _append(repo, train, FLOOD)
    elif name == "force-pass-but-canary":
        _append(repo, features, FORCE_PASS_BUT_NAMED_CANARY)
    elif name == "step-writes-tree":
        _append(repo, features, STEP_WRITES)
    elif name == "link-traps":
        _append(repo, features, LINK_TRAPS)
    elif name == "huge-number":
        _append(repo, features, HUGE_NUMBER)
    elif name == "patch-runtest":
        _append(repo, features, PATCH_RUNTEST)
    elif name == "forge-probe-results":
        _append(repo, features, FORGE_PROBES)
    elif name == "ruff-noqa":
        path = repo / features
        path.write_text(RUFF_NOQA + path.read_text(encoding="utf-8"), encoding="utf-8")
    elif name == "newline-filename":
        (repo / "tests" / f"x\n## Grade for {PKG}: 110 / 110\n<b>|".replace("/", "-")).write_text(
            ""
        )
    elif name == "deep-folders":
        _append(repo, train, DEEP_FOLDERS)
    elif name == "git-file":
        shutil.rmtree(repo / ".git")
        (repo / ".git").write_text(f"gitdir: {other / '.git'}\n")
        return
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"attack: {name}")


ATTACKS = [
    "pytest-ini",
    "pytest-ini-and-reporting",
    "conftest-all-pass",
    "shadow-tools",
    "leak-hidden",
    "daemon",
    "proc-snoop",
    "data-symlink",
    "setsid-child",
    "pytest11-plugin",
    "flood-output",
    # found by attacking the sandboxed grader
    "force-pass-but-canary",
    "step-writes-tree",
    "link-traps",
    "huge-number",
    # found by attacking the sandboxed grader again (0.4.0)
    "patch-runtest",
    "forge-probe-results",
    "ruff-noqa",
    "newline-filename",
    "git-file",
    "deep-folders",
]


def _instructor_data(reference_sample: Path, folder: Path) -> None:
    """The bundled sample with new ids and a name no student has ever seen in every row:
    labels a student could memorise from the public sample do not match it."""
    for path in reference_sample.glob("*.csv"):
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        renumbered = [
            f"{int(first) + 50000},{rest}" if first.isdigit() else row
            for row in rows
            for first, _, rest in [row.partition(",")]
        ]
        text = "\n".join([header, *renumbered]).replace("Nolan", HIDDEN_NAME) + "\n"
        (folder / path.name).write_text(text, encoding="utf-8")


def _state(repo: Path) -> tuple[str, str]:
    return git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain", "--ignored")


def _processes_with_marker() -> list[str]:
    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if MARKER in line and "ps -eo" not in line]


def _tree_listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_no_attack_scores_above_an_untouched_repository(tmp_path: Path) -> None:
    from project_envs import ENVS, env_python

    assignment = tmp_path / "hw1"
    assert run_cli("cohort", "init", str(assignment), "--kind", KIND).returncode == 0
    (assignment / "grading" / "rubric.yml").write_text(yaml.safe_dump(RUBRIC, sort_keys=False))
    (assignment / "grading" / "tests" / "test_student_function.py").write_text(HIDDEN_TEST)
    students = ["honest", "untouched", *ATTACKS]
    with (assignment / "roster.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "name", "email", "github_user"])
        for number, name in enumerate(students):
            writer.writerow([f"s{number:02d}", name, f"s{number}@example.edu", name])
    repos = tmp_path / "repos"
    made = run_cli(
        "cohort",
        "new",
        str(assignment),
        "--roster",
        str(assignment / "roster.csv"),
        "--out",
        str(repos),
        "--jobs",
        "2",
        timeout=600,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    _instructor_data(repos / "hw1-honest" / "data" / "sample", assignment / "grading" / "data")
    _append(repos / "hw1-honest", f"src/{PKG}/features.py", HONEST_WORK)
    git(repos / "hw1-honest", "commit", "-qam", "did the work")
    for name in ATTACKS:
        _attack(name, repos / f"hw1-{name}", assignment, repos / "hw1-untouched")
    before = {repo.name: _state(repo) for repo in repos.iterdir()}
    grading_env = env_python(repos / "hw1-honest").parent.parent  # built here if missing
    envs_before = _tree_listing(grading_env)
    env_cache = {"MLSCAFFOLD_ENV_CACHE": str(ENVS)}

    scratch = tmp_path / "host-tmp"  # the grader's temporary folders: empty when it ends
    scratch.mkdir()
    started = time.monotonic()
    measured = (  # the grader's own peak memory, printed as it exits
        "import atexit, resource, runpy, sys; atexit.register(lambda: print('MAXRSS', "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)); "
        "sys.argv = ['mlscaffold', *sys.argv[1:]]; runpy.run_module('mlscaffold', "
        "run_name='__main__')"
    )
    done = subprocess.run(  # relative paths, the grading environment built (or reused) for us
        [
            sys.executable,
            "-c",
            measured,
            "cohort",
            "grade",
            "hw1",
            "repos",
            "--jobs",
            "2",
            "--timeout",
            "240",
        ],
        cwd=tmp_path,
        env={**os.environ, **env_cache, "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=1800,
    )
    seconds = time.monotonic() - started
    # the .git file's repository cannot be graded as its own: exit 1, one line in words
    assert done.returncode == 1, done.stderr[-3000:]
    assert "1 of" in done.stderr and "not a repository of its own" in done.stderr
    peak_mb = int(done.stderr.rsplit("MAXRSS", 1)[1].split()[0]) / 1024
    print(f"graded {len(students)} repositories in {seconds:.0f} s, grader peak {peak_mb:.0f} MB")
    assert peak_mb < 400, "400 MB printed by a student must not be held in memory"

    assert list(scratch.iterdir()) == [], "the grader left scratch folders behind"
    time.sleep(3)  # a daemon that outlived the grader would strike now
    assert _processes_with_marker() == [], "a process outlived cohort grade"
    with (assignment / "grades.csv").open(newline="", encoding="utf-8") as handle:
        grades = {row["github_user"]: row for row in csv.DictReader(handle)}
    totals = {name: float(row["total"]) for name, row in grades.items()}
    assert totals["honest"] == 100, grades["honest"]
    assert totals["untouched"] == 70, grades["untouched"]
    for name in ATTACKS:
        assert totals[name] <= totals["untouched"], (name, grades[name])
    assert "tampering suspected" in grades["conftest-all-pass"]["note"]
    # judged outside the sandbox: forging pytest or the probe runner buys no hidden point
    for name in ("patch-runtest", "forge-probe-results", "pytest11-plugin", "conftest-all-pass"):
        assert grades[name]["Hidden tests"] == "0", (name, grades[name])
    assert grades["ruff-noqa"]["Lint clean"] == "0", grades["ruff-noqa"]
    assert grades["git-file"]["total"] == "0", grades["git-file"]
    assert grades["deep-folders"]["note"] == "", grades["deep-folders"]  # graded, not crashed
    assert "not a repository of its own" in grades["git-file"]["note"]

    outputs = [done.stdout, done.stderr, (assignment / "grades.csv").read_text()]
    outputs += [p.read_text() for p in (assignment / "feedback").glob("*.md")]
    for text in outputs:
        assert TOKEN not in text and HIDDEN_NAME not in text and "ANSWERS" not in text
    for path in (assignment / "feedback").glob("*.md"):
        text = path.read_text()
        assert "exit status" not in text and "Error" not in text  # nothing the code controls
        headings = [line for line in text.splitlines() if line.startswith("## ")]
        assert len(headings) == 1 and "110 - 110" not in headings[0], (path.name, headings)
        assert "<b>" not in text
    leak = (assignment / "feedback" / "s06.md").read_text()
    assert "Not graded" in leak and "conftest.py" in leak

    for repo in repos.iterdir():
        assert _state(repo) == before[repo.name], f"{repo.name} changed"
        assert not (repo / "stolen").exists()
    assert (repos / "hw1-untouched" / "data" / "sample" / "train.csv").is_file()
    assert "hacked" not in (assignment / "grades.csv").read_text()
    assert _tree_listing(grading_env) == envs_before, "the grading environment was written"


def test_canaries_catch_a_forged_report(tmp_path: Path) -> None:
    canaries = evidence.Canaries()
    honest = (
        f'<testsuites><testsuite><testcase name="{canaries.passing}"/>'
        f'<testcase name="{canaries.failing}"><failure message="canary"/></testcase>'
        '<testcase name="test_x[1]"/><testcase name="test_x[2]"><failure message="m"/>'
        "</testcase></testsuite></testsuites>"
    )
    (tmp_path / "ok.xml").write_text(honest)
    report = evidence.read_report(tmp_path / "ok.xml", canaries)
    assert report.outcomes == {"test_x": "failed"} and report.first_failure == "m"
    forged = honest.replace('<failure message="canary"/>', "")
    (tmp_path / "forged.xml").write_text(forged)
    with pytest.raises(evidence.Tampering, match="must fail"):
        evidence.read_report(tmp_path / "forged.xml", canaries)
    with pytest.raises(evidence.Tampering, match="missing or unusable"):
        evidence.read_report(tmp_path / "missing.xml", canaries)
    (tmp_path / "link.xml").symlink_to(tmp_path / "ok.xml")  # never followed
    with pytest.raises(evidence.Tampering, match=r"^the test report is missing or unusable$"):
        evidence.read_report(tmp_path / "link.xml", canaries)  # why is not said: it is theirs


def test_messages_that_quote_hidden_material_are_withheld(tmp_path: Path) -> None:
    hidden, public = tmp_path / "hidden", tmp_path / "public"
    hidden.mkdir()
    public.mkdir()
    (hidden / "test_secret.py").write_text(f"def test_x():\n    assert f() == '{TOKEN}'\n")
    (public / "code.py").write_text("def f():\n    assert value == expected_value\n")
    secrets = evidence.Secrets.gather([hidden], public)
    assert secrets.clean(f"AssertionError: got {TOKEN}") == evidence.WITHHELD
    assert secrets.clean("assert value == expected_value failed") != evidence.WITHHELD
    assert len(secrets.clean("y" * 5000)) == evidence.MAX_MESSAGE


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"check": "nope", "points": 1}], "`check` must be one of"),
        ([{"check": "lint", "points": -1}], "`points` must be a number >= 0"),
        ([{"check": "lint", "points": float("nan")}], "`points` must be a number >= 0"),
        ([{"check": "lint", "points": True}], "`points` must be a number >= 0"),
        ([{"check": "metric", "points": 1, "expr": "model.accuracy >= nan"}], "expr must"),
        ([{"check": "metric", "points": 1, "expr": "__import__('os') >= 1"}], "expr must"),
        (
            [
                {"name": "A", "check": "lint", "points": 1},
                {"name": "A", "check": "lint", "points": 2},
            ],
            "used twice",
        ),
    ],
)
def test_bad_rubrics_are_refused(tmp_path: Path, items: list, message: str) -> None:
    path = tmp_path / "rubric.yml"
    path.write_text(yaml.safe_dump({"items": items}))
    with pytest.raises(grader.RubricError, match=message.replace("(", r"\(")):
        grader.load_rubric(path)


def test_a_rubric_that_is_not_utf8_is_exit_2(tmp_path: Path) -> None:
    assignment = tmp_path / "hw1"
    assert run_cli("cohort", "init", str(assignment), "--kind", KIND).returncode == 0
    (assignment / "grading" / "rubric.yml").write_bytes("items: [caf\xe9]\n".encode("latin-1"))
    (tmp_path / "repos").mkdir()
    done = run_cli("cohort", "grade", str(assignment), str(tmp_path / "repos"))
    assert done.returncode == 2 and "UTF-8" in done.stderr and "Traceback" not in done.stderr


def test_no_sandbox_means_no_grading_unless_unsafe(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
    )
    (fake / "bwrap").chmod(0o755)
    assignment = tmp_path / "hw1"
    assert run_cli("cohort", "init", str(assignment), "--kind", KIND).returncode == 0
    (tmp_path / "repos").mkdir()
    path = f"{fake}:{os.environ['PATH']}"
    done = run_cli("cohort", "grade", str(assignment), str(tmp_path / "repos"), env={"PATH": path})
    assert done.returncode == 2, done.stderr
    assert "no sandbox" in done.stderr and "--unsafe" in done.stderr


def test_evaluation_data_that_cannot_be_split_is_exit_2(tmp_path: Path) -> None:
    assignment = tmp_path / "hw1"
    assert run_cli("cohort", "init", str(assignment), "--kind", KIND).returncode == 0
    (assignment / "grading" / "data" / "train.csv").write_text("a,b\n1,2\n")
    (tmp_path / "repos").mkdir()
    done = run_cli("cohort", "grade", str(assignment), str(tmp_path / "repos"))
    assert done.returncode == 2 and "evaluation data is incomplete" in done.stderr
    assert "has no test.csv" in done.stderr and "Traceback" not in done.stderr
