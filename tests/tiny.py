"""Tiny stores for query tests: a handful of rows written out in the test, loaded the public way.

The rows go through ``Telemetry`` and ``Store.build`` exactly as an adapter's would, so a test's
pandas oracle and the query read the same rows, whatever happens to the casts inside the store.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

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


# The backends a tiny test runs on: the DuckDB store reading rollups for whole hours, the same
# store reading raw rows only, and pushdown into PostgreSQL (skipped without a server).
BACKENDS = ["rollups", "raw rows", pytest.param("postgres", marks=pytest.mark.postgres)]


def backend(request: pytest.FixtureRequest, **tables: list[dict]):
    """``tables`` on the backend a fixture parametrized with ``BACKENDS`` asks for."""
    if request.param == "postgres":
        return pushdown(request.getfixturevalue("make_pg_database")("tiny"), **tables)
    return store(rollups=request.param == "rollups", **tables)


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


def pushdown(url: str, **tables: list[dict]):
    """The same rows in the PostgreSQL database at ``url``, queried by pushdown.

    Each table is written as ``tiny_<name>`` with the rows' own types (timestamptz, numbers,
    JSON text for lists), and mapped to the model by a one-line SELECT per table, the way an
    adapter over a database maps its tables.
    """
    from types import SimpleNamespace

    import sqlalchemy as sa

    from data_layer.pushdown import PushdownBackend
    from data_layer.sources.database import Database

    writer = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with writer.begin() as con:
        for name, rows in tables.items():
            frame(rows).to_sql(f"tiny_{name}", con, index=False)
    writer.dispose()

    def model_selects(db: Database) -> dict[str, sa.Select]:
        return {name: sa.select(db.table(f"tiny_{name}")) for name in tables}

    info = SourceInfo(system="tiny", label="tiny", provided=frozenset(tables))
    return PushdownBackend(Database(url), SimpleNamespace(model_selects=model_selects), info)
