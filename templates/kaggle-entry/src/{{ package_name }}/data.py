"""The competition's files: found in data/raw/ or fetched (a mirror, else the Kaggle CLI),
checked against the competition's schema, written to data/processed/."""

from __future__ import annotations

import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import kaggle_cli
from .plumbing.datameta import DataMeta, checksum, write
from .plumbing.download import download, resolve_url
from .plumbing.errors import DataError
from .plumbing.paths import Paths
from .settings import CompetitionSettings, Settings

FILES = ("train.csv", "test.csv")
SUBMISSION_FILE = "sample_submission.csv"


@dataclass
class Competition:
    train: pd.DataFrame
    test: pd.DataFrame
    sample_submission: pd.DataFrame | None
    files: list[Path]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _extract_archives(folder: Path) -> None:
    for archive in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                name = Path(member).name
                if name.endswith(".csv") and not (folder / name).exists():
                    with zf.open(member) as src, (folder / name).open("wb") as dst:
                        shutil.copyfileobj(src, dst)


def locate(paths: Paths) -> Path | None:
    """data/raw/ when it holds train.csv and test.csv (a zip from Kaggle is unpacked first)."""
    if paths.raw.is_dir():
        _extract_archives(paths.raw)
        if all((paths.raw / name).is_file() for name in FILES):
            return paths.raw
    return None


def fetch(config: Settings, paths: Paths) -> Path:
    """The real files: already in data/raw/, or from a mirror, or through the Kaggle CLI."""
    found = locate(paths)
    if found is not None:
        _log(f"using the competition files in {found.relative_to(paths.root)}/")
        return found
    slug = config.competition.slug
    mirror = resolve_url("", config.data.url)
    if mirror:
        _log(f"downloading {slug} from {mirror}")
        download(
            mirror,
            paths.raw / f"{slug}.zip",
            config.data.checksum,
            retries=config.data.retries,
            timeout=config.data.timeout_seconds,
        )
    else:
        _log(f"downloading {slug} with the Kaggle CLI")
        kaggle_cli.download(slug, paths.raw, timeout=max(60.0, config.data.timeout_seconds * 10))
    found = locate(paths)
    if found is None:
        raise DataError(
            f"the download did not contain {' and '.join(FILES)}",
            "check competition.slug, or put the files in data/raw/ yourself",
        )
    return found


def check_schema(train: pd.DataFrame, test: pd.DataFrame, comp: CompetitionSettings) -> None:
    """Refuse files that do not fit the competition's answers, naming the column."""
    for frame, name in ((train, "train.csv"), (test, "test.csv")):
        if comp.id not in frame.columns:
            raise DataError(f"{name} has no id column {comp.id!r}", "set competition.id")
        duplicated = frame[comp.id][frame[comp.id].duplicated()]
        if not duplicated.empty:
            raise DataError(f"{name}: id column {comp.id!r} repeats {duplicated.iloc[0]!r}")
    if comp.target not in train.columns:
        raise DataError(f"train.csv has no target column {comp.target!r}", "set competition.target")
    if comp.target in test.columns:
        raise DataError(f"test.csv holds the target column {comp.target!r}: is it the right file?")
    features = set(train.columns) - {comp.target}
    for column in sorted(features ^ set(test.columns)):
        where = "train.csv" if column in features else "test.csv"
        raise DataError(f"column {column!r} is only in {where}: train and test must share features")
    if train[comp.target].isna().any():
        raise DataError(f"train.csv: target column {comp.target!r} has empty values")


def schema(features: pd.DataFrame) -> dict[str, str]:
    """Each training feature column's type, "number", "boolean" or "text": saved with the
    model, so `serve` checks request rows against what the model was trained on."""
    found = {}
    for column in features.columns:
        values = features[column]
        if pd.api.types.is_bool_dtype(values):
            found[str(column)] = "boolean"
        elif pd.api.types.is_numeric_dtype(values):
            found[str(column)] = "number"
        else:
            found[str(column)] = "text"
    return found


def read(folder: Path, comp: CompetitionSettings) -> Competition:
    train = pd.read_csv(folder / "train.csv")
    test = pd.read_csv(folder / "test.csv")
    check_schema(train, test, comp)
    submission_path = submission_file(folder)
    sample = pd.read_csv(submission_path) if submission_path else None
    files = [folder / name for name in FILES] + ([submission_path] if submission_path else [])
    return Competition(train, test, sample, files)


def submission_file(folder: Path) -> Path | None:
    """sample_submission.csv, or the competition's own name for it (Titanic's is
    gender_submission.csv)."""
    if (folder / SUBMISSION_FILE).is_file():
        return folder / SUBMISSION_FILE
    return next(iter(sorted(folder.glob("*submission*.csv"))), None)


def prepare(config: Settings, paths: Paths, sample: bool = False) -> DataMeta:
    folder = paths.sample_dir if sample else fetch(config, paths)
    competition = read(folder, config.competition)
    paths.processed.mkdir(parents=True, exist_ok=True)
    for path in competition.files:
        name = SUBMISSION_FILE if path not in competition.files[: len(FILES)] else path.name
        shutil.copyfile(path, paths.processed / name)
    name = "bundled sample" if sample else f"Kaggle competition {config.competition.slug}"
    _log(f"{len(competition.train)} training rows, {len(competition.test)} test rows ({name})")
    meta = DataMeta(
        name=name,
        rows=len(competition.train) + len(competition.test),
        sample=sample,
        checksum=checksum(competition.files),
        details={"train_rows": len(competition.train), "test_rows": len(competition.test)},
    )
    write(paths, meta)  # train logs which data each experiment ran on; submit refuses the sample
    return meta


def load(paths: Paths, comp: CompetitionSettings) -> Competition:
    if not (paths.processed / "train.csv").is_file():
        raise FileNotFoundError(f"{paths.processed / 'train.csv'} not found: run `make data` first")
    return read(paths.processed, comp)
