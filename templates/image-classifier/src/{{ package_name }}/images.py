"""Images as the model sees them: datasets, and the transforms (augmentation for training only).

Both dataset types return (float tensor C x H x W, normalised with the training split's
statistics, integer label), so training, evaluation and prediction share one code path.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
)

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


class Transform:
    """uint8 images (H, W, C), or a batch of them (N, H, W, C), to normalised float tensors
    (C, H, W) or (N, C, H, W); random augmentation only for the training split.

    A batch is transformed whole, one tensor operation per step for all its images (crop
    offsets, flips and angles drawn per image): torchvision's per-image transforms took 25 s
    of a 62 s Fashion-MNIST epoch on a 2-core CPU, longer than the network's own work.
    Order as torchvision's: resize, crop, flip, rotate, then normalise."""

    def __init__(
        self,
        mean: Sequence[float],
        std: Sequence[float],
        side: int,
        resize: int | None = None,
        augment: AugmentSettings | None = None,
    ) -> None:
        self.mean = torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1)
        self.side, self.resize, self.augment = side, resize, augment

    def __call__(self, images: np.ndarray) -> torch.Tensor:
        array = np.asarray(images, dtype=np.uint8)
        if not array.flags.writeable:  # PyTorch warns about every read-only array
            array = array.copy()
        single = array.ndim == 3
        batch = torch.from_numpy(array[None] if single else array).permute(0, 3, 1, 2)
        out = batch.float().div_(255)
        if self.resize:
            size = (self.resize, self.resize)
            out = F.interpolate(out, size=size, mode="bilinear", antialias=True)
        if self.augment is not None:
            out = augmented(out, self.augment, self.side)
        out = ((out - self.mean) / self.std).contiguous()
        return out[0] if single else out


def augmented(batch: torch.Tensor, augment: AugmentSettings, side: int) -> torch.Tensor:
    """Random crops of the edge-padded images, horizontal flips and rotations, per image."""
    count = len(batch)
    pad = augment.crop_padding
    if pad:
        padded = F.pad(batch, (pad, pad, pad, pad), mode="replicate")
        top = torch.randint(0, padded.shape[2] - side + 1, (count, 1))
        left = torch.randint(0, padded.shape[3] - side + 1, (count, 1))
        rows = (top + torch.arange(side))[:, :, None]  # (N, side, 1)
        cols = (left + torch.arange(side))[:, None, :]  # (N, 1, side)
        picked = padded[torch.arange(count)[:, None, None], :, rows, cols]  # (N, side, side, C)
        batch = picked.permute(0, 3, 1, 2)
    if augment.horizontal_flip:
        flip = (torch.rand(count) < 0.5)[:, None, None, None]
        batch = torch.where(flip, batch.flip(3), batch)
    if augment.rotation_degrees:
        angle = (torch.rand(count) * 2 - 1) * math.radians(augment.rotation_degrees)
        cos, sin, zero = angle.cos(), angle.sin(), torch.zeros(count)
        theta = torch.stack([cos, -sin, zero, sin, cos, zero], dim=1).view(count, 2, 3)
        grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
        # nearest pixels, black outside: torchvision's RandomRotation defaults
        batch = F.grid_sample(batch, grid, mode="nearest", align_corners=False)
    return batch


def batch_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    sampler: Sampler | None = None,
    shuffle: bool = False,
    seed: int = 0,
    workers: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """Batches fetched whole: the dataset gets a batch's positions and transforms them at
    once (see Transform), rather than image by image and stacked after."""
    if sampler is None and shuffle:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    elif sampler is None:
        sampler = SequentialSampler(dataset)
    return DataLoader(
        dataset,
        sampler=BatchSampler(sampler, batch_size, drop_last=False),
        batch_size=None,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=pin_memory,
        generator=torch.Generator().manual_seed(seed),
    )


class _Images(Dataset, ABC):
    """An int gives one (image, label); a list of positions (a BatchSampler's) gives a whole
    batch, transformed at once. Subclasses say where the uint8 pixels come from."""

    labels: Sequence[int] | np.ndarray
    transform: Transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: Any) -> tuple[torch.Tensor, Any]:
        if isinstance(index, (int, np.integer)):
            return self.transform(self.image(int(index))), int(self.labels[index])
        rows = np.asarray(index, dtype=np.int64)
        labels = torch.as_tensor(np.asarray(self.labels)[rows], dtype=torch.long)
        return self.transform(self.batch(rows)), labels

    @abstractmethod
    def image(self, index: int) -> np.ndarray:
        """The untransformed image (H, W, C), also for figures."""

    def batch(self, rows: np.ndarray) -> np.ndarray:
        return np.stack([self.image(int(row)) for row in rows])


class ArrayImages(_Images):
    """Images held in memory as uint8 arrays (N, H, W, C): the torchvision datasets."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Transform) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def image(self, index: int) -> np.ndarray:
        return self.images[index]

    def batch(self, rows: np.ndarray) -> np.ndarray:
        return self.images[rows]


# Decoded images up to this many bytes are kept in memory (3,500 images of 28 x 28: 2.7 MB;
# 50,000 of 64 x 64 in colour: 614 MB); larger sets are read from disk at every use.
CACHE_BYTES = 1 << 30


class FileImages(_Images):
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
        transform: Transform,
    ) -> None:
        self.files, self.labels = list(files), list(labels)
        self.channels, self.size, self.transform = channels, size, transform
        self.decoded: np.ndarray | None = None
        if size and len(self.files) * size * size * channels <= CACHE_BYTES:
            shape = (len(self.files), size, size, channels)
            self.decoded = np.empty(shape, dtype=np.uint8)
            for index, path in enumerate(self.files):
                self.decoded[index] = read_image(path, channels, size)

    def image(self, index: int) -> np.ndarray:
        if self.decoded is not None:
            return self.decoded[index]
        return read_image(self.files[index], self.channels, self.size)

    def batch(self, rows: np.ndarray) -> np.ndarray:
        return self.decoded[rows] if self.decoded is not None else super().batch(rows)


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
    plain = Transform(spec["mean"], spec["std"], spec["side"], spec["resize"])
    augmented = Transform(spec["mean"], spec["std"], spec["side"], spec["resize"], config.augment)
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
    return dataset.image(index)  # type: ignore[attr-defined]
