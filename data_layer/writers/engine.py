"""How rows get into SQLite and PostgreSQL, whatever the schema: the part every writer shares."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

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

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Rows:
        """A frame's rows, NaN and NA as None and numpy scalars as Python ones, as pandas' to_sql
        sends them."""
        plain = frame.astype(object).where(frame.notna(), None)
        return cls(tuple(frame.columns), plain.itertuples(index=False, name=None))


Tables = Mapping[str, "Rows | pd.DataFrame"]  # table name -> its rows, written in this order

_PLAIN = frozenset({str, int, float, bool, bytes, type(None)})


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

        ``compact`` VACUUMs afterwards: indexes filled in random order shrink by about a third.
        No journal and no fsync: a file that fails half-way is not one anybody keeps.
        """
        with closing(sqlite3.connect(path)) as con:
            con.execute("pragma journal_mode = off")
            con.execute("pragma synchronous = off")
            con.executescript(self.sqlite_ddl() if ddl is None else ddl)
            for table, rows in tables.items():
                rows = _rows(rows)
                names = ", ".join(f'"{c}"' for c in rows.columns)
                marks = ", ".join("?" * len(rows.columns))
                insert = f'insert into "{table}" ({names}) values ({marks})'  # noqa: S608 - schema names
                con.executemany(insert, map(_for_sqlite, rows.values))
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
                copy.write_row(encode(row))


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
