"""The image classifier's own figures: learning curves and image grids (the confusion matrix
is drawn by the shared plots module)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .plumbing.plots import plt, save


def learning_curves(history: Sequence[dict[str, Any]], path: Path) -> Path:
    """Loss and accuracy per epoch, train beside validation: over- or under-fitting at a glance."""
    epochs = [row["epoch"] for row in history]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, [row[f"train_{metric}"] for row in history], "o-", label="train")
        ax.plot(epochs, [row[f"val_{metric}"] for row in history], "o-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Learning curves")
    return save(fig, path)


def image_grid(
    images: Sequence[np.ndarray], titles: Sequence[str], path: Path, title: str, columns: int = 6
) -> Path:
    """Images (H, W, C uint8) in a grid, each with a caption."""
    count = max(1, len(images))
    rows = (count + columns - 1) // columns
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(columns * 1.7, rows * 1.9 + 0.4),
        squeeze=False,
        layout="constrained",  # room for the title above the captions (tight_layout has none)
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, titles, strict=False):
        gray = image.shape[-1] == 1
        ax.imshow(image[..., 0] if gray else image, cmap="gray" if gray else None)
        ax.set_title(caption, fontsize=7)
    fig.suptitle(title)
    return save(fig, path)
