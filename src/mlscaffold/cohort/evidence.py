"""What the grader believes about a sandboxed run, and what it lets a student read.

Test outcomes: pytest writes a JUnit report into a folder that exists only for that step and
is read after the sandbox (and every process in it) has ended. Student code shares pytest's
process, so the report is cross-checked: two canary tests with names made fresh for each run
must come back one passed and one failed, and every test function the instructor wrote must
be in it. Any mismatch is "tampering suspected".

Feedback: hidden items report counts and the instructor's own message only; a visible item's
message is capped and withheld whole if it quotes anything that is in the hidden material
(hidden tests, evaluation data, canary names) but not in the reference project.
"""

from __future__ import annotations

import ast
import re
import secrets
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

MAX_REPORT = 8 * 1024 * 1024
MAX_MESSAGE = 300
WINDOW = 12
WITHHELD = "(message withheld: it quoted the instructor's hidden material)"


class Tampering(Exception):
    """The run's report cannot be what pytest wrote for these tests."""


def _random_test_name() -> str:
    return f"test_{secrets.token_hex(6)}"


@dataclass(frozen=True)
class Canaries:
    """A passing and a failing test, written beside the tests with fresh random names that
    say nothing about which is which: patching pytest to pass "everything but the canary"
    needs to know which one that is."""

    passing: str = field(default_factory=_random_test_name)
    failing: str = field(default_factory=_random_test_name)
    filename: str = field(default_factory=lambda: f"{_random_test_name()}.py")
    numbers: tuple[int, int] = field(
        default_factory=lambda: (secrets.randbelow(10**6) + 10**5, secrets.randbelow(10**6))
    )

    def write(self, folder: Path) -> Path:
        a, b = self.numbers
        tests = [
            f"def {self.passing}():\n    assert {a} + {b} == {a + b}\n",
            f"def {self.failing}():\n    assert {a} - {b} == {a - b + 1}\n",
        ]
        if secrets.randbelow(2):
            tests.reverse()
        path = folder / self.filename
        path.write_text("\n\n".join(tests), encoding="utf-8")
        return path


@dataclass
class TestReport:
    outcomes: dict[str, str] = field(default_factory=dict)  # test name -> passed/failed/...
    first_failure: str = ""

    def passed(self, name: str) -> bool:
        return self.outcomes.get(name) == "passed"


def _name(case: ElementTree.Element) -> str:
    return case.get("name", "").split("[", 1)[0]  # parametrised cases count for their function


def read_report(path: Path, canaries: Canaries) -> TestReport:
    """Outcomes by test function; raises Tampering when the canaries do not match."""
    from mlscaffold.cohort.sandbox import UnsafeOutput, read_output

    try:
        data = read_output(path, MAX_REPORT)
    except UnsafeOutput:  # why (a link, a FIFO, too large) is the student's to choose
        raise Tampering("the test report is missing or unusable") from None
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise Tampering("the test report is not what pytest writes") from None
    report = TestReport()
    for case in root.iter("testcase"):
        name = _name(case)
        kinds = {child.tag for child in case}
        outcome = next((k for k in ("error", "failure", "skipped") if k in kinds), "passed")
        outcome = "failed" if outcome in ("error", "failure") else outcome
        if outcome == "failed" and not report.first_failure and name != canaries.failing:
            node = case.find("failure") if case.find("failure") is not None else case.find("error")
            report.first_failure = (node.get("message") or "" if node is not None else "")[:500]
        previous = report.outcomes.get(name)
        if previous is None or previous == "passed":  # one failing parameter fails the function
            report.outcomes[name] = outcome
    if report.outcomes.pop(canaries.passing, None) != "passed":
        raise Tampering("a canary test that must pass did not")
    if report.outcomes.pop(canaries.failing, None) != "failed":
        raise Tampering("a canary test that must fail did not")
    return report


def test_functions(folder: Path) -> set[str]:
    """The test functions the instructor wrote (module level and in Test* classes)."""
    names: set[str] = set()
    for path in sorted(folder.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
                "test"
            ):
                names.add(node.name)
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                names.update(
                    n.name
                    for n in node.body
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and n.name.startswith("test")
                )
    return names


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _text_files(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 20_000_000:
            try:
                texts.append(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, OSError):
                continue  # images and other binary data cannot be quoted in a message
    return texts


@dataclass
class Secrets:
    """The hidden material, as text, and what the student may see anyway (the reference)."""

    hidden: str = ""
    public: str = ""

    @classmethod
    def gather(cls, hidden: list[Path], public: Path) -> Secrets:
        hidden_text = "\n".join(t for folder in hidden for t in _text_files(folder))
        return cls(_normal(hidden_text), _normal("\n".join(_text_files(public))))

    def quotes_hidden(self, text: str) -> bool:
        flat = _normal(text)
        for start in range(max(0, len(flat) - WINDOW + 1)):
            window = flat[start : start + WINDOW]
            if window.strip() and window in self.hidden and window not in self.public:
                return True
        return False

    def clean(self, text: str) -> str:
        """A message fit for a student: capped, one line, nothing hidden in it."""
        line = " ".join(text.split())[:MAX_MESSAGE]
        return WITHHELD if self.quotes_hidden(line) else line
