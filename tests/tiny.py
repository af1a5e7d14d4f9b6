"""Tiny stores for query tests: a handful of rows written out in the test, loaded the public way.

The rows go through ``Telemetry`` and ``Store.build`` exactly as an adapter's would, so a test's
pandas oracle and the query read the same rows, whatever happens to the casts inside the store.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from data_layer.model import Telemetry
from data_layer.store import SourceInfo, Store

DAY = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday


def at(hh_mm: str, day: int = 0) -> datetime:
    """A UTC time on ``DAY`` (plus ``day`` days): ``at("10:05")``, ``at("23:59:30", day=1)``."""
    parts = [int(p) for p in hh_mm.split(":")]
    hour, minute, second = ([*parts, 0, 0])[:3]
    return DAY.replace(day=DAY.day + day, hour=hour, minute=minute, second=second)


def frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a frame, with None (not NaN) where a row leaves a column out."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)


def store(*, rollups: bool = True, **tables: list[dict]) -> Store:
    """A store holding ``tables`` (model table name -> list of row dicts).

    ``rollups=False`` makes every query read raw rows, so a test can check that rollups plus
    the raw partial hours at a window's edges give the same figures as raw rows alone.
    """
    telemetry = Telemetry(system="tiny", tables={name: frame(rows) for name, rows in tables.items()})
    built = Store.build(telemetry, SourceInfo(system="tiny", label="tiny", provided=telemetry.provided))
    built.has_rollups = rollups
    return built


def selected(rows: pd.DataFrame, filters, *, time: str | None = "ts", fields: dict[str, str]) -> pd.DataFrame:
    """The rows a filter keeps, in plain pandas: start inclusive, end exclusive, a missing time
    kept only when the window is unbounded; ``fields`` maps filter fields to the table's columns.
    """
    keep = pd.Series(True, index=rows.index)
    if time is not None:
        ts = pd.to_datetime(rows[time], utc=True)
        if filters.start is not None:
            keep &= (ts >= filters.start).fillna(False).astype(bool)
        if filters.end is not None:
            keep &= (ts < filters.end).fillna(False).astype(bool)
    for field, column in fields.items():
        wanted = getattr(filters, field)
        if wanted:
            keep &= rows[column].isin(wanted)
    return rows[keep]
