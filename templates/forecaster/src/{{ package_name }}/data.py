"""Series in one tidy long shape, data/processed/series.csv (unique_id, ds, y): from the
Monash archive's Tourism Monthly (.tsf in a zip) or your own CSV, checked before any model
sees them: dates, numbers, duplicates, gaps at the declared frequency and lengths."""

from __future__ import annotations

import io
import sys
import warnings
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .plumbing.datameta import DataMeta, checksum
from .plumbing.download import DownloadError, download, resolve_url, user_file
from .plumbing.errors import DataError
from .plumbing.paths import Paths
from .settings import DataSettings, Settings

COLUMNS = ["unique_id", "ds", "y"]
PROCESSED = "series.csv"
SAMPLE_FILE = "series.csv"


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    checksum: str
    member: str  # the .tsf file inside the zip
    citation: str


SOURCES = {
    "tourism-monthly": Source(
        name="Tourism Monthly (Monash archive)",
        url="https://zenodo.org/records/4656096/files/tourism_monthly_dataset.zip?download=1",
        checksum="sha256:6e434ad8a0ef6acb55ebee0e1d1ffe22707ea4e62c05e091326267f3a5b4a93c",
        member="tourism_monthly_dataset.tsf",
        citation=(
            "G. Athanasopoulos, R. J. Hyndman, H. Song and D. C. Wu (2011). The tourism "
            "forecasting competition. International Journal of Forecasting 27(3), 822-844; "
            "R. Godahewa et al. (2021). Monash Time Series Forecasting Archive. NeurIPS."
        ),
    ),
}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_tsf(text: str, freq: str) -> pd.DataFrame:
    """The Monash .tsf text format: `@attribute` lines, `@data`, then one series a line as
    `name:start_timestamp:v1,v2,...` ("?" is a missing value) → long format."""
    names: list[str] = []
    frames = []
    in_data = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if line.lower().startswith("@attribute"):
                names.append(line.split()[1])
            elif line.lower().startswith("@data"):
                in_data = True
            continue
        fields = line.split(":")
        if len(fields) != len(names) + 1:
            raise DataError(f"line {number} of the .tsf file has {len(fields)} fields")
        attributes = dict(zip(names, fields[:-1], strict=True))
        values = [np.nan if v == "?" else float(v) for v in fields[-1].split(",")]
        start = attributes.get("start_timestamp")
        first = datetime.strptime(start, "%Y-%m-%d %H-%M-%S") if start else datetime(2000, 1, 1)
        ds = pd.date_range(first, periods=len(values), freq=freq)
        name = attributes.get("series_name", f"T{len(frames) + 1}")
        frames.append(pd.DataFrame({"unique_id": name, "ds": ds, "y": values}))
    if not frames:
        raise DataError("the .tsf file holds no series (no @data section?)")
    return pd.concat(frames, ignore_index=True)


def read_archive(archive: Path, source: Source, freq: str) -> pd.DataFrame:
    with zipfile.ZipFile(archive) as zf:
        found = [m for m in zf.namelist() if m.endswith(".tsf")]
        if not found:
            raise DataError(f"the archive has no .tsf file (expected {source.member})")
        member = source.member if source.member in found else found[0]
        text = zf.read(member).decode("utf-8", errors="replace")
    return read_tsf(text, freq)


def read_csv(location: str | Path) -> pd.DataFrame:
    """Your CSV: columns unique_id, ds, y (others are ignored), values as written."""
    try:
        frame = pd.read_csv(location, dtype={"unique_id": str, "ds": str, "y": str})
    except FileNotFoundError as exc:
        raise DataError(f"data.source file not found: {location}") from exc
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise DataError(
            f"{location} has no column(s) {missing}; columns are {list(frame.columns)}",
            "the file must be in long format: unique_id, ds, y",
        )
    return frame[COLUMNS]


def _first_bad(mask: pd.Series, frame: pd.DataFrame, what: str, problem: str) -> None:
    """Raise for the first row where `mask` holds, naming the series and its file line."""
    if mask.any():
        index = mask[mask].index[0]
        uid, value = frame.at[index, "unique_id"], frame.at[index, what]
        raise DataError(
            f"series {uid!r}, row {index + 1} (line {index + 2} of the file): {what} is "
            f"{value!r}, {problem}"
        )


def needed(horizon: int, n_windows: int, seasons: list[int]) -> tuple[int, int]:
    """(points every series needs: the final test and as many to fit on; points a series
    needs to take part in the rolling-origin CV: its windows, the test, two seasons to fit)."""
    return 2 * horizon, (n_windows + 1) * horizon + max(2 * max(seasons), horizon)


def validate(
    frame: pd.DataFrame, data: DataSettings, n_windows: int, what: str = "the data"
) -> pd.DataFrame:
    """The series, sorted and typed, or a DataError naming the first problem's series and
    row: an unreadable date, a value that is not a number, a repeated timestamp, a gap at
    the declared frequency (filled only when data.fill_gaps says how), a series too short."""
    frame = frame.reset_index(drop=True).copy()
    frame["unique_id"] = frame["unique_id"].astype(str)
    _first_bad(frame["unique_id"].isin(["", "nan"]), frame, "unique_id", "an empty series id")
    if frame["ds"].astype(str).str.fullmatch(r"-?[0-9]+").all():
        raise DataError(
            "ds holds whole numbers (a time index), not dates",
            "write each point's date or timestamp (2020-01-01, 2020-01-01 13:00) in ds",
        )
    with warnings.catch_warnings():  # "could not infer format": the fallback below is meant
        warnings.simplefilter("ignore", UserWarning)
        dates = pd.to_datetime(frame["ds"], errors="coerce")  # one format: fast
        if dates.isna().any():  # several formats, or a bad value: each date read on its own
            dates = pd.to_datetime(frame["ds"], errors="coerce", format="mixed")
    _first_bad(dates.isna(), frame, "ds", "not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM)")
    values = pd.to_numeric(frame["y"], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.fillna(0.0))
    _first_bad(bad, frame, "y", "not a number: every y must be a number")
    frame["ds"], frame["y"] = dates, values.astype(float)
    repeated = frame.duplicated(subset=["unique_id", "ds"], keep="first")
    if repeated.any():
        index = repeated[repeated].index[0]
        uid, ds = frame.at[index, "unique_id"], frame.at[index, "ds"]
        first = frame[(frame["unique_id"] == uid) & (frame["ds"] == ds)].index[0]
        raise DataError(
            f"series {uid!r} has two values for {ds} (rows {first + 1} and {index + 1})",
            "keep one value per series and timestamp (sum or average the duplicates)",
        )
    frame = frame.sort_values(["unique_id", "ds"], kind="stable")
    parts = [_regular(group, str(uid), data) for uid, group in frame.groupby("unique_id")]
    frame = pd.concat(parts, ignore_index=True)
    lengths = frame.groupby("unique_id").size()
    shortest = lengths.idxmin()
    least, cv_needs = needed(data.horizon, n_windows, data.season_length)
    if data.horizon >= lengths.max():
        raise DataError(
            f"data.horizon {data.horizon} is longer than the data: the longest series has "
            f"{lengths.max()} points",
            "set data.horizon lower",
        )
    if lengths[shortest] < least:
        raise DataError(
            f"series {shortest!r} has {lengths[shortest]} points, fewer than 2 × horizon "
            f"({least}): the final test takes the last {data.horizon} and the models need as "
            f"many before them (rolling-origin CV: {cv_needs})",
            "drop the short series, or set data.horizon lower",
        )
    if not (lengths >= cv_needs).any():
        raise DataError(
            f"no series has the {cv_needs} points the rolling-origin CV needs "
            f"({n_windows} windows + the test, each {data.horizon} long, and "
            f"{max(2 * max(data.season_length), data.horizon)} to fit on)",
            "set cv.n_windows or data.horizon lower",
        )
    return frame


FILLS = "data.fill_gaps: zero | interpolate | ffill"


def _regular(group: pd.DataFrame, uid: str, data: DataSettings) -> pd.DataFrame:
    """The series on its frequency's grid, gaps filled as data.fill_gaps says (or refused)."""
    grid = pd.date_range(group["ds"].iloc[0], group["ds"].iloc[-1], freq=data.freq)
    if len(grid) == len(group) and (grid.values == group["ds"].values).all():
        return group
    off = ~group["ds"].isin(grid)
    if off.any():
        index = off[off].index[0]
        raise DataError(
            f"series {uid!r}, row {index + 1}: {group.at[index, 'ds']} is not on the "
            f"{data.freq} grid that starts at {grid[0]}",
            "check data.freq (e.g. MS for month starts, M for month ends, W-SUN for weeks)",
        )
    missing = grid[~grid.isin(group["ds"])]
    if data.fill_gaps is None:
        before = group[group["ds"] < missing[0]].index[-1]
        raise DataError(
            f"series {uid!r} has a gap at {data.freq}: no value for {missing[0]} (after row "
            f"{before + 1}; {len(missing)} missing in all)",
            f"add the missing rows to the file, or set {FILLS}",
        )
    filled = group.set_index("ds").reindex(grid)
    filled["unique_id"] = uid
    if data.fill_gaps == "zero":
        filled["y"] = filled["y"].fillna(0.0)
    elif data.fill_gaps == "interpolate":
        filled["y"] = filled["y"].interpolate()
    else:
        filled["y"] = filled["y"].ffill()
    return filled.rename_axis("ds").reset_index()[COLUMNS]


def _official(config: Settings, paths: Paths) -> tuple[pd.DataFrame, str, Path]:
    data = config.data
    if data.dataset == "csv":
        path = user_file(data.source, data, paths.root, "series.csv", "your series CSV")
        return read_csv(path), f"your file ({data.source or path})", path
    source = SOURCES[data.dataset]
    url = resolve_url(source.url, data.url)
    _log(f"downloading {source.name} from {url}")
    archive = download(
        url,
        paths.raw / (source.member.removesuffix(".tsf") + ".zip"),
        data.checksum or source.checksum,
        retries=data.retries,
        timeout=data.timeout_seconds,
    )
    try:
        frame = read_archive(archive, source, data.freq)
    except (zipfile.BadZipFile, DataError) as exc:
        archive.unlink(missing_ok=True)  # else the next run would trust the bad file
        raise DownloadError(
            f"{archive.name} is not the expected archive ({exc}); removed it",
            "run `make data` again, or check data.url",
        ) from exc
    return frame, source.name, archive


def prepare(config: Settings, paths: Paths, sample: bool = False) -> DataMeta:
    if sample:
        origin = paths.sample_dir / SAMPLE_FILE
        frame, name = read_csv(origin), "bundled sample"
    else:
        frame, name, origin = _official(config, paths)
    series = validate(frame, config.data, config.cv.n_windows, name)
    paths.processed.mkdir(parents=True, exist_ok=True)
    series.to_csv(paths.processed / PROCESSED, index=False)
    count = series["unique_id"].nunique()
    _log(f"{count} series, {len(series)} observations at {config.data.freq} ({name})")
    return DataMeta(
        name=name,
        rows=len(series),
        sample=sample,
        checksum=checksum([origin]),
        details={"series": int(count), "freq": config.data.freq, "horizon": config.data.horizon},
    )


def load(paths: Paths) -> pd.DataFrame:
    """data/processed/series.csv, typed: unique_id (text), ds (datetime), y (float)."""
    path = paths.processed / PROCESSED
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make data` first")
    frame = pd.read_csv(path, dtype={"unique_id": str}, parse_dates=["ds"])
    return frame.astype({"y": float})


def from_text(text: str) -> pd.DataFrame:
    """A CSV given as text (tests, the notebook)."""
    return read_csv(io.StringIO(text))
