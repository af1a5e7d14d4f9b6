"""The loaded telemetry model, held in an in-process DuckDB database with rollups built at load.

A ``Store`` is built once per source and shared by every session that views it (the app keeps it
in ``st.cache_resource``); each query takes its own cursor, which DuckDB makes thread-safe.

What happens at load, once, so that no rerun pays for it:

* columns are cast to the model's types by the rules of ``data_layer.casts``; times become naive
  UTC ``TIMESTAMP`` columns (bucketing a ``TIMESTAMPTZ`` costs 5x more);
* rows are sorted by time, so DuckDB's min/max zone maps skip row groups outside a time filter;
* calls without a recorded cost get a genai-prices estimate (``pricing.with_costs``);
* the hourly rollups of ``tables.ROLLUP_DDL`` are built. Percentiles are never read from
  rollups: they are computed from the raw rows, so they stay exact.

Pushdown (``data_layer.pushdown``) applies the same casts and cost rule inside PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from data_layer import model, pricing
from data_layer.backend import SourceFacts, typed_result, utc_times
from data_layer.casts import model_column, typed_null
from data_layer.pricing import price_table
from data_layer.report import ReadingReport
from data_layer.tables import MODEL, ROLLUP_DDL, compile_statement, literal_sql


@dataclass(frozen=True)
class SourceInfo:
    """What was loaded, for the sidebar and the Data page. ``label`` never holds a password."""

    system: str
    label: str
    source_tables: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    source_events: int | None = None
    provided: frozenset[str] = frozenset()  # model tables the source has data for, even if empty
    load_seconds: float | None = None
    report: ReadingReport = field(default_factory=ReadingReport)  # what was read, skipped, assumed


class Store(SourceFacts):
    """One source's telemetry model in DuckDB. Build it with ``Store.build(telemetry, info)``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, info: SourceInfo) -> None:
        super().__init__()
        self._con = con
        self._lock = threading.Lock()
        self.info = info
        self.has_rollups = True

    @classmethod
    def build(cls, telemetry: model.Telemetry, info: SourceInfo) -> Store:
        con = duckdb.connect(":memory:", config={"threads": 2})
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        con.execute(literal_sql(postgresql.CreateEnumType(pricing.COST_SOURCE_ENUM)))
        for name in model.TABLES:
            frame = telemetry.tables[name]
            _create(con, name, model.materialize(frame))
            telemetry.tables[name] = model.empty(name)  # free the adapter's copy as we go
        _fill_agents(con)
        for ddl in ROLLUP_DDL.values():
            con.execute(literal_sql(ddl))
        return cls(con, info)

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one query: Streamlit runs each session on its own thread."""
        with self._lock:
            cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def execute(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run a query with bound parameters; times in the result come back as UTC-aware."""
        return utc_times(self._fetch(sql, params))

    def run(self, stmt: sa.Executable) -> pd.DataFrame:
        """Run a SQLAlchemy Core statement built by ``data_layer.queries``."""
        sql, params = compile_statement(stmt)
        return typed_result(self._fetch(sql, params), stmt)  # retypes times too: one pass

    def _fetch(self, sql: str, params: list | dict | None) -> pd.DataFrame:
        with self.cursor() as cur:
            return cur.execute(sql, params or []).df()


# Text columns with few distinct values, held as ENUMs: one byte a row instead of sixteen, and
# group-bys on small integers. Comparisons and unions with text still work as text.
_CATEGORIES = {"agent", "model", "cost_source", "status", "type", "channel", "level", "tool",
               "severity", "source", "name", "unit", "metric", "kind"}  # fmt: skip
_MAX_ENUM_VALUES = 50_000


def _create(con: duckdb.DuckDBPyConnection, name: str, frame: model.Frame) -> None:
    """Copy one adapter frame into DuckDB: model columns and types (``data_layer.casts``), UTC times.

    The casts happen here, in DuckDB, rather than in pandas: at 10M rows this is the difference
    between seconds and a minute. LLM calls get their cost estimates in the same pass.

    The table is stored as ``_<name>`` with only the columns the source filled; the view
    ``<name>`` adds the model's other columns as typed NULLs. An all-NULL column would cost
    sixteen bytes a row for nothing (ten million calls without trace ids: 160 MB).
    """
    cols = model.TABLES[name]
    _take_incoming(con, cols, frame)
    try:
        source_types = dict(
            con.execute("select column_name, column_type from (describe _incoming)").fetchall()
        )
        present = [c for c in cols if c.name in source_types]
        filled = _filled_columns(con, present)
        if name == "llm_calls":  # the estimate reads these and fills the cost
            filled |= {"ts", "model", "tokens_in", "tokens_out", "cost_usd", "cost_source"}
        stored = [c for c in cols if c.name in filled] or cols[:1]
        incoming = sa.table("_incoming", *(sa.column(c.name) for c in present))
        casts = {c.name: model_column(incoming, c, source_types) for c in stored}
        for c in stored:
            if c.name in _CATEGORIES and c.name != "cost_source" and c.name in source_types:
                casts[c.name] = _as_enum(con, f"{name}_{c.name}", casts[c.name])
        rows = sa.select(*(cast.label(column) for column, cast in casts.items())).select_from(incoming)
        if name == "llm_calls":
            _create_calls_with_costs(con, rows.subquery("c"))
        else:
            con.execute(literal_sql(sa.CreateTableAs(rows, f"_{name}")))
    finally:
        _drop_incoming(con)
    table = sa.table(f"_{name}", *(sa.column(column) for column in casts))
    view = (table.c[c.name] if c.name in casts else typed_null(c.kind).label(c.name) for c in cols)
    con.execute(literal_sql(sa.CreateView(sa.select(*view), name)))


def _take_incoming(
    con: duckdb.DuckDBPyConnection, cols: tuple[model.Column, ...], frame: model.Frame
) -> None:
    """``frame`` as ``_incoming``: a frame is registered (no copy); a stream of record batches is
    staged into a table, cast to the model's types batch by batch (so times are eight bytes, not
    text), because the load scans its input several times. Only one batch of the source is then
    in memory at a time, on top of the staged rows.
    """
    if not isinstance(frame, pa.RecordBatchReader):
        con.register("_incoming", frame)
        return
    con.register("_batches", pa.Table.from_batches([], frame.schema))  # its types, no rows read
    source_types = dict(con.execute("select column_name, column_type from (describe _batches)").fetchall())
    con.unregister("_batches")
    batches = sa.table("_batches", *(sa.column(c.name) for c in cols if c.name in source_types))
    casts = [model_column(batches, c, source_types).label(c.name) for c in cols if c.name in source_types]
    con.register("_batches", frame)
    try:
        con.execute(literal_sql(sa.CreateTableAs(sa.select(*casts), "_incoming")))
    finally:
        con.unregister("_batches")


def _drop_incoming(con: duckdb.DuckDBPyConnection) -> None:
    """Let go of ``_incoming``: unregister a frame, or drop a staged table."""
    if con.execute("select count(*) from duckdb_tables() where table_name = '_incoming'").fetchall()[0][0]:
        con.execute("drop table _incoming")
    else:
        con.unregister("_incoming")


def _filled_columns(con: duckdb.DuckDBPyConnection, present: list[model.Column]) -> set[str]:
    """The columns of the incoming frame that hold at least one value (one scan for all)."""
    if not present:
        return set()
    counts = con.execute(
        "select " + ", ".join(f'count("{c.name}") > 0' for c in present) + " from _incoming"
    ).fetchone()
    return {c.name for c, has in zip(present, counts, strict=True) if has}


def _as_enum(con: duckdb.DuckDBPyConnection, type_name: str, cast: sa.ColumnElement) -> sa.ColumnElement:
    """``cast`` as an ENUM of its distinct values, unless there are too many for one to pay."""
    sql = literal_sql(cast)
    n = con.execute(f"select count(distinct {sql}) from _incoming").fetchone()[0]
    if n == 0 or n > _MAX_ENUM_VALUES:
        return cast
    con.execute(
        f'create type "{type_name}" as enum'
        f" (select distinct {sql} as v from _incoming where {sql} is not null order by v)"
    )
    return sa.cast(cast, postgresql.ENUM(name=type_name, create_type=False))


def _create_calls_with_costs(con: duckdb.DuckDBPyConnection, calls: sa.Subquery) -> None:
    """``_llm_calls`` from the cast rows with the cost rule of ``pricing.with_costs`` applied."""
    con.register("_prices", price_table(con.execute(literal_sql(pricing.unpriced(calls))).fetchall()))
    try:
        rows = pricing.with_costs(calls, pricing.price_table_clause("_prices"), enum=True)
        con.execute(literal_sql(sa.CreateTableAs(rows, "_llm_calls")))
    finally:
        con.unregister("_prices")


def _fill_agents(con: duckdb.DuckDBPyConnection) -> None:
    """Sources without an agent table still have agents: list the ones their rows name."""
    if con.execute("select count(*) from agents").fetchone()[0]:
        return
    named = agents_named(MODEL)
    con.execute(f"insert into _agents (agent) {literal_sql(named.order_by(named.selected_columns.agent))}")


def agents_named(tables: Mapping[str, sa.FromClause]) -> sa.Select:
    """The distinct agents the rows of ``tables`` name (but the agent list's and thresholds'):
    what a source without an agent table lists. One statement for the store, which fills its
    ``agents`` with it at load, and pushdown, whose ``agents`` CTE falls back to it."""
    named = sa.union(
        *(
            sa.select(t.c.agent.label("agent")).where(t.c.agent.is_not(None))
            for name, t in tables.items()
            if name not in ("agents", "thresholds") and "agent" in t.c
        )
    ).subquery("_named")
    return sa.select(named.c.agent)
