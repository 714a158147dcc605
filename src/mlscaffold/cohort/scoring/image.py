"""image-classifier: a stratified quarter of the labelled images held out and sent as
anonymous image files, classified by the project's saved network through its `predict`."""

from __future__ import annotations

import shutil
import struct
import zipfile
from pathlib import Path
from typing import Any

from mlscaffold.cohort.scoring import arrays, base

ARRAYS = "images.npz"  # torchvision data sets: classes, train_x/_y, test_x/_y (uint8 N,H,W,C)
FOLDER = "images"  # your own images: one sub-folder per class
SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}  # the kind's
# what a damaged or foreign .npz raises while it is read (a zip, .npy headers, arrays)
UNREADABLE = (zipfile.BadZipFile, ValueError, SyntaxError, struct.error, IndexError, KeyError)
TOP_K = 5  # the kind's evaluate.top_k
NAMES = {  # the kind's reports/metrics.json names
    "accuracy": "accuracy",
    "precision": "macro_precision",
    "recall": "macro_recall",
    "f1": "macro_f1",
    "top_k": f"top{TOP_K}_accuracy",
}

DRIVER_BODY = '''
def predict(root, inputs, paths):
    """Every class's probability per image file, from the project's `predict` on CPU."""
    module = project("predict")
    network, saved = module.load_model(paths)
    classes = [str(name) for name in saved["classes"]]
    files = module.image_files([str(inputs / "images")])
    found = {}
    for row in module.predict(network, saved, files, len(classes)):
        name = Path(row["file"]).name
        if "error" in row:
            raise ValueError(name + ": " + str(row["error"]))
        probability = {str(item["label"]): float(item["probability"]) for item in row["labels"]}
        found[name] = [probability[c] for c in classes]
    return {"classes": classes, "probabilities": found}
'''


def _images(folder: Path) -> list[tuple[Path, str]]:
    """(file, class) as the kind's scan_folder finds them: sub-folders are classes, hidden
    files and non-image suffixes are skipped."""
    found = []
    for class_dir in sorted(p for p in folder.iterdir() if p.is_dir() and p.name[0] != "."):
        for path in sorted(class_dir.rglob("*")):
            if path.is_file() and path.suffix.lower() in SUFFIXES and path.name[0] != ".":
                found.append((path, class_dir.name))
    return found


def _has_images(folder: Path) -> bool:
    """Whether `_images` would find any: stops at the first."""
    if not folder.is_dir():
        return False
    for class_dir in folder.iterdir():
        if class_dir.is_dir() and class_dir.name[0] != ".":
            for path in class_dir.rglob("*"):
                if path.is_file() and path.suffix.lower() in SUFFIXES and path.name[0] != ".":
                    return True
    return False


class ImageAdapter:
    """images.npz: train and test pooled, a quarter held out, the rest split again into the
    sample's train and test; folders: a quarter of each class's files held out."""

    kind = "image-classifier"

    def required(self, reference: Path, answers: dict[str, Any]) -> list[base.Need]:
        """images.npz or class folders under images/, whichever the project's pipeline reads
        (its data/sample/ holds that one; the answers say where it holds neither)."""
        sample = reference / "data" / "sample"
        arrays_need = base.file_need(ARRAYS)
        folder_need = base.Need(
            f"{FOLDER}/ (one sub-folder of images per class)",
            lambda folder: _has_images(folder / FOLDER),
        )
        if (sample / ARRAYS).is_file():
            return [arrays_need]
        if (sample / FOLDER).is_dir():
            return [folder_need]
        dataset = answers.get("image_dataset")
        if dataset == "folder":
            return [folder_need]
        if dataset:
            return [arrays_need]
        either = base.Need(
            f"{ARRAYS} or {folder_need.name}",
            lambda folder: arrays_need.found(folder) or folder_need.found(folder),
        )
        return [either]

    def prepare(
        self, source: Path, sample: Path, inputs: Path, answers: dict[str, Any], seed: int = 0
    ) -> base.Holdout:
        (inputs / FOLDER).mkdir(parents=True, exist_ok=True)
        if (source / ARRAYS).is_file():
            return self._arrays(source / ARRAYS, sample, inputs / FOLDER, seed)
        if (source / FOLDER).is_dir():
            return self._folder(source / FOLDER, sample, inputs / FOLDER, seed)
        raise base.PrepareError(f"{source} holds neither {ARRAYS} nor a folder {FOLDER}/")

    def _arrays(self, path: Path, sample: Path, inputs: Path, seed: int) -> base.Holdout:
        try:
            stored = arrays.read_npz(path)
        except UNREADABLE as exc:
            raise base.PrepareError(f"{path}: not an .npz archive numpy wrote ({exc})") from None
        try:
            classes = [base.canonical(name) for name in stored["classes"].strings()]
            images, labels = stored["train_x"], stored["train_y"].integers()
            if "test_x" in stored:
                test = stored["test_x"]
                images = arrays.Array(
                    images.descr, (images.shape[0] + test.shape[0], *images.shape[1:]),
                    images.data + test.data,
                )  # fmt: skip
                labels += stored["test_y"].integers()
        except (KeyError, ValueError, IndexError, TypeError, struct.error) as exc:
            raise base.PrepareError(f"{path}: not the kind's layout ({exc})") from None
        if images.descr != "|u1" or len(images.shape) not in (3, 4):
            raise base.PrepareError(f"{path}: images must be uint8 (N, H, W[, C])")
        height, width = images.shape[1], images.shape[2]
        channels = images.shape[3] if len(images.shape) == 4 else 1
        truth = [str(label) for label in labels]
        held = base.stratified(truth, seed)
        rest = [i for i in range(len(truth)) if i not in held]
        inner = base.stratified([truth[i] for i in rest], seed + 2)  # the sample's own test split
        train = [i for n, i in enumerate(rest) if n not in inner]
        test = [i for n, i in enumerate(rest) if n in inner]
        descr = stored["train_y"].descr
        arrays.write_npz(
            sample / ARRAYS,
            {
                "classes": stored["classes"],
                "train_x": images.rows(train),
                "train_y": arrays.integer_array([labels[i] for i in train], descr),
                "test_x": images.rows(test),
                "test_y": arrays.integer_array([labels[i] for i in test], descr),
            },
        )
        hidden = {}
        for number, i in enumerate(base.shuffled(held, seed)):
            name = f"{number:05d}.png"
            pixels = images.rows([i]).data
            (inputs / name).write_bytes(arrays.png_bytes(pixels, height, width, channels))
            hidden[name] = classes[labels[i]]
        kept = [classes[labels[i]] for i in rest]
        return base.Holdout(
            hidden, {"classes": classes, "counts": [kept.count(c) for c in classes]}
        )

    def _folder(self, folder: Path, sample: Path, inputs: Path, seed: int) -> base.Holdout:
        files = _images(folder)
        truth = [base.canonical(label) for _, label in files]
        held = base.stratified(truth, seed)
        if not held:
            raise base.PrepareError(f"{folder} has too few images to hold any out")
        for index, (path, _) in enumerate(files):
            if index not in held:
                target = sample / FOLDER / path.relative_to(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        hidden = {}
        for number, index in enumerate(base.shuffled(held, seed)):
            path = files[index][0]
            name = f"{number:05d}{path.suffix.lower()}"
            shutil.copyfile(path, inputs / name)
            hidden[name] = truth[index]
        classes = sorted(set(truth))
        kept = [truth[i] for i in range(len(files)) if i not in held]
        return base.Holdout(
            hidden, {"classes": classes, "counts": [kept.count(c) for c in classes]}
        )

    def driver(self, package: str) -> str:
        return base.driver_source(self.kind, package, DRIVER_BODY)

    def score(self, predictions: Any, holdout: base.Holdout) -> dict[str, Any]:
        return base.classifier_scores(predictions, holdout, NAMES, top_k=TOP_K)
