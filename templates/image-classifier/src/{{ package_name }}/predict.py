"""Classify image files with the saved model, in a fresh process, on CPU."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from . import model
from .data import IMAGE_SUFFIXES, readable
from .images import Transform, read_image
from .plumbing.errors import DataError
from .plumbing.paths import Paths


def image_files(targets: Sequence[str]) -> list[Path]:
    """Files as given, and the images inside folders (sorted); a missing path is an error."""
    found: list[Path] = []
    for target in targets:
        path = Path(target).expanduser()
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
            )
        elif path.is_file():
            found.append(path)
        else:
            raise DataError(f"no such file or folder: {target}", "give image files or a folder")
    if not found:
        raise DataError("no images found in " + ", ".join(targets))
    return found


def load_model(paths: Paths) -> tuple[torch.nn.Module, dict[str, Any]]:
    return model.load(paths.models / model.MODEL_FILE)


def predict(
    network: torch.nn.Module,
    saved: dict[str, Any],
    files: Iterable[Path | tuple[str, BinaryIO]],
    k: int,
) -> list[dict[str, Any]]:
    """Top-k labels with probabilities per image: a file, or (name, binary stream) as `serve`
    passes uploads; unreadable images get an `error` instead."""
    spec = saved["image"]
    transform = Transform(spec["mean"], spec["std"], spec["side"])
    classes = saved["classes"]
    rows = []
    for source in files:
        name, path = (str(source), source) if isinstance(source, Path) else source
        if not readable(path):
            rows.append({"file": name, "error": "not a readable image"})
            continue
        image = read_image(path, spec["channels"], spec["side"])
        with torch.inference_mode():
            probs = torch.softmax(network(transform(image)[None]), dim=1)[0].numpy()
        best = np.argsort(-probs, kind="stable")[: min(k, len(classes))]
        rows.append(
            {
                "file": name,
                "labels": [{"label": classes[i], "probability": float(probs[i])} for i in best],
            }
        )
    return rows
