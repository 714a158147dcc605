"""Regenerate the image classifier's bundled samples (templates/image-classifier/data/sample/).

    python scripts/make_image_samples.py [--fashion-mnist DIR]

- Fashion-MNIST (MIT licence, Zalando SE): a balanced subset of the real images, 30 training
  and 10 test images per class, read from the official IDX files in DIR
  (default ../shared/datasets/fashion-mnist); also 20 images of 4 classes as PNG files in
  class folders, the sample of the `folder` choice.
- MNIST: generated, not copied: digits drawn with the DejaVu Sans font (shipped with
  matplotlib, a permissive licence), randomly rotated, scaled, shifted and blurred.
- CIFAR-10: generated stand-ins with CIFAR-10's shape (32 x 32 colour, its 10 class names):
  each class is a coloured pattern; they are not photos and only show the pipeline works.
Deterministic: the same files every time.
"""

from __future__ import annotations

import argparse
import gzip
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "templates" / "image-classifier" / "data" / "sample"
FASHION = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
MNIST = [
    "0 - zero",
    "1 - one",
    "2 - two",
    "3 - three",
    "4 - four",
    "5 - five",
    "6 - six",
    "7 - seven",
    "8 - eight",
    "9 - nine",
]
CIFAR = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
TRAIN, TEST = 30, 10


def name_for(dataset: str) -> str:
    return "{% if image_dataset == '" + dataset + "' %}images.npz{% endif %}"


def save(dataset: str, classes: list[str], train: tuple, test: tuple) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        classes=np.array(classes),
        train_x=train[0],
        train_y=train[1],
        test_x=test[0],
        test_y=test[1],
    )
    (SAMPLE / name_for(dataset)).write_bytes(buffer.getvalue())


def idx(path: Path, offset: int) -> np.ndarray:
    return np.frombuffer(gzip.open(path).read(), np.uint8, offset=offset)


def balanced(labels: np.ndarray, each: int, rng: np.random.Generator) -> np.ndarray:
    return np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), each, replace=False) for c in range(10)]
    )


def fashion(folder: Path, rng: np.random.Generator) -> None:
    sets = {}
    for split, prefix, each in (("train", "train", TRAIN), ("test", "t10k", TEST)):
        images = idx(folder / f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1)
        labels = idx(folder / f"{prefix}-labels-idx1-ubyte.gz", 8).astype(np.int64)
        chosen = balanced(labels, each, rng)
        sets[split] = (images[chosen], labels[chosen])
    save("fashion-mnist", FASHION, sets["train"], sets["test"])
    images, labels = sets["train"]
    target = SAMPLE / "{% if image_dataset == 'folder' %}images{% endif %}"
    for c, name in ((1, "trouser"), (5, "sandal"), (7, "sneaker"), (8, "bag")):
        (target / name).mkdir(parents=True, exist_ok=True)
        for n, i in enumerate(np.flatnonzero(labels == c)[:20]):
            Image.fromarray(images[i, :, :, 0]).save(target / name / f"{n:03d}.png", optimize=True)


def digits(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    import matplotlib

    font_file = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    images, labels = [], []
    for n in range(count):
        digit = n % 10
        font = ImageFont.truetype(str(font_file), int(rng.integers(40, 56)))
        canvas = Image.new("L", (84, 84))
        draw = ImageDraw.Draw(canvas)
        draw.text(
            (42 + rng.integers(-6, 7), 42 + rng.integers(-6, 7)),
            str(digit),
            fill=255,
            font=font,
            anchor="mm",
            stroke_width=int(rng.integers(0, 3)),
            stroke_fill=255,
        )
        canvas = canvas.rotate(float(rng.uniform(-18, 18)), resample=Image.Resampling.BILINEAR)
        canvas = canvas.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 1.5))))
        images.append(np.asarray(canvas.resize((28, 28), Image.Resampling.LANCZOS))[..., None])
        labels.append(digit)
    return np.stack(images).astype(np.uint8), np.array(labels, dtype=np.int64)


def patterns(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    images, labels = [], []
    for n in range(count):
        c = n % 10
        hue = np.array([np.cos(c * 0.63), np.sin(c * 1.1), np.cos(c * 2.3 + 1)]) * 0.35 + 0.5
        angle = c * np.pi / 10 + rng.normal(0, 0.15)
        wave = np.sin(
            (xx * np.cos(angle) + yy * np.sin(angle)) * (4 + c % 4) * np.pi
            + rng.uniform(0, 2 * np.pi)
        )
        image = hue[None, None, :] * (0.75 + 0.25 * wave[..., None])
        blotches = np.kron(rng.normal(0, 0.08, (8, 8, 3)), np.ones((4, 4, 1)))  # compresses well
        image += blotches
        images.append((np.clip(image, 0, 1) * 31).astype(np.uint8) * 8)  # 32 levels
        labels.append(c)
    return np.stack(images), np.array(labels, dtype=np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fashion-mnist", type=Path, default=ROOT.parent / "shared" / "datasets" / "fashion-mnist"
    )
    args = parser.parse_args()
    SAMPLE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261122)
    fashion(args.fashion_mnist, rng)
    for dataset, make, classes in (("mnist", digits, MNIST), ("cifar10", patterns, CIFAR)):
        save(dataset, classes, make(rng, 10 * TRAIN), make(rng, 10 * TEST))
    for path in sorted(SAMPLE.rglob("*")):
        if path.is_file():
            print(path.relative_to(ROOT), path.stat().st_size)


if __name__ == "__main__":
    main()
