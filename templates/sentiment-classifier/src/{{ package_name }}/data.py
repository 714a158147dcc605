"""Get a dataset into one tidy format: data/processed/{train,test}.csv with columns text, label.

Each official download is verified (checksum) before it is read; readers take the archive
as published, so what `make data` does can be checked against the dataset's own docs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from .plumbing.datameta import DataMeta, checksum
from .plumbing.download import SAMPLE_HINT, DownloadError, download, resolve_url, user_file
from .plumbing.errors import DataError
from .plumbing.paths import Paths
from .settings import Settings

SAMPLE_FILE = "reviews.csv"

BINARY_LABELS = {0: "negative", 1: "positive"}


@dataclass(frozen=True)
class Source:
    """An official download: where it is, how to check it, and how to cite it."""

    name: str
    url: str
    filename: str
    checksum: str | None
    licence: str
    citation: str
    size: int | None = None  # bytes, where the publisher's size is known


SOURCES = {
    "imdb": Source(
        name="IMDB Large Movie Review Dataset v1.0",
        url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        filename="aclImdb_v1.tar.gz",
        checksum="sha256:c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
        licence="research use; cite Maas et al. (2011)",
        citation="Maas et al., Learning Word Vectors for Sentiment Analysis, ACL 2011",
        size=84_125_825,
    ),
    "sst2": Source(
        name="SST-2 (GLUE)",
        url="https://dl.fbaipublicfiles.com/glue/data/SST-2.zip",
        filename="SST-2.zip",
        checksum="md5:9f81648d4199384278b86e315dac217c",
        licence="research use; cite Socher et al. (2013) and Wang et al. (2018)",
        citation="Socher et al., Recursive Deep Models for Semantic Compositionality, EMNLP 2013",
    ),
    "uci": Source(
        name="UCI Sentiment Labelled Sentences",
        url="https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip",
        filename="sentiment_labelled_sentences.zip",
        checksum=None,  # the archive is not checksummed upstream: its members are (below)
        licence="CC BY 4.0 (UCI Machine Learning Repository); cite Kotzias et al. (2015)",
        citation="Kotzias et al., From Group to Individual Labels using Deep Features, KDD 2015",
    ),
}

UCI_MEMBERS = {
    "yelp": ("sentiment labelled sentences/yelp_labelled.txt", "3a7fe2c38dc373d2ca8e687d6226a82e"),
    "amazon": (
        "sentiment labelled sentences/amazon_cells_labelled.txt",
        "f737b1e64487b2d2518fcefdb0257e63",
    ),
    "imdb": ("sentiment labelled sentences/imdb_labelled.txt", "ccea809cf06938e64b783737778f5ca0"),
}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- validation and splitting ---------------------------------------------------------


def validate(frame: pd.DataFrame, what: str = "data") -> pd.DataFrame:
    """Keep rows with a text and a label; refuse data a classifier cannot learn from."""
    missing = {"text", "label"} - set(frame.columns)
    if missing:
        raise DataError(f"{what} lacks column(s) {sorted(missing)}; has {list(frame.columns)}")
    frame = frame[["text", "label"]].dropna()
    frame = frame.assign(
        text=frame["text"].astype(str), label=frame["label"].astype(str).str.strip()
    )
    frame = frame[frame["text"].str.strip().astype(bool) & frame["label"].astype(bool)]
    if frame.empty:
        raise DataError(f"{what} has no rows with both a text and a label")
    counts = frame["label"].value_counts()
    if len(counts) < 2:
        raise DataError(f"{what} has a single class ({counts.index[0]!r}): nothing to classify")
    if counts.min() < 2:
        raise DataError(f"{what}: class {counts.idxmin()!r} has one example; need at least 2")
    return frame.reset_index(drop=True)


def split(frame: pd.DataFrame, test_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified, seeded split: the same config always gives the same test set."""
    train, test = train_test_split(
        frame, test_size=test_size, random_state=seed, stratify=frame["label"]
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


# ---- readers for the official layouts -------------------------------------------------


def read_imdb(archive: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """aclImdb/{train,test}/{pos,neg}/*.txt inside the tarball (the unlabelled part is skipped)."""
    rows: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}
    with tarfile.open(archive, mode="r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if len(parts) != 4 or not member.isfile() or not parts[3].endswith(".txt"):
                continue
            _, split_name, polarity, _ = parts
            if split_name in rows and polarity in ("pos", "neg"):
                handle = tar.extractfile(member)
                if handle is not None:
                    text = handle.read().decode("utf-8", errors="replace")
                    rows[split_name].append((text, "positive" if polarity == "pos" else "negative"))
    return tuple(  # type: ignore[return-value]
        pd.DataFrame(rows[name], columns=["text", "label"]) for name in ("train", "test")
    )


def _read_tsv(handle: io.BufferedIOBase, header: bool) -> pd.DataFrame:
    # QUOTE_NONE: these files hold unbalanced quotes; default quoting drops rows silently.
    frame = pd.read_csv(
        handle,
        sep="\t",
        header=0 if header else None,
        quoting=csv.QUOTE_NONE,
        encoding="utf-8",
        dtype=str,
    )
    if not header:
        frame.columns = ["sentence", "label"]
    return frame


def _binary(frame: pd.DataFrame) -> pd.DataFrame:
    labels = frame["label"].astype(int).map(BINARY_LABELS)
    return pd.DataFrame({"text": frame["sentence"].str.strip(), "label": labels})


def read_sst2(archive: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SST-2/train.tsv and SST-2/dev.tsv (GLUE hides the test labels, so dev is the test set)."""
    with zipfile.ZipFile(archive) as zf:
        with zf.open("SST-2/train.tsv") as fh:
            train = _binary(_read_tsv(fh, header=True))
        with zf.open("SST-2/dev.tsv") as fh:
            test = _binary(_read_tsv(fh, header=True))
    return train, test


def read_uci(archive: Path, source: str, verify: bool) -> pd.DataFrame:
    """One of the three `<source>_labelled.txt` files: sentence<TAB>label, no header."""
    if source not in UCI_MEMBERS:
        raise DataError(f"data.uci_source must be one of {sorted(UCI_MEMBERS)}, got {source!r}")
    member, md5 = UCI_MEMBERS[source]
    with zipfile.ZipFile(archive) as zf:
        payload = zf.read(member)
    if verify and hashlib.md5(payload).hexdigest() != md5:
        raise DownloadError(f"checksum mismatch for {member} in {archive.name}: corrupt download")
    return _binary(_read_tsv(io.BytesIO(payload), header=False))  # type: ignore[arg-type]


def read_table(location: str, text_column: str, label_column: str) -> pd.DataFrame:
    """A user's CSV or TSV (by extension), from a path or an http(s) URL."""
    sep = "\t" if location.lower().endswith((".tsv", ".tab", ".tsv.gz")) else ","
    try:
        frame = pd.read_csv(location, sep=sep, dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise DataError(f"data.source file not found: {location}", SAMPLE_HINT) from exc
    missing = [c for c in (text_column, label_column) if c not in frame.columns]
    if missing:
        raise DataError(
            f"{location} has no column(s) {missing}; columns are {list(frame.columns)} "
            "(set data.text_column / data.label_column in configs/config.yaml)"
        )
    return frame.rename(columns={text_column: "text", label_column: "label"})


def sample_file(paths: Paths) -> Path:
    return paths.sample_dir / SAMPLE_FILE


def read_sample(paths: Paths) -> pd.DataFrame:
    return pd.read_csv(sample_file(paths), dtype=str, keep_default_na=False)


# ---- the `data` step ------------------------------------------------------------------


def _official(
    config: Settings, paths: Paths
) -> tuple[pd.DataFrame, pd.DataFrame | None, str, Path]:
    """The real dataset: (train or all rows, official test split or None, name, file read)."""
    data = config.data
    if data.dataset == "csv":
        path = user_file(data.source, data, paths.root, "dataset.csv", "your CSV/TSV file")
        location = str(path)
        frame = read_table(location, data.text_column, data.label_column)
        return frame, None, f"your file ({data.source or location})", path
    source = SOURCES[data.dataset]
    url = resolve_url(source.url, data.url)
    checksum_wanted = data.checksum or source.checksum
    _log(f"downloading {source.name} from {url}")
    archive = download(
        url,
        paths.raw / source.filename,
        checksum_wanted,
        retries=data.retries,
        timeout=data.timeout_seconds,
    )
    actual = archive.stat().st_size
    if source.size and not data.checksum and actual != source.size:
        archive.unlink()
        raise DownloadError(
            f"{archive.name} is {actual} bytes, expected {source.size}: removed",
            "run `make data` again",
        )
    _log(f"reading {archive.name}")
    if data.dataset == "imdb":
        train, test = read_imdb(archive)
        return train, test, source.name, archive
    if data.dataset == "sst2":
        train, test = read_sst2(archive)
        return train, test, source.name, archive
    # An archive checksum from the config replaces the per-file ones (a different file).
    try:
        frame = read_uci(archive, data.uci_source, verify=data.checksum is None)
    except (DownloadError, zipfile.BadZipFile, KeyError) as exc:
        archive.unlink(missing_ok=True)  # else the next run would trust the bad file
        raise DownloadError(
            f"{archive.name} is not the expected archive ({exc}); removed it",
            "run `make data` again, or check data.url",
        ) from exc
    return frame, None, f"{source.name} ({data.uci_source})", archive


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)


def prepare(config: Settings, paths: Paths, sample: bool = False) -> DataMeta:
    """Download (or, when asked, take the sample), validate, split, write data/processed/."""
    test: pd.DataFrame | None
    if sample:
        frame, test, name, origin = read_sample(paths), None, "bundled sample", sample_file(paths)
    else:
        frame, test, name, origin = _official(config, paths)
    frame = validate(frame, name)
    if test is None:
        train, test = split(frame, config.data.test_size, config.seed)
    else:
        train, test = frame, validate(test, f"{name} test split")
    if config.data.max_train_rows and len(train) > config.data.max_train_rows:
        train = train.sample(n=config.data.max_train_rows, random_state=config.seed)
    paths.processed.mkdir(parents=True, exist_ok=True)
    _write_csv(train, paths.processed / "train.csv")
    _write_csv(test, paths.processed / "test.csv")
    classes = sorted(train["label"].unique().tolist())
    _log(f"wrote {len(train)} train / {len(test)} test rows ({name}); classes: {classes}")
    return DataMeta(
        name=name,
        rows=len(train) + len(test),
        sample=sample,
        checksum=checksum([origin]),
        details={"train_rows": len(train), "test_rows": len(test), "classes": classes},
    )


def load_split(paths: Paths, name: str) -> pd.DataFrame:
    path = paths.processed / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make data` first")
    return validate(pd.read_csv(path, dtype=str, keep_default_na=False), str(path))
