"""How far a source has been read: per source table, its rows and highest id (the watermarks).

A refresh compares the watermarks it took when it last read the source with the source's own,
a few statements per table (``count(*)`` and ``max(id)``, answered from the table's indexes):

* all equal: nothing changed, nothing is read;
* every table only grew past its old highest id (``append_only``): the rows past the old marks
  are all that is new, and an adapter with a ``load_since`` reads only those;
* anything else (rows deleted, ids reset, a table added, dropped or replaced): the history
  changed, and the source is read in full.

Adapters may name one more column per table whose maximum moves when rows are updated in place
(an indexed "last seen" or "ended at"), so such updates are noticed too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from data_layer.model import Frame
from data_layer.sources.database import Database


@dataclass(frozen=True)
class Mark:
    """One source table as last seen: its rows, its highest id, the max of its change column."""

    rows: int
    max_id: object = None  # an int where the table has integer ids
    changed: object = None  # the maximum of the adapter's change column, if it names one


Marks = dict[str, Mark]


@dataclass
class Delta:
    """What an adapter's ``load_since`` read: model rows to add to a loaded store.

    ``keys`` names, for model tables whose rows the source updates in place (an agent seen
    again, a session that ended), the column that identifies a row: those rows replace the
    store's rows with the same key. Every other table's rows are new and are appended.
    """

    tables: dict[str, Frame]
    keys: dict[str, str]


def take(db: Database, tables: Iterable[str], changes: Mapping[str, str] | None = None) -> Marks:
    """The watermarks of ``tables`` (the ones the source has), in one connection."""
    catalog = db.catalog()
    marks: Marks = {}
    try:
        with db.engine.connect() as con:
            for name in tables:
                if name not in catalog:
                    continue
                table = db.table(name)
                column = (changes or {}).get(name)
                # One statement each: SQLite counts from its smallest index only when count(*) is
                # alone (10x faster than beside a max), and finds a max at the b-tree's edge.
                rows = con.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                max_id = _max(con, table, "id") if "id" in catalog[name] else None
                changed = _max(con, table, column) if column in catalog[name] else None
                marks[name] = Mark(int(rows), max_id, changed)
    except sa.exc.SQLAlchemyError as err:
        raise db.unavailable(err) from err
    return marks


def _max(con: sa.Connection, table: sa.TableClause, column: str) -> object:
    return con.execute(sa.select(sa.func.max(table.c[column]))).scalar()


def append_only(db: Database, old: Marks, new: Marks) -> bool:
    """Whether every table only gained rows with ids past its old highest one.

    A table whose row count grew by exactly the rows with ids in (old max, new max] lost none
    of its old rows; one more statement per table that changed, a range scan of the new rows.
    """
    if set(old) != set(new):
        return False
    try:
        with db.engine.connect() as con:
            for name, before in old.items():
                after = new[name]
                if after == before:
                    continue
                if not isinstance(after.max_id, int) or not isinstance(before.max_id, int | None):
                    return False  # no integer ids to tell the new rows by (or the table emptied)
                if after.rows < before.rows or (before.max_id is not None and after.max_id < before.max_id):
                    return False
                table = db.table(name)
                grown = con.execute(sa.select(sa.func.count()).where(id_range(table, before, after))).scalar()
                if after.rows - before.rows != int(grown):
                    return False
    except sa.exc.SQLAlchemyError as err:
        raise db.unavailable(err) from err
    return True


def id_range(table: sa.FromClause, before: Mark, after: Mark) -> sa.ColumnElement[bool]:
    """Rows with ids past ``before`` and up to ``after``: exactly the new rows of an append."""
    lower = table.c.id > before.max_id if before.max_id is not None else sa.true()
    return sa.and_(lower, table.c.id <= after.max_id)
