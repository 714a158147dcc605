"""Interactions in one tidy shape: data/processed/ratings.csv (user, item, rating, timestamp)
and items.csv (item, title, genres), from the official GroupLens zips or your own CSV."""

from __future__ import annotations

import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .plumbing.datameta import DataMeta, checksum
from .plumbing.download import DownloadError, download, resolve_url, user_file
from .plumbing.errors import DataError
from .plumbing.paths import Paths
from .settings import Settings

COLUMNS = ["user", "item", "rating", "timestamp"]
BASE = "https://files.grouplens.org/datasets/movielens"
ML100K_GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
]  # fmt: skip


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    checksum: str | None  # GroupLens publishes md5s; "latest" changes between releases
    citation: str


CITATION = (
    "F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and "
    "Context. ACM Transactions on Interactive Intelligent Systems 5, 4: 19:1-19:19."
)
SOURCES = {
    "ml-100k": Source(
        "MovieLens 100K", f"{BASE}/ml-100k.zip", "md5:0e33842e24a9c977be4e0107933c0723", CITATION
    ),
    "ml-1m": Source(
        "MovieLens 1M", f"{BASE}/ml-1m.zip", "md5:c4d9eecfca2ab87c1945afe126590906", CITATION
    ),
    "ml-latest-small": Source(
        "MovieLens latest small", f"{BASE}/ml-latest-small.zip", None, CITATION
    ),
}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _member(zf: zipfile.ZipFile, name: str) -> bytes:
    found = [m for m in zf.namelist() if m.endswith("/" + name) or m == name]
    if not found:
        raise DataError(f"the archive has no {name}: is it the right dataset?")
    return zf.read(found[0])


def read_ml100k(archive: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with zipfile.ZipFile(archive) as zf:
        ratings = pd.read_csv(io.BytesIO(_member(zf, "u.data")), sep="\t", names=COLUMNS)
        raw = pd.read_csv(
            io.BytesIO(_member(zf, "u.item")), sep="|", header=None, encoding="latin-1"
        )
    flags = raw.iloc[:, 5:24].to_numpy()
    genres = ["|".join(g for g, on in zip(ML100K_GENRES, row, strict=True) if on) for row in flags]
    return ratings, pd.DataFrame({"item": raw[0], "title": raw[1], "genres": genres})


def read_ml1m(archive: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with zipfile.ZipFile(archive) as zf:
        text = _member(zf, "ratings.dat").decode("latin-1")
        ratings = pd.read_csv(io.StringIO(text.replace("::", "\t")), sep="\t", names=COLUMNS)
        text = _member(zf, "movies.dat").decode("latin-1")
    rows = [line.split("::") for line in text.splitlines() if line.strip()]
    items = pd.DataFrame(rows, columns=["item", "title", "genres"]).astype({"item": int})
    return ratings, items


def read_ml_latest(archive: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with zipfile.ZipFile(archive) as zf:
        ratings = pd.read_csv(io.BytesIO(_member(zf, "ratings.csv")))
        movies = pd.read_csv(io.BytesIO(_member(zf, "movies.csv")))
    ratings.columns = COLUMNS
    return ratings, movies.rename(columns={"movieId": "item"})[["item", "title", "genres"]]


def read_interactions(location: str, config: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Your CSV: the configured columns (timestamp optional); items are named by their id."""
    columns = config.data.columns
    try:
        frame = pd.read_csv(location)
    except FileNotFoundError as exc:
        raise DataError(f"data.source file not found: {location}") from exc
    wanted = [columns.user, columns.item, columns.rating] + (
        [columns.timestamp] if columns.timestamp else []
    )
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataError(
            f"{location} has no column(s) {missing}; columns are {list(frame.columns)}",
            "set data.columns in configs/config.yaml",
        )
    ratings = frame[wanted].copy()
    ratings.columns = COLUMNS[: len(wanted)]
    if not columns.timestamp:
        ratings["timestamp"] = range(len(ratings))  # file order stands in for time
    items = pd.DataFrame({"item": sorted(ratings["item"].unique())})
    items["title"], items["genres"] = items["item"].astype(str), ""
    return ratings, items


def validate(ratings: pd.DataFrame, what: str) -> pd.DataFrame:
    ratings = ratings.dropna(subset=["user", "item", "rating"])
    if ratings.empty:
        raise DataError(f"{what} has no complete interactions")
    if not pd.api.types.is_numeric_dtype(ratings["rating"]):
        raise DataError(f"{what}: ratings must be numbers")
    if ratings["user"].nunique() < 2 or ratings["item"].nunique() < 2:
        raise DataError(f"{what} needs at least two users and two items")
    duplicated = ratings.duplicated(subset=["user", "item"], keep="last")
    if duplicated.any():
        _log(f"note: {int(duplicated.sum())} repeated user-item pairs: kept the last rating")
        ratings = ratings[~duplicated]
    return ratings.reset_index(drop=True)


def _official(config: Settings, paths: Paths) -> tuple[pd.DataFrame, pd.DataFrame, str, Path]:
    data = config.data
    if data.dataset == "csv":
        path = user_file(data.source, data, paths.root, "interactions.csv", "your interactions CSV")
        location = str(path)
        ratings, items = read_interactions(location, config)
        return ratings, items, f"your file ({data.source or location})", path
    source = SOURCES[data.dataset]
    url = resolve_url(source.url, data.url)
    _log(f"downloading {source.name} from {url}")
    archive = download(
        url,
        paths.raw / url.rstrip("/").rsplit("/", 1)[-1],
        data.checksum or source.checksum,
        retries=data.retries,
        timeout=data.timeout_seconds,
    )
    reader = {"ml-100k": read_ml100k, "ml-1m": read_ml1m, "ml-latest-small": read_ml_latest}
    try:
        ratings, items = reader[data.dataset](archive)
    except (zipfile.BadZipFile, DataError) as exc:
        archive.unlink(missing_ok=True)  # else the next run would trust the bad file
        raise DownloadError(f"{archive.name} is not the expected archive ({exc}); removed it",
                            "run `make data` again, or check data.url") from exc  # fmt: skip
    return ratings, items, source.name, archive


def prepare(config: Settings, paths: Paths, sample: bool = False) -> DataMeta:
    if sample:
        origin = paths.sample_dir / "ratings.csv"
        ratings = pd.read_csv(origin)
        items = pd.read_csv(paths.sample_dir / "items.csv", keep_default_na=False)
        name = "bundled sample"
    else:
        ratings, items, name, origin = _official(config, paths)
    ratings = validate(ratings, name)
    paths.processed.mkdir(parents=True, exist_ok=True)
    ratings.to_csv(paths.processed / "ratings.csv", index=False)
    items.to_csv(paths.processed / "items.csv", index=False)
    users, known = ratings["user"].nunique(), ratings["item"].nunique()
    _log(f"{len(ratings)} ratings by {users} users of {known} items ({name})")
    return DataMeta(
        name=name,
        rows=len(ratings),
        sample=sample,
        checksum=checksum([origin]),
        details={"users": int(users), "items": int(known)},
    )


def load(paths: Paths) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = paths.processed / "ratings.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make data` first")
    items = pd.read_csv(paths.processed / "items.csv", keep_default_na=False)
    return pd.read_csv(path), items
