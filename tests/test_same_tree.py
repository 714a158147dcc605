"""Identical graded trees are graded once per run: the digest that decides it, and the memo."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from mlscaffold.cohort import grading


def _tree(root: Path) -> Path:
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "steps.py").write_text("def train():\n    return 1\n")
    (root / "Makefile").write_text("all:\n\ttrue\n")
    (root / "data" / "sample").mkdir(parents=True)
    return root


def test_the_digest_sees_every_byte_name_mode_link_and_folder(tmp_path: Path) -> None:
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert grading.tree_digest(a) == grading.tree_digest(b)  # where it lies does not count
    seen = {grading.tree_digest(a)}
    changes = [
        lambda t: (t / "src" / "pkg" / "steps.py").write_text("def train():\n    return 2\n"),
        lambda t: (t / "src" / "pkg" / "steps.py").rename(t / "src" / "pkg" / "step.py"),
        lambda t: os.chmod(t / "Makefile", 0o755),
        lambda t: (t / "link").symlink_to("Makefile"),
        lambda t: (t / "data" / "sample" / "more").mkdir(),  # an empty folder counts too
        lambda t: (t / "src" / "pkg" / "__init__.py").write_text(""),
    ]
    for n, change in enumerate(changes):
        tree = _tree(tmp_path / f"c{n}")
        change(tree)
        digest = grading.tree_digest(tree)
        assert digest not in seen, n
        seen.add(digest)


def test_links_are_named_never_followed(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "t")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "big").write_text("x")
    (tree / "escape").symlink_to(outside)
    before = grading.tree_digest(tree)
    (outside / "big").write_text("y" * 1000)  # what a link points at is not the tree's
    assert grading.tree_digest(tree) == before


def test_a_second_identical_tree_waits_for_the_first_and_gets_its_items() -> None:
    memo = grading.TreeMemo()
    runs: list[str] = []
    got: dict[str, list] = {}

    def grade(name: str) -> None:
        with memo.lock("same"):
            items = memo.get("same")
            if items is None:
                runs.append(name)
                time.sleep(0.2)  # the first one's steps
                items = [{"name": "Tests pass", "points": 20, "passed": True}]
                memo.put("same", items)
            got[name] = items

    threads = [threading.Thread(target=grade, args=(n,)) for n in ("s1", "s2", "s3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(runs) == 1  # graded once
    assert got["s1"] == got["s2"] == got["s3"]
    got["s2"][0]["points"] = 0  # each student's rows are their own copies
    assert memo.get("same")[0]["points"] == 20
