"""Images as the model sees them: datasets, and the transforms (augmentation for training only).

Both dataset types return (float tensor C x H x W, normalised with the training split's
statistics, integer label), so training, evaluation and prediction share one code path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from .settings import AugmentSettings


def read_image(path: Path, channels: int, size: int | None) -> np.ndarray:
    """A file as a uint8 array (H, W, C): grayscale or RGB, resized square when asked."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("L" if channels == 1 else "RGB")
        if size:
            image = image.resize((size, size), Image.Resampling.BILINEAR)
        array = np.array(image, dtype=np.uint8)  # a copy: PIL's view is read-only (PyTorch warns)
    return array[..., None] if array.ndim == 2 else array


def make_transform(
    mean: Sequence[float],
    std: Sequence[float],
    side: int,
    resize: int | None = None,
    augment: AugmentSettings | None = None,
) -> v2.Compose:
    """uint8 H x W x C → normalised float tensor; `augment` only for the training split."""
    steps: list[Any] = [v2.ToImage()]
    if resize:
        steps.append(v2.Resize((resize, resize), antialias=True))
    if augment is not None:
        if augment.crop_padding:
            steps.append(v2.RandomCrop(side, padding=augment.crop_padding, padding_mode="edge"))
        if augment.horizontal_flip:
            steps.append(v2.RandomHorizontalFlip())
        if augment.rotation_degrees:
            steps.append(v2.RandomRotation(augment.rotation_degrees))
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(mean), list(std))]
    return v2.Compose(steps)


class ArrayImages(Dataset):
    """Images held in memory as uint8 arrays (N, H, W, C): the torchvision datasets."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: v2.Compose) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(self.images[index]), int(self.labels[index])


# Decoded images up to this many bytes are kept in memory (3,500 images of 28 x 28: 2.7 MB;
# 50,000 of 64 x 64 in colour: 614 MB); larger sets are read from disk at every use.
CACHE_BYTES = 1 << 30


class FileImages(Dataset):
    """Images from your folders. A set that fits in CACHE_BYTES once decoded is decoded once,
    here, and kept in memory (before any DataLoader worker starts, so workers share it):
    decoding every PNG at every epoch made an epoch 20x slower than on in-memory arrays.
    A larger set is read from disk when needed, so memory stays flat however many."""

    def __init__(
        self,
        files: Sequence[Path],
        labels: Sequence[int],
        channels: int,
        size: int | None,
        transform: v2.Compose,
    ) -> None:
        self.files, self.labels = list(files), list(labels)
        self.channels, self.size, self.transform = channels, size, transform
        self.decoded: np.ndarray | None = None
        if size and len(self.files) * size * size * channels <= CACHE_BYTES:
            shape = (len(self.files), size, size, channels)
            self.decoded = np.empty(shape, dtype=np.uint8)
            for index, path in enumerate(self.files):
                self.decoded[index] = read_image(path, channels, size)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(self.image(index)), self.labels[index]

    def image(self, index: int) -> np.ndarray:
        if self.decoded is not None:
            return self.decoded[index]
        return read_image(self.files[index], self.channels, self.size)


def image_spec(config: Any, details: dict[str, Any]) -> dict[str, Any]:
    """What the model is fed: channels, side in pixels, normalisation. Saved with the model,
    so prediction prepares a new image exactly as training did."""
    from .plumbing.errors import ConfigError

    size = config.data.image_size
    folder = config.data.dataset == "folder"
    if folder and not size:
        raise ConfigError(
            "data.image_size must be set for your own images (they differ in size)",
            "for example data.image_size=64",
        )
    native = None if folder else details["image_shape"][0]
    return {
        "channels": details["channels"],
        "side": size or native,
        "resize": size if size and size != native else None,  # arrays only; files are read at size
        "mean": details["mean"],
        "std": details["std"],
        "folder": folder,
    }


def load_splits(config: Any, meta: Any, paths: Any) -> tuple[list[str], dict[str, Dataset]]:
    """The train (augmented), validation and test datasets the data step prepared."""
    from . import data

    spec = image_spec(config, meta.details)
    plain = make_transform(spec["mean"], spec["std"], spec["side"], spec["resize"])
    augmented = make_transform(
        spec["mean"], spec["std"], spec["side"], spec["resize"], config.augment
    )
    transforms = {"train": augmented, "validation": plain, "test": plain}
    classes = list(meta.details["classes"])
    if spec["folder"]:
        folder, rows = data.read_splits(paths)
        index = {name: i for i, name in enumerate(classes)}
        sets: dict[str, Dataset] = {}
        for split, transform in transforms.items():
            chosen = [row for row in rows if row["split"] == split]
            sets[split] = FileImages(
                [folder / row["path"] for row in chosen],
                [index[row["label"]] for row in chosen],
                spec["channels"],
                spec["side"],
                transform,
            )
        return classes, sets
    arrays = data.load_arrays(paths)
    return classes, {
        split: ArrayImages(arrays.images[split], arrays.labels[split], transform)
        for split, transform in transforms.items()
    }


def raw_image(dataset: Dataset, index: int) -> np.ndarray:
    """The untransformed image (H, W, C) for figures."""
    if isinstance(dataset, FileImages):
        return dataset.image(index)
    return dataset.images[index]  # type: ignore[attr-defined]
