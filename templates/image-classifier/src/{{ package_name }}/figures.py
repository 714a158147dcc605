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
    """Images (H, W, C uint8) in a grid, each with a caption (up to two lines).

    The layout is fixed in inches (room for the title, then for each row's captions) rather
    than solved by matplotlib's constrained layout, which took 3 s per grid of 50 images."""
    count = max(1, len(images))
    rows = (count + columns - 1) // columns
    cell, caption, heading = 1.5, 0.4, 0.45  # inches: image, caption above it, figure title
    width, height = columns * 1.7, rows * (cell + caption) + heading
    fig, axes = plt.subplots(rows, columns, figsize=(width, height), squeeze=False)
    fig.subplots_adjust(
        left=0.02,
        right=0.98,
        bottom=0.1 / height,
        top=1 - (heading + caption) / height,
        wspace=0.15,
        hspace=caption / cell,
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, label in zip(axes.flat, images, titles, strict=False):
        gray = image.shape[-1] == 1
        ax.imshow(image[..., 0] if gray else image, cmap="gray" if gray else None)
        ax.set_title(label, fontsize=7)
    fig.suptitle(title, y=1 - 0.08 / height, va="top")
    return save(fig, path, layout=False)
