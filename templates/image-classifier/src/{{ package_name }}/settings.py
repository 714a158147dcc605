"""What configs/config.yaml holds for this project: every key typed, every key required."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .plumbing.config import DownloadSettings, ProjectSettings, ServeSettings, StrictModel


class DataSettings(DownloadSettings):
    dataset: Literal["fashion-mnist", "mnist", "cifar10", "folder"]
    # a mirror holding other files than torchvision's (recompressed, say): their checksums,
    # "md5:..."/"sha256:..."; MNIST and Fashion-MNIST: a mapping {file name: checksum}
    checksum: str | dict[str, str] | None
    # folder only: your images, one sub-folder per class (relative to the project, or absolute)
    source: str | None
    # where torchvision's files are kept (null: data/raw); the environment variable wins
    root: str | None
    # images are resized to this many pixels square (null: keep the dataset's own size)
    image_size: int | None = Field(ge=8)
    channels: Literal[1, 3]  # folder only: 1 grayscale, 3 colour (torchvision sets: their own)
    validation_size: float = Field(gt=0, lt=1)  # held out of training, for early stopping
    test_size: float = Field(gt=0, lt=1)  # folder only: the official test sets are used otherwise
    min_images_per_class: int = Field(ge=3)  # folder only: fewer is an error naming the class


class AugmentSettings(StrictModel):
    """Random changes to training images only (never to validation or test images)."""

    horizontal_flip: bool  # right for clothes and photos, wrong for digits
    crop_padding: int = Field(ge=0)  # random crops after padding by this many pixels
    rotation_degrees: float = Field(ge=0, le=180)


class ModelSettings(StrictModel):
    arch: Literal["cnn", "resnet18"]
    channels: list[int] = Field(min_length=1)  # cnn: one conv-BN-ReLU-pool block per entry
    dropout: float = Field(ge=0, lt=1)
    pretrained: bool  # resnet18: start from ImageNet weights (downloaded once by torchvision)


class TrainSettings(StrictModel):
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    learning_rate: float = Field(gt=0)  # the peak of the one-cycle schedule
    weight_decay: float = Field(ge=0)
    label_smoothing: float = Field(ge=0, lt=1)
    patience: int = Field(ge=1)  # stop after this many epochs without a better validation loss
    # DataLoader worker processes; auto: none on a CPU (measured fastest: the cores are
    # busy training), up to 8 with a GPU
    workers: Annotated[int, Field(ge=0)] | Literal["auto"]
    device: Literal["auto", "cpu", "cuda", "mps"]  # auto: CUDA, then Apple MPS, then CPU
    mixed_precision: bool  # float16 autocast, on CUDA only
    deterministic: bool  # bit-identical runs at some cost in speed
    max_train_images: int | None = Field(ge=1)  # null: all; a number: a quick subset
    resume: bool  # continue from models/checkpoint.pt (`train --resume` sets it)


class EvaluateSettings(StrictModel):
    top_k: int = Field(ge=1)  # top-k accuracy is reported when there are more classes than k
    batch_size: int = Field(ge=1)


class ImageServeSettings(ServeSettings):
    max_image_pixels: int = Field(ge=1)  # width x height of one uploaded image (413 above)


class Settings(ProjectSettings):
    serve: ImageServeSettings
    data: DataSettings
    augment: AugmentSettings
    model: ModelSettings
    train: TrainSettings
    evaluate: EvaluateSettings
