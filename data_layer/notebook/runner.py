"""Running a notebook cell: on a locked-down DuckDB of its own that sees only the model's tables.

The store (``data_layer.store``) is one DuckDB shared by every session, with rollups and
internal tables beside the model's views, and settings that are per database instance. A
cell's SQL never runs there. Cells run in a second, process-wide DuckDB whose settings are
fixed before any user SQL and then locked: no file or network access, no extension installed
or loaded, no Python variables read by name, a memory limit and one thread per query. Each run
takes a cursor of its own and registers, on that cursor only, the model tables its query reads
as the filtered Arrow tables the store exports, with only the columns the query names
(``safety._names``; every column when it may read others); those exports are kept per (store,
filters, table, columns) and reused by every session, so a rerun registers them again at no
cost (zero copy).

A cell is stopped after ``AGENTWATCH_CELL_TIMEOUT_S`` seconds (default 10) by ``interrupt()``
from a timer thread; DuckDB releases the GIL while it works, so other sessions keep running.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from data_layer.errors import AgentwatchError
from data_layer.filters import Filters
from data_layer.frames import utc_times
from data_layer.notebook.safety import DUCKDB, CheckedQuery, check
from data_layer.queries._common import conditions
from data_layer.store import Store
from data_layer.tables import MODEL, compile_statement

TIMEOUT_VAR = "AGENTWATCH_CELL_TIMEOUT_S"
MEMORY_VAR = "AGENTWATCH_CELL_MEMORY_MB"
KEEP_ROWS = 10_000
"""Rows of a result kept for the table and the chart; the download reads all of them again."""

# The time column that puts a row in the filtered period, as for the pages' downloads: a task
# by when it was created (pending tasks have no completion), tables without a time: all rows.
TIME_COLUMNS = {"tasks": "created_at", "sessions": "started_at", "agents": None, "thresholds": None}

# Set on the cell database before any user SQL; ``lock_configuration`` comes last.
SETTINGS = {
    "enable_external_access": "false",
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
    "allow_community_extensions": "false",
    "python_enable_replacements": "false",
    "enable_progress_bar": "false",
    "TimeZone": "'UTC'",
}


class CellFailed(AgentwatchError):
    """The query was valid to run but the database refused or could not finish it."""


class CellTimedOut(CellFailed):
    """The query ran past the cell time limit and was interrupted."""


@dataclass(frozen=True)
class CellResult:
    """What a cell returned: the first ``KEEP_ROWS`` rows, and how many there were in all."""

    frame: pd.DataFrame
    total_rows: int
    seconds: float

    @property
    def rows_left_out(self) -> int:
        return self.total_rows - len(self.frame)


def timeout_s() -> float:
    """The time limit for one cell, from ``AGENTWATCH_CELL_TIMEOUT_S`` (default 10 s)."""
    try:
        value = float(os.environ.get(TIMEOUT_VAR, "10"))
    except ValueError:
        value = 10.0
    return value if value > 0 else 10.0


def memory_limit_mb() -> int:
    try:
        return max(64, int(os.environ.get(MEMORY_VAR, "1024")))
    except ValueError:
        return 1024


_db: duckdb.DuckDBPyConnection | None = None
_db_guard = threading.Lock()


def cell_database() -> duckdb.DuckDBPyConnection:
    """The process-wide DuckDB cells run in, its configuration locked. Use a cursor per run."""
    global _db
    with _db_guard:
        if _db is None:
            con = duckdb.connect(":memory:", config={"threads": 1, "memory_limit": f"{memory_limit_mb()}MiB"})
            for name, value in SETTINGS.items():
                con.execute(f"set {name} = {value}")
            con.execute("set lock_configuration = true")
            _db = con
        return _db


class _Exports:
    """Filtered model tables as Arrow, per (store, filters, table, columns), least recently used dropped
    beyond ``max_bytes``. Keyed by the store's id with a weak reference beside it, so a store
    that was replaced (a refresh read in full) never hands its rows to its successor, and by its
    ``version``, so a store that grew in place (a refresh appended rows) is exported again.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple, tuple[weakref.ref, pa.Table]] = OrderedDict()
        self._guard = threading.Lock()

    def get(self, store: Store, filters: Filters, table: str, columns: tuple[str, ...]) -> pa.Table:
        # The version is read before the rows are.
        key = (id(store), store.version, filters, table, columns)
        with self._guard:
            found = self._items.get(key)
            if found is not None and found[0]() is store:
                self._items.move_to_end(key)
                return found[1]
        exported = _export(store, filters, table, columns)
        with self._guard:
            self._items[key] = (weakref.ref(store), exported)
            total = sum(t.nbytes for _, t in self._items.values())
            while total > self.max_bytes and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                total -= dropped.nbytes
        return exported

    def clear(self) -> None:
        with self._guard:
            self._items.clear()


EXPORTS = _Exports(max_bytes=int(os.environ.get("AGENTWATCH_CELL_CACHE_MB", "512")) * 1024 * 1024)


def filtered_model(table: str, filters: Filters, columns: tuple[str, ...]) -> sa.Select:
    """The ``columns`` of the model table's rows the global filters select (every filter whose
    column it has)."""
    t = MODEL[table]
    return sa.select(*(t.c[name] for name in columns)).where(
        *conditions(t, filters, time=TIME_COLUMNS.get(table, "ts"))
    )


def columns_read(table: str, names: frozenset[str] | None) -> tuple[str, ...]:
    """The columns of ``table`` a query reading columns by ``names`` needs (``CheckedQuery.names``;
    None: every column). A query that names none of them (``count(*)``) still gets one, its time
    column or else its first, so that the rows are there to count.

    At ten million calls, exporting the period's 2.5M calls took 135 ms with every column and
    16-21 ms with the two to four a starter cell reads."""
    every = tuple(c.name for c in MODEL[table].columns)
    if names is None:
        return every
    named = tuple(c for c in every if c in names)
    return named or (TIME_COLUMNS.get(table, "ts") or every[0],)


def _export(store: Store, filters: Filters, table: str, columns: tuple[str, ...]) -> pa.Table:
    """The filtered rows as Arrow. ENUM columns stay Arrow dictionaries: the cell database reads
    them as text, and cells' results hold text, while a dictionary is a byte a row (at 10M calls,
    60 ms and 28 MB less per such column than converting it to plain strings)."""
    sql, params = compile_statement(filtered_model(table, filters, columns))
    with store.cursor() as cur:
        return cur.sql(sql, params=params).to_arrow_table()


class DuckDBCells:
    """Runs cells over a loaded ``Store`` in the locked cell database."""

    dialect = DUCKDB

    def __init__(self, store: Store) -> None:
        self.store = store

    def run(self, sql: str, filters: Filters, *, limit_s: float | None = None) -> CellResult:
        """Check and run one cell; the first ``KEEP_ROWS`` rows and the total count come back."""
        started = time.perf_counter()
        query = check(sql, self.dialect)
        kept: list[pa.RecordBatch] = []
        total = 0
        schema = None
        with self._reader(query, filters, limit_s) as reader:
            schema = reader.schema
            for batch in reader:
                if total < KEEP_ROWS:
                    kept.append(batch.slice(0, KEEP_ROWS - total))
                total += batch.num_rows
        frame = _to_pandas(pa.Table.from_batches(kept, schema=schema))
        return CellResult(frame=frame, total_rows=total, seconds=time.perf_counter() - started)

    def all_rows(self, sql: str, filters: Filters, *, limit_s: float | None = None) -> pd.DataFrame:
        """Every row of the cell's result (for the download), under the same time limit."""
        query = check(sql, self.dialect)
        with self._reader(query, filters, limit_s) as reader:
            return _to_pandas(reader.read_all())

    def _reader(self, query: CheckedQuery, filters: Filters, limit_s: float | None):
        return _guarded_reader(self.store, query, filters, limit_s or timeout_s())


class _guarded_reader:
    """A record-batch reader over the cell's result, on a fresh cursor with the filtered tables,
    interrupted after ``limit_s`` seconds; errors become ``CellFailed`` with one line.
    """

    def __init__(self, store: Store, query: CheckedQuery, filters: Filters, limit_s: float) -> None:
        self.store, self.query, self.filters, self.limit_s = store, query, filters, limit_s
        self.cursor: duckdb.DuckDBPyConnection | None = None
        self.timer: threading.Timer | None = None
        self.timed_out = threading.Event()

    def __enter__(self) -> Iterator[pa.RecordBatch]:
        tables = {
            name: EXPORTS.get(self.store, self.filters, name, columns_read(name, self.query.names))
            for name in sorted(self.query.tables)
        }
        self.cursor = cell_database().cursor()
        for name, exported in tables.items():
            self.cursor.register(name, exported)
        self.timer = threading.Timer(self.limit_s, self._interrupt)
        self.timer.daemon = True
        self.timer.start()
        try:
            return _Batches(self.cursor.sql(self.query.sql).to_arrow_reader(8192), self)
        except duckdb.Error as err:
            self._raise(err)

    def _interrupt(self) -> None:
        self.timed_out.set()
        if self.cursor is not None:
            self.cursor.interrupt()

    def _raise(self, err: BaseException):
        if self.timed_out.is_set() or isinstance(err, duckdb.InterruptException):
            raise CellTimedOut(
                f"This cell ran longer than {self.limit_s:g} s and was stopped ({TIMEOUT_VAR})."
                " Narrow the period or aggregate more; the other cells still ran."
            ) from err
        raise CellFailed(_one_line(err)) from err

    def __exit__(self, kind, err, tb) -> bool:
        if self.timer is not None:
            self.timer.cancel()
        if self.cursor is not None:
            self.cursor.close()
        if isinstance(err, duckdb.Error) or (isinstance(err, pa.ArrowException) and self.timed_out.is_set()):
            self._raise(err)
        return False


class _Batches:
    """Iterates a reader; a DuckDB error raised while fetching is turned into ``CellFailed``."""

    def __init__(self, reader: pa.RecordBatchReader, guard: _guarded_reader) -> None:
        self.reader, self.guard = reader, guard
        self.schema = reader.schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        yield from self.reader

    def read_all(self) -> pa.Table:
        return self.reader.read_all()


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """The result as pandas: text as strings, integers with a missing value still integers (NA),
    times UTC-aware, and repeated column names numbered (``count``, ``count_2``) so none is lost.
    """
    seen: dict[str, int] = {}
    names = []
    for name in table.column_names:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    table = table.rename_columns(names)
    frame = table.to_pandas(
        types_mapper=lambda t: (
            pd.StringDtype() if pa.types.is_string(t) or pa.types.is_large_string(t) else None
        )
    )
    for i, col in enumerate(frame.columns):
        if pd.api.types.is_float_dtype(frame[col].dtype) and pa.types.is_integer(table.schema.field(i).type):
            frame[col] = frame[col].astype("Int64")
    return utc_times(frame)


def _one_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = lines[0] if lines else type(err).__name__
    return text if len(text) <= 300 else text[:299] + "…"
