"""Hidden checks judged outside the sandbox: `probe_*` runs inside, `check_*` runs here.

Anything that runs in a student's process can be forged (pytest, `json`, builtins can all be
patched), so a verdict that matters is decided where student code cannot reach. In a hidden
test file an instructor writes pairs:

    def probe_count_words():          # inside the sandbox; returns JSON-able data
        return [features.count_words(s) for s in ["a b", "", "x  y z"]]

    def check_count_words(values):    # in the grader's process; never enters a sandbox
        assert values == [2, 0, 3]

`split` cuts each file in two with `ast`: what enters the sandbox is the file without the
`check_*` functions and without every top-level statement only they use (the expected
values); what stays here is the `check_*` functions and what they use, compiled once and
never importing the student's package. The sandbox's runner (`RUNNER`) calls each probe and
writes the values as JSON; `judge` reads that file (capped, never through a link) and runs
each check on its value. A forged runner can write any values it likes: without the
expectations, that buys nothing an honest computation would not.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROBE, CHECK = "probe_", "check_"
MAX_VALUES = 8 * 1024 * 1024
RESULTS = "probes.json"
# the fixed vocabulary of outcomes feedback may use: nothing the student's code controls
PASSED, FAILED, TIMED_OUT, CRASHED, MISSING = (
    "passed",
    "failed",
    "timed out",
    "crashed",
    "output missing",
)
PROBE_SECONDS = 120  # one probe's limit inside the sandbox (the step has its own)


class HiddenTestError(Exception):
    """The instructor's hidden tests cannot be split or loaded (exit 2 before grading)."""


@dataclass(frozen=True)
class Pair:
    file: str  # relative to grading/tests, POSIX
    name: str  # without the prefix: probe_<name> / check_<name>

    @property
    def key(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass
class HiddenSuite:
    """The hidden tests as they enter the sandbox, and the checks kept here."""

    inside: dict[str, str] = field(default_factory=dict)  # file -> source for the sandbox
    pairs: list[Pair] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)  # pair key -> check function
    plain: dict[str, set[str]] = field(default_factory=dict)  # file -> test_* judged inside

    def write_inside(self, folder: Path) -> None:
        for name, text in self.inside.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    def selected(self, node: str | None) -> tuple[list[Pair], set[str]]:
        """The pairs and plain tests an item counts (`node`: `FILE` or `FILE::NAME`)."""
        file, _, name = (node or "").partition("::")

        def chosen(in_file: str, names: tuple[str, ...]) -> bool:
            return not node or (in_file == file and (not name or name in names))

        pairs = [p for p in self.pairs if chosen(p.file, (p.name, PROBE + p.name, CHECK + p.name))]
        plain = {t for f, names in self.plain.items() for t in names if chosen(f, (t,))}
        return pairs, plain


def _defines(statement: ast.stmt) -> set[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in statement.names}
    names: set[str] = set()
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    for target in targets:
        names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _uses(statement: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)}


def _closure(roots: list[int], statements: list[ast.stmt]) -> set[int]:
    """The statements `roots` need, following the top-level names each one uses."""
    definers: dict[str, list[int]] = {}
    for index, statement in enumerate(statements):
        for name in _defines(statement):
            definers.setdefault(name, []).append(index)
    needed, todo = set(roots), list(roots)
    while todo:
        for name in _uses(statements[todo.pop()]):
            for index in definers.get(name, []):
                if index not in needed:
                    needed.add(index)
                    todo.append(index)
    return needed


def _function(statement: ast.stmt, prefix: str) -> str | None:
    if isinstance(statement, ast.FunctionDef) and statement.name.startswith(prefix):
        return statement.name[len(prefix) :]
    return None


def _imports_package(statement: ast.stmt, package: str) -> bool:
    if isinstance(statement, ast.Import):
        return any(a.name.split(".")[0] == package for a in statement.names)
    if isinstance(statement, ast.ImportFrom):
        return statement.level == 0 and (statement.module or "").split(".")[0] == package
    return False


def _split_file(source: str, where: str, package: str) -> tuple[str, str, list[str], set[str]]:
    """(inside source, outside source, pair names, plain test names) of one file."""
    try:
        module = ast.parse(source)
    except SyntaxError as exc:
        raise HiddenTestError(f"{where} line {exc.lineno}: {exc.msg}") from None
    body = module.body
    probes = {n: i for i, s in enumerate(body) if (n := _function(s, PROBE)) is not None}
    checks = {n: i for i, s in enumerate(body) if (n := _function(s, CHECK)) is not None}
    for name in sorted(set(probes) ^ set(checks)):
        have, want = (PROBE, CHECK) if name in probes else (CHECK, PROBE)
        raise HiddenTestError(f"{where}: {have}{name} has no {want}{name} to pair with")
    for name, index in checks.items():
        arguments = body[index].args  # type: ignore[attr-defined]
        if len(arguments.args) != 1 or arguments.vararg or arguments.kwonlyargs:
            raise HiddenTestError(f"{where}: {CHECK}{name} must take one argument (the values)")
        if body[probes[name]].args.args:  # type: ignore[attr-defined]
            raise HiddenTestError(f"{where}: {PROBE}{name} must take no arguments")
    future = {
        i for i, s in enumerate(body) if isinstance(s, ast.ImportFrom) and s.module == "__future__"
    }
    outside = _closure(sorted(checks.values()), body) | future
    outside -= set(probes.values())
    rest = [i for i in range(len(body)) if i not in outside or i in future]
    inside = _closure(rest, body) - set(checks.values())
    for index in sorted(outside):
        if _imports_package(body[index], package):
            checker = min(checks)
            raise HiddenTestError(
                f"{where}: a check_ function uses the student's package {package} (line "
                f"{body[index].lineno}); call student code in its probe_ (e.g. "
                f"{PROBE}{checker}) and check only the values here"
            )
    plain = {
        s.name
        for s in body
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name.startswith("test")
    }
    plain |= {
        f.name
        for s in body
        if isinstance(s, ast.ClassDef) and s.name.startswith("Test")
        for f in s.body
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name.startswith("test")
    }
    lines = source.splitlines(keepends=True)
    return _source(lines, body, inside), _source(lines, body, outside), sorted(checks), plain


def _source(lines: list[str], body: list[ast.stmt], keep: set[int]) -> str:
    """The kept top-level statements, with their own lines and decorators, in order."""
    parts = []
    for index in sorted(keep):
        statement = body[index]
        first = min(
            [statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", []))]
        )
        parts.append("".join(lines[first - 1 : statement.end_lineno]))
    return "\n\n".join(parts) + "\n"


def split(folder: Path, package: str) -> HiddenSuite:
    """Every `test_*.py` under `folder`, cut in two; the checks compiled and loaded here."""
    suite = HiddenSuite()
    if not folder.is_dir():
        return suite
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name = path.relative_to(folder).as_posix()
        where = f"grading/tests/{name}"
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise HiddenTestError(f"cannot read {where} as UTF-8 text ({exc})") from None
        if not path.name.startswith("test_"):
            suite.inside[name] = source  # helpers the tests import
            continue
        inside, outside, pairs, plain = _split_file(source, where, package)
        suite.inside[name] = inside
        if plain:
            suite.plain[name] = plain
        if not pairs:
            continue
        namespace: dict[str, Any] = {
            "__name__": f"mlscaffold_hidden_checks_{len(suite.checks)}",
            "__file__": str(path),
        }
        try:
            exec(compile(outside, where, "exec"), namespace)  # the instructor's own code
        except Exception as exc:
            raise HiddenTestError(
                f"{where}: the checks cannot be loaded where mlscaffold runs "
                f"({type(exc).__name__}: {exc})"
            ) from None
        for pair_name in pairs:
            pair = Pair(name, pair_name)
            suite.pairs.append(pair)
            suite.checks[pair.key] = namespace[f"{CHECK}{pair_name}"]
    return suite


# Runs inside the sandbox: argv = hidden tests folder, results file. It may be forged; what
# it writes is only ever data.
RUNNER = """\
import importlib.util
import json
import pathlib
import signal
import sys

folder, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
results = {}


def _save():
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(results, handle)


def _alarm(*_):
    raise TimeoutError


signal.signal(signal.SIGALRM, _alarm)
sys.path.insert(0, str(folder))
for number, path in enumerate(sorted(folder.rglob("test_*.py"))):
    file = path.relative_to(folder).as_posix()
    spec = importlib.util.spec_from_file_location(f"hidden_probes_{number}", path)
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except BaseException:
        results[f"{file}::*"] = "crashed"
        _save()
        continue
    for name in sorted(n[6:] for n in vars(module) if n.startswith("probe_")):
        key = f"{file}::{name}"
        signal.alarm(PROBE_SECONDS)
        try:
            results[key] = {"value": json.loads(json.dumps(getattr(module, "probe_" + name)()))}
        except TimeoutError:
            results[key] = "timed out"
        except BaseException:
            results[key] = "crashed"
        finally:
            signal.alarm(0)
        _save()
_save()
""".replace("PROBE_SECONDS", str(PROBE_SECONDS))


@dataclass(frozen=True)
class Verdict:
    pair: Pair
    outcome: str  # one of the fixed vocabulary


def read_values(path: Path) -> dict[str, Any] | None:
    """What the runner wrote, as plain data; None when it is unusable (never an exception)."""
    from mlscaffold.cohort.sandbox import UnsafeOutput, read_output

    try:
        data = json.loads(read_output(path, MAX_VALUES).decode("utf-8"))
    except (UnsafeOutput, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def judge(suite: HiddenSuite, pairs: list[Pair], values: dict[str, Any] | None) -> list[Verdict]:
    """Each check on its probe's value, here in the grader's process."""
    verdicts = []
    for pair in pairs:
        entry = (values or {}).get(pair.key, (values or {}).get(f"{pair.file}::*"))
        if entry in (TIMED_OUT, CRASHED):
            verdicts.append(Verdict(pair, entry))
            continue
        if not isinstance(entry, dict) or "value" not in entry:
            verdicts.append(Verdict(pair, MISSING))
            continue
        try:
            suite.checks[pair.key](entry["value"])
        except Exception:  # an assertion, or a check that could not use the value: failed
            outcome = FAILED
        else:
            outcome = PASSED
        verdicts.append(Verdict(pair, outcome))
    return verdicts
