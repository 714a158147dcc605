"""forecaster's series: a generated monthly retail panel in long format (unique_id, ds, y):
stores x product lines with a level, a trend, a yearly seasonal pattern, promotion months
that lift sales, noise, and a few intermittent series (slow movers: many zero months). The
bundled sample (scripts/make_forecaster_sample.py) and the grader's fresh series
(mlscaffold.cohort.fresh) are both made here, so they share one shape: monthly, season 12,
long enough for a 24-month horizon with three rolling-origin windows before the final test.
Nothing here is real data. Standard library only.
"""

from __future__ import annotations

import csv
import io
import math
import random

HEADER = ["unique_id", "ds", "y"]
BUNDLED_SEED = 2031  # the bundled sample's seed
SERIES = 16  # series in the panel, of which INTERMITTENT are slow movers
INTERMITTENT = 2
MONTHS = 144  # 12 years: 24-month horizon x (3 CV windows + the final test) + 4 years to fit
START = (2013, 1)  # the first month (ds is the month's first day)
STORES = ["north", "south", "east", "west"]
LINES = ["bakery", "dairy", "frozen", "produce", "household", "garden"]


def _month(index: int) -> str:
    year, month = divmod(START[0] * 12 + START[1] - 1 + index, 12)
    return f"{year:04d}-{month + 1:02d}-01"


def _seasonal(rng: random.Random) -> list[float]:
    """A yearly multiplicative profile (mean 1): one or two peaks, as retail lines have."""
    peak, second = rng.randrange(12), rng.randrange(12)
    depth, depth2 = rng.uniform(0.15, 0.45), rng.uniform(0.0, 0.2)
    raw = [
        1
        + depth * math.cos(2 * math.pi * (m - peak) / 12)
        + depth2 * math.cos(4 * math.pi * (m - second) / 12)
        for m in range(12)
    ]
    mean = sum(raw) / 12
    return [value / mean for value in raw]


def _regular(rng: random.Random, months: int) -> list[float]:
    level = rng.lognormvariate(math.log(800), 0.8)
    growth = rng.uniform(-0.003, 0.012)  # per month
    profile = _seasonal(rng)
    promo_rate, lift = rng.uniform(0.04, 0.12), rng.uniform(1.15, 1.6)
    noise = rng.uniform(0.04, 0.12)
    values, state = [], 0.0
    for t in range(months):
        state = 0.6 * state + rng.gauss(0, noise)  # autocorrelated noise
        promo = lift if rng.random() < promo_rate else 1.0
        value = level * math.exp(growth * t) * profile[t % 12] * promo * math.exp(state)
        values.append(round(max(value, 0.0), 1))
    return values


def _intermittent(rng: random.Random, months: int) -> list[float]:
    """Slow movers: a sale in about a third of the months, of a few units."""
    share, size = rng.uniform(0.2, 0.45), rng.uniform(2.0, 8.0)
    profile = _seasonal(rng)
    values = []
    for t in range(months):
        if rng.random() < share * profile[t % 12]:
            values.append(float(max(1, round(rng.expovariate(1 / size)))))
        else:
            values.append(0.0)
    return values


def make(seed: int | str, series: int = SERIES, months: int = MONTHS) -> list[list[object]]:
    """Rows [unique_id, ds, y], series by series and month by month; the last
    `INTERMITTENT` series are the slow movers."""
    rng = random.Random(seed)
    names = [f"{store}_{line}" for store in STORES for line in LINES]
    rng.shuffle(names)
    rows: list[list[object]] = []
    for number in range(series):
        name = names[number % len(names)] + ("" if number < len(names) else f"_{number}")
        slow = number >= series - INTERMITTENT
        values = _intermittent(rng, months) if slow else _regular(rng, months)
        rows += [[name, _month(t), value] for t, value in enumerate(values)]
    return rows


def bundled() -> list[list[object]]:
    """The bundled sample, as the template holds it."""
    return make(BUNDLED_SEED)


def csv_text(rows: list[list[object]]) -> str:
    """The file: header unique_id,ds,y, one line per observation (as csv writes it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue()
