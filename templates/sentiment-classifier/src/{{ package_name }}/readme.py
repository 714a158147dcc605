"""Write the results table into README.md between its markers, leaving the rest untouched."""

from __future__ import annotations

from pathlib import Path

START = "<!-- results:start -->"
END = "<!-- results:end -->"


def replace_between_markers(text: str, body: str) -> str | None:
    """The text with the marked block replaced, or None when the markers are missing."""
    start, end = text.find(START), text.find(END)
    if start == -1 or end == -1 or end < start:
        return None
    return text[: start + len(START)] + "\n" + body.strip() + "\n" + text[end:]


def update_readme(path: Path, body: str) -> bool:
    if not path.is_file():
        return False
    updated = replace_between_markers(path.read_text(encoding="utf-8"), body)
    if updated is None:
        return False
    path.write_text(updated, encoding="utf-8")
    return True
