"""How rows get into SQLite and PostgreSQL, whatever the schema: the part every writer shares."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.api.types import infer_dtype

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


@dataclass(frozen=True)
class Rows:
    """One table's rows: column names, and a tuple of Python values per row (None: NULL).

    Values are what the system writes: text, numbers, booleans, and times either as the text the
    system writes or as ``datetime``. JSON may be given as text or as dicts and lists, and a
    ``Decimal`` for NUMERIC; the writer puts each in the form its engine takes.
    """

    columns: Sequence[str]
    values: Iterable[Sequence[Any]]
    plain: bool = False  # only text, numbers, booleans and NULLs: nothing to render for SQLite

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Rows:
        """A frame's rows, NaN and NA as None and numpy scalars as Python ones, as pandas' to_sql
        sends them. Columns are checked for plainness once, not row by row: the demo's
        142,000 rows took about a third more CPU to write when every row was checked."""
        plain = all(
            frame[c].dtype != object or infer_dtype(frame[c], skipna=True) in _PLAIN_KINDS
            for c in frame.columns
        )
        return cls(tuple(frame.columns), _python_rows(frame), plain)


Tables = Mapping[str, "Rows | pd.DataFrame"]  # table name -> its rows, written in this order

_PLAIN = frozenset({str, int, float, bool, bytes, type(None)})
_PLAIN_KINDS = frozenset(
    {"string", "empty", "integer", "floating", "mixed-integer-float", "boolean", "bytes"}
)


@dataclass(frozen=True)
class Writer:
    """A system's schema and how its rows are written; ``array_columns`` are PostgreSQL TEXT[]
    columns, which SQLite holds as JSON text."""

    sqlite_ddl: Callable[[], str]
    postgres_ddl: Callable[[], str] | None = None
    array_columns: frozenset[str] = field(default_factory=frozenset)

    def write_sqlite(
        self, path: Path, tables: Tables, *, ddl: str | None = None, compact: bool = False
    ) -> Path:
        """Run the schema (``ddl``, else the system's own) in a new SQLite file and insert the rows.

        ``compact`` VACUUMs afterwards, which packs the tables' pages (the demo's files shrink).
        No journal and no fsync: a file that fails half-way is not one anybody keeps.
        """
        with closing(sqlite3.connect(path)) as con:
            con.execute("pragma journal_mode = off")
            con.execute("pragma synchronous = off")
            con.executescript(self.sqlite_ddl() if ddl is None else ddl)
            # Indexes are built after the rows: at the benchmark's 10M rows, filling them row by row
            # in random key order is what takes the time. Constraint indexes (no SQL) stay.
            indexes = con.execute(
                "select name, sql from sqlite_master where type = 'index' and sql is not null"
            )
            indexes = indexes.fetchall()
            for name, _sql in indexes:
                con.execute(f'drop index "{name}"')
            for table, rows in tables.items():
                rows = _rows(rows)
                names = ", ".join(f'"{c}"' for c in rows.columns)
                marks = ", ".join("?" * len(rows.columns))
                insert = f'insert into "{table}" ({names}) values ({marks})'  # noqa: S608 - schema names
                con.executemany(insert, rows.values if rows.plain else map(_for_sqlite, rows.values))
            for _name, sql in indexes:
                con.execute(sql)
            con.commit()
            if compact:
                con.execute("vacuum")
        return Path(path)

    def write_postgres(self, url: str, tables: Tables, *, ddl: str | None = None, create: bool = True) -> str:
        """Run the schema (``ddl``, else the system's own; none if not ``create``) in the database
        at ``url``, then COPY the rows in: PostgreSQL parses the text of UUIDs, JSON and times itself."""
        import psycopg

        if self.postgres_ddl is None:
            raise ValueError("This system's schema has no PostgreSQL form.")
        with psycopg.connect(url) as con:
            if create:
                con.execute(self.postgres_ddl() if ddl is None else ddl)
            for table, rows in tables.items():
                self._copy(con, table, _rows(rows))
        return url

    def _copy(self, con: Any, table: str, rows: Rows) -> None:
        from psycopg import sql
        from psycopg.types.json import Jsonb

        arrays = [i for i, c in enumerate(rows.columns) if c in self.array_columns]

        def encode(row: Sequence[Any]) -> list[Any]:
            out = [Jsonb(v) if isinstance(v, dict | list) else v for v in row]
            for i in arrays:  # TEXT[]: a list, given as such or as JSON text
                out[i] = row[i] if row[i] is None or isinstance(row[i], list) else json.loads(row[i])
            return out

        names = sql.SQL(", ").join(map(sql.Identifier, rows.columns))
        stmt = sql.SQL("copy {} ({}) from stdin").format(sql.Identifier(table), names)
        with con.cursor() as cur, cur.copy(stmt) as copy:
            for row in rows.values:
                copy.write_row(row if rows.plain and not arrays else encode(row))


def _python_rows(frame: pd.DataFrame, chunk: int = 100_000) -> Iterator[tuple[Any, ...]]:
    """Row tuples made a chunk at a time: the benchmark's 10M rows as Python objects at once
    would take gigabytes."""
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start : start + chunk]
        yield from part.astype(object).where(part.notna(), None).itertuples(index=False, name=None)


def _rows(rows: Rows | pd.DataFrame) -> Rows:
    return Rows.of(rows) if isinstance(rows, pd.DataFrame) else rows


def _for_sqlite(row: Sequence[Any]) -> Sequence[Any]:
    """SQLite takes text, numbers and bytes: JSON as text, times as sqlite3 used to write them."""
    if all(type(v) in _PLAIN for v in row):
        return row
    return tuple(_sqlite_value(v) for v in row)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.isoformat(" ")  # sqlite3's old default adapter, deprecated in Python 3.12
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
