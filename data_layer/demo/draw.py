"""Random draws and time helpers the demo's generators share: rhythms, arrivals, text forms.

Times are epoch milliseconds (UTC) throughout; ``text_times`` writes them the ways the systems do.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from data_layer.demo.fleet import Story


MIN_MS = 60_000
HOUR_MS = 60 * MIN_MS
DAY_MS = 24 * HOUR_MS


def weekday(ms: np.ndarray | np.int64) -> np.ndarray:
    """Monday=0 ... Sunday=6; 1970-01-01 was a Thursday."""
    return (ms // DAY_MS + 3) % 7


def activity(ms: np.ndarray, rhythm: str) -> np.ndarray:
    """Relative load at each time, about 1 at the daily peak: office hours or a nightly batch."""
    hour = (ms % DAY_MS) / HOUR_MS
    if rhythm == "batch":
        return 0.3 + 0.9 * np.exp(-0.5 * (((hour - 2.5 + 12) % 24 - 12) / 1.5) ** 2)
    day = 0.06 + np.exp(-0.5 * ((hour - 13.5) / 3.0) ** 2)
    return day * np.where(weekday(ms) >= 5, 0.25, 1.0)


def arrivals(rng: np.random.Generator, story: Story, per_day: float, rhythm: str) -> np.ndarray:
    """Sorted event times (ms) of a Poisson process with ``per_day`` events on a busy weekday."""
    hours = np.arange(story.start_ms, story.now_ms, HOUR_MS, dtype=np.int64)
    weekday_hours = np.arange(0, DAY_MS, HOUR_MS, dtype=np.int64) + 4 * DAY_MS  # a Monday
    rate = per_day * activity(hours, rhythm) / activity(weekday_hours, rhythm).sum()
    counts = rng.poisson(rate)
    times = np.repeat(hours, counts) + rng.integers(0, HOUR_MS, counts.sum())
    return np.sort(times)


def grid(rng: np.random.Generator, story: Story, every_ms: int, jitter_ms: int) -> np.ndarray:
    """Regular sample times with a little jitter, as a collector's timer produces them.

    The timer's last tick falls two minutes before ``now``, so every collector has reported within
    the current hour whenever the demo is drawn (quiet night hours included).
    """
    last = story.now_ms - 2 * 60_000
    ticks = np.arange(last, story.start_ms - 1, -every_ms, dtype=np.int64)[::-1]
    return ticks + rng.integers(0, max(jitter_ms, 1), len(ticks))


def text_times(ms: np.ndarray, style: str) -> np.ndarray:
    """Timestamps as text. ``naive``: '2025-03-03 08:00:00.123000' as SQLAlchemy writes UTC on
    SQLite; ``seconds``: '2025-03-03 08:00:00' (SQLite's CURRENT_TIMESTAMP); ``iso``:
    '2025-03-03T08:00:00.123+00:00'. Missing times (NaN) become None."""
    values = np.asarray(ms, dtype="float64")
    missing = np.isnan(values)
    stamps = np.where(missing, 0, values).astype("int64").astype("datetime64[ms]")
    if style == "iso":
        text = np.char.add(np.datetime_as_string(stamps, unit="ms"), "+00:00")
    else:
        text = np.datetime_as_string(stamps, unit="us" if style == "naive" else "s")
        text = np.char.replace(text, "T", " ")
    out = text.astype(object)
    out[missing] = None
    return out


def lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float | np.ndarray, n: int):
    return rng.lognormal(np.log(median), sigma, n)


def cpu_percent(rng: np.random.Generator, load: np.ndarray, extra: np.ndarray | float = 0.0) -> np.ndarray:
    """CPU percent that follows the load, rarely pinned at 100."""
    return np.clip(4 + 58 * load * lognormal(rng, 1.0, 0.15, len(load)) + extra, 0.5, 100)


def pick(rng: np.random.Generator, options: tuple[str, ...] | list[str], n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def uuids(rng: np.random.Generator, n: int) -> list[str]:
    """Version-4 UUIDs drawn from ``rng``, so they repeat for a seed."""
    raw = rng.bytes(16 * n)
    return [str(uuid.UUID(bytes=raw[16 * i : 16 * i + 16], version=4)) for i in range(n)]


def hexes(rng: np.random.Generator, n: int, width: int) -> list[str]:
    raw = rng.bytes(n * width // 2).hex()
    return [raw[width * i : width * (i + 1)] for i in range(n)]


def json_list(values: np.ndarray | list) -> list[str]:
    return [json.dumps(v) for v in values]
