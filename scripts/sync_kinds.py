"""Keep the template source in step with the catalogue (src/mlscaffold/catalog.py).

    python scripts/sync_kinds.py          # write templates/_kinds.yml and missing kind stubs
    python scripts/sync_kinds.py --check  # exit 1 if anything is stale (a test runs this)

1. templates/_kinds.yml (the `kind` question, reserved package names) is generated from
   the catalogue.
2. Every file under templates/_shared/project/ must exist at the same path in each kind's
   folder, as a stub: exactly `{% include "_shared/project/PATH" %}`, or a first line
   `{%- extends "_shared/project/PATH" %}` followed by the kind's blocks. Missing stubs are
   written as includes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mlscaffold import catalog  # noqa: E402

TEMPLATES = ROOT / "templates"
SHARED = TEMPLATES / "_shared" / "project"
KINDS_FILE = TEMPLATES / "_kinds.yml"


def shared_files() -> list[str]:
    return sorted(
        p.relative_to(SHARED).as_posix()
        for p in SHARED.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def include_line(rel: str) -> str:
    return '{% include "_shared/project/' + rel + '" %}'


def extends_line(rel: str) -> str:
    return '{%- extends "_shared/project/' + rel + '" %}'


def stub_problem(kind_dir: Path, rel: str) -> str | None:
    """Why the kind's stub for a shared file is not a plain include or extends (None: fine)."""
    path = kind_dir / rel
    if not path.is_file():
        return "missing"
    text = path.read_text(encoding="utf-8")
    if text == include_line(rel):
        return None
    if text.split("\n", 1)[0] == extends_line(rel):
        return None
    return "neither exactly the one-line include nor an extends of the shared file"


def kind_dirs() -> list[Path]:
    return [TEMPLATES / kind.name for kind in catalog.KINDS if (TEMPLATES / kind.name).is_dir()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report what is stale")
    args = parser.parse_args()
    problems = []
    wanted = catalog.kinds_yaml()
    if not KINDS_FILE.exists() or KINDS_FILE.read_text(encoding="utf-8") != wanted:
        problems.append(f"{KINDS_FILE.relative_to(ROOT)} is stale")
        if not args.check:
            KINDS_FILE.write_text(wanted, encoding="utf-8")
    for kind_dir in kind_dirs():
        for rel in shared_files():
            problem = stub_problem(kind_dir, rel)
            if problem is None:
                continue
            problems.append(f"{kind_dir.name}/{rel}: {problem}")
            if problem == "missing" and not args.check:
                (kind_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                (kind_dir / rel).write_text(include_line(rel), encoding="utf-8")
    for line in problems:
        print(line, file=sys.stderr)
    if args.check and problems:
        print("run: python scripts/sync_kinds.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
