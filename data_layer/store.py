"""The loaded telemetry model, held in an in-process DuckDB database with rollups built at load.

A ``Store`` is built once per source and shared by every session that views it (the app keeps it
in ``st.cache_resource``); each query takes its own cursor, which DuckDB makes thread-safe.

What happens at load, once, so that no rerun pays for it:

* columns are cast to the model's types by the rules of ``data_layer.casts``; times become naive
  UTC ``TIMESTAMP`` columns (bucketing a ``TIMESTAMPTZ`` costs 5x more);
* rows are stored in time order, and within a slice of time by agent (``time_order``), so
  DuckDB's min/max zone maps skip row groups outside a time filter or an agent filter. The
  adapters' joins and the cost estimate's join hand rows over in no particular order; at a
  million calls, sorting them costs ~0.5 s of CPU once, and a day's percentiles then took
  5.6 ms instead of 10.9, a week's 11.6 instead of 17.1 (in time order alone, before the
  agents). Streamed tables are sorted in the copy they get at the end anyway, a slice of time
  at a time (``_finish_streamed``);
* calls without a recorded cost get a genai-prices estimate (``pricing.with_costs``);
* the rollups of ``tables.ROLLUP_DDL`` are built, hourly and daily. Percentiles are never read
  from rollups: they are computed from the raw rows, so they stay exact.

Pushdown (``data_layer.pushdown``) applies the same casts and cost rule inside PostgreSQL.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from data_layer import model, pricing
from data_layer.backend import SourceFacts
from data_layer.casts import model_column, typed_null
from data_layer.frames import typed_result, utc_times
from data_layer.pricing import price_table
from data_layer.report import ReadingReport
from data_layer.tables import (
    MODEL,
    ROLLUP_DDL,
    ROLLUP_READS,
    ROLLUPS,
    ROLLUPS_OF,
    compile_statement,
    literal_sql,
)
from data_layer.time_order import in_stored_order, needs_slices, sort_in_slices


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
            frame = model.materialize(telemetry.tables[name])
            # A stream is sorted as it is finished; a frame of millions of rows once the
            # adapter's copy is gone, so that the peak holds one copy of it, not two (``time_order``).
            later = not isinstance(frame, pa.RecordBatchReader) and needs_slices(len(frame))
            _create(con, name, frame, in_order=not later)
            telemetry.tables[name] = model.empty(name)  # free the adapter's copy as we go
            del frame
            if later:
                sort_in_slices(con, name)
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

    def append(self, tables: Mapping[str, model.Frame], keys: Mapping[str, str], info: SourceInfo) -> None:
        """Add a refresh's rows (``data_layer.refresh``) and bring the rollups up to date.

        One DuckDB transaction: a query running meanwhile sees the store before or after, never
        half of it. Rows of ``keys``'s tables replace the rows with the same key (an agent seen
        again); the others are appended. The rollups' touched hours and days are computed again
        from the rows, so they stay what a full load would build. Raises ``Unappendable`` (and
        changes nothing) when the rows do not fit the store as built: a name its ENUM columns lack, a
        column that was empty at load; the caller then loads the source in full.
        """
        with self._lock:
            cur = self._con.cursor()
        try:
            cur.execute("begin transaction")
            try:
                for name, frame in tables.items():
                    _append_rows(cur, name, frame, keys.get(name))
                _update_rollups(cur, [name for name in tables if name in ROLLUPS_OF])
                cur.execute("commit")
            except duckdb.Error as err:
                cur.execute("rollback")
                raise Unappendable(str(err)) from err
        finally:
            cur.close()
        self.info = info
        self.forget()


# Text columns with few distinct values, held as ENUMs: one byte a row instead of sixteen, and
# group-bys on small integers. Comparisons and unions with text still work as text.
_CATEGORIES = {"agent", "model", "cost_source", "status", "type", "channel", "level", "tool",
               "severity", "source", "name", "unit", "metric", "kind"}  # fmt: skip
_MAX_ENUM_VALUES = 50_000


def _create(con: duckdb.DuckDBPyConnection, name: str, frame: model.Frame, *, in_order: bool = True) -> None:
    """Copy one adapter frame into DuckDB: model columns and types (``data_layer.casts``), UTC times.

    The casts happen here, in DuckDB, rather than in pandas: at 10M rows this is the difference
    between seconds and a minute. LLM calls get their cost estimates in the same pass.

    The table is stored as ``_<name>`` with only the columns the source filled; the view
    ``<name>`` adds the model's other columns as typed NULLs. An all-NULL column would cost
    sixteen bytes a row for nothing (ten million calls without trace ids: 160 MB).
    """
    cols = model.TABLES[name]
    if isinstance(frame, pa.RecordBatchReader):
        stored = _create_from_stream(con, name, frame)
    else:
        stored = _create_from_frame(con, name, frame, in_order=in_order)
    table = sa.table(f"_{name}", *(sa.column(column) for column in stored))
    view = (table.c[c.name] if c.name in stored else typed_null(c.kind).label(c.name) for c in cols)
    con.execute(literal_sql(sa.CreateView(sa.select(*view), name)))


def _create_from_frame(
    con: duckdb.DuckDBPyConnection, name: str, frame: model.Frame, *, in_order: bool
) -> list[str]:
    """``_<name>`` from a frame held whole: scanned for its filled columns and ENUM values first,
    then cast in one pass, ``in_order`` of time or as the rows come. Returns the stored columns."""
    cols = model.TABLES[name]
    con.register("_incoming", frame)
    try:
        source_types = _types(con, "_incoming")
        present = [c for c in cols if c.name in source_types]
        filled = _filled_columns(con, "_incoming", present)
        if name == "llm_calls":
            filled |= _COST_INPUTS
        stored = [c for c in cols if c.name in filled] or cols[:1]
        incoming = sa.table("_incoming", *(sa.column(c.name) for c in present))
        casts = {c.name: model_column(incoming, c, source_types) for c in stored}
        for c in stored:
            if c.name in _CATEGORIES and c.name != "cost_source" and c.name in source_types:
                casts[c.name] = _as_enum(con, f"{name}_{c.name}", casts[c.name])
        rows = sa.select(*(cast.label(column) for column, cast in casts.items())).select_from(incoming)
        ordered = in_stored_order if in_order else lambda rows: rows
        if name == "llm_calls":
            _create_calls_with_costs(con, rows.subquery("c"), ordered)
        else:
            con.execute(literal_sql(sa.CreateTableAs(ordered(rows), f"_{name}")))
    finally:
        con.unregister("_incoming")
    return list(casts)


# The columns the cost estimate reads and fills: LLM calls always store them.
_COST_INPUTS = {"ts", "model", "tokens_in", "tokens_out", "cost_usd", "cost_source"}


def _create_from_stream(con: duckdb.DuckDBPyConnection, name: str, stream: pa.RecordBatchReader) -> list[str]:
    """``_<name>`` from a stream of record batches, cast batch by batch as it arrives, so only one
    batch of the source is in memory at a time. What a frame's load learns by scanning its input
    first is done afterwards (``_finish_streamed``): staging the rows and copying them would
    double the peak of every table instead.
    """
    cols = model.TABLES[name]
    con.register("_incoming", pa.Table.from_batches([], stream.schema))  # its types; no rows read
    source_types = _types(con, "_incoming")
    con.unregister("_incoming")
    incoming = sa.table("_incoming", *(sa.column(c) for c in source_types))
    always = {cols[0].name} | (_COST_INPUTS if name == "llm_calls" else set())
    loaded = [c for c in cols if c.name in source_types or c.name in always]
    casts = {c.name: model_column(incoming, c, source_types) for c in loaded}
    if name == "llm_calls":  # set by the cost rule once the calls are stored
        casts["cost_source"] = sa.cast(sa.null(), pricing.COST_SOURCE_ENUM)
    rows = sa.select(*(cast.label(column) for column, cast in casts.items())).select_from(incoming)
    _create_table_from_stream(con, rows, f"_{name}", stream)
    kept = _filled_columns(con, f"_{name}", loaded) | (always - {cols[0].name})
    stored = [c.name for c in loaded if c.name in kept] or [cols[0].name]
    enums = [c for c in stored if c in _CATEGORIES and c != "cost_source" and c in source_types]
    _finish_streamed(con, name, stored, enums)
    return stored


def _finish_streamed(con: duckdb.DuckDBPyConnection, name: str, stored: list[str], enums: list[str]) -> None:
    """``_<name>`` made what a frame's load would have created: only the ``stored`` columns, the
    ``enums`` as ENUMs of their values, the rows in stored order (``time_order``) and, for LLM
    calls, the cost rule of ``pricing.with_costs`` applied.

    The ENUMs first, in place, one column at a time: the copy that follows is then of a table
    half as wide. The copy is sorted a slice of time at a time (``time_order``), so the sort
    holds one slice, not a second table: at ten million calls the peak fell by 0.6 GB. A copy,
    not an UPDATE of the costs: DuckDB took seconds per hundred thousand rows to update a number
    column in place.
    """
    for column in enums:
        _to_enum(con, f"_{name}", column)
    table = sa.table(f"_{name}", *(sa.column(c) for c in stored))
    if name != "llm_calls":
        sort_in_slices(con, name, stored)
        return
    con.register("_prices", price_table(con.execute(literal_sql(pricing.unpriced(table))).fetchall()))
    try:
        prices = pricing.price_table_clause("_prices")

        def costed(part: sa.Select) -> sa.Select:
            return pricing.with_costs(part.subquery("c"), prices, enum=True)

        sort_in_slices(con, name, stored, costed)
    finally:
        con.unregister("_prices")


def _create_table_from_stream(
    con: duckdb.DuckDBPyConnection, rows: sa.Select, table: str, stream: pa.RecordBatchReader
) -> None:
    """``table`` as ``rows`` selected from ``stream`` registered as ``_incoming``. A source that
    fails mid-read (``SourceUnavailable``) raises its own error, which DuckDB would report as its own."""
    failed: list[Exception] = []

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from stream
        except Exception as err:
            failed.append(err)
            raise

    con.register("_incoming", pa.RecordBatchReader.from_batches(stream.schema, batches()))
    try:
        con.execute(literal_sql(sa.CreateTableAs(rows, table)))
    except duckdb.Error:
        if failed:
            raise failed[0] from None
        raise
    finally:
        con.unregister("_incoming")


def _types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return dict(con.execute(f"select column_name, column_type from (describe {relation})").fetchall())


def _to_enum(con: duckdb.DuckDBPyConnection, table: str, column: str) -> None:
    """A stored text column as an ENUM of its distinct values, as ``_as_enum`` makes them."""
    type_name = f"{table.removeprefix('_')}_{column}"
    n = con.execute(f'select count(distinct "{column}") from {table}').fetchall()[0][0]
    if n == 0 or n > _MAX_ENUM_VALUES:
        return
    con.execute(
        f'create type "{type_name}" as enum'
        f' (select distinct "{column}" as v from {table} where "{column}" is not null order by v)'
    )
    con.execute(f'alter table {table} alter "{column}" type "{type_name}"')


class Unappendable(Exception):
    """A refresh's rows do not fit the store as it was built; the store is unchanged."""


def _append_rows(cur: duckdb.DuckDBPyConnection, name: str, frame: model.Frame, key: str | None) -> None:
    """Cast ``frame`` as ``_create`` casts a load's rows and add it to ``_<name>`` (replacing the
    rows with the same ``key``); the rows added stay in ``_delta_<name>`` for the rollups."""
    stored = dict(cur.execute(f"select column_name, column_type from (describe _{name})").fetchall())
    cur.register("_incoming", frame)
    try:
        source_types = dict(
            cur.execute("select column_name, column_type from (describe _incoming)").fetchall()
        )
        present = [c for c in model.TABLES[name] if c.name in source_types]
        if missing := _filled_columns(cur, "_incoming", present) - set(stored):
            raise duckdb.InvalidInputException(f"{name}: no column for {sorted(missing)} in the store")
        incoming = sa.table("_incoming", *(sa.column(c.name) for c in present))
        casts = {
            c.name: model_column(incoming, c, source_types) for c in model.TABLES[name] if c.name in stored
        }
        rows = sa.select(*(cast.label(column) for column, cast in casts.items())).select_from(incoming)
        if name == "llm_calls":
            calls = rows.subquery("c")
            cur.register("_prices", price_table(cur.execute(literal_sql(pricing.unpriced(calls))).fetchall()))
            rows = pricing.with_costs(calls, pricing.price_table_clause("_prices"), enum=True)
        cur.execute(f"create or replace temp table _delta_{name} as {literal_sql(rows)}")
    finally:
        cur.unregister("_incoming")
        if name == "llm_calls":
            cur.unregister("_prices")
    for column in _new_names(cur, name, [c for c, kind in stored.items() if kind.startswith("ENUM")]):
        _widen_enum(cur, name, column)
    if key is not None:
        cur.execute(f"delete from _{name} where {key} in (select {key} from _delta_{name})")
    cur.execute(f"insert into _{name} by name select * from _delta_{name}")


def _enum_values(name: str, column: str) -> str:
    """A subquery of the values of the ENUM ``_<name>.<column>`` holds, as ``v``."""
    one = f"(select {column} from _{name} where {column} is not null limit 1)"
    return f"(select unnest(enum_range({one})) as v)"


def _new_names(cur: duckdb.DuckDBPyConnection, name: str, columns: list[str]) -> list[str]:
    """The ENUM columns of ``_<name>`` that the appended rows have values for that it lacks
    (``cost_source``'s values are fixed). One statement for all of them."""
    columns = [c for c in columns if c != "cost_source"]
    if not columns:
        return []
    counts = " union all ".join(
        f"select '{c}' as c, count(*) as n from (select distinct {c} from _delta_{name} where {c} is not null"
        f" except select v::varchar from {_enum_values(name, c)})"
        for c in columns
    )
    return [c for c, n in cur.execute(counts).fetchall() if n]


def _widen_enum(cur: duckdb.DuckDBPyConnection, name: str, column: str) -> None:
    """Give ``_<name>.<column>`` (and its rollups') an ENUM that also holds the new rows' values.

    The values stay in sorted order, as ``_as_enum`` makes them, so the column sorts and groups
    as a full load's would. Only when a name is new: an agent, a model, a tool never seen.
    """
    values = _enum_values(name, column)
    widened = f"{name}_{column}_{uuid.uuid4().hex[:8]}"
    cur.execute(
        f'create type "{widened}" as enum (select v from (select v::varchar as v from {values}'
        f" union select {column} from _delta_{name}) where v is not null order by v)"
    )
    cur.execute(f'alter table _{name} alter {column} type "{widened}"')
    for rollup in ROLLUPS_OF.get(name, []):
        types = dict(cur.execute(f"select column_name, column_type from (describe {rollup})").fetchall())
        if types.get(column, "").startswith("ENUM"):
            cur.execute(f'alter table {rollup} alter {column} type "{widened}"')


def _update_rollups(cur: duckdb.DuckDBPyConnection, appended: list[str]) -> None:
    """Recompute the rollup rows of the hours, then of the days, the appended rows fall in:
    each hourly row from all the rows of its hour, each daily row from the hourly rows of its
    day, as a full load builds them.

    The rows are read through a time range first, so DuckDB's zone maps skip the row groups of
    other hours: new rows are recent, and the range is then a few row groups.
    """
    for source in appended:
        for rollup in ROLLUPS_OF[source]:
            _update_rollup(cur, rollup, f"_delta_{source}")


def _update_rollup(cur: duckdb.DuckDBPyConnection, rollup: str, delta: str) -> None:
    """The rows of ``rollup`` for the hours or days (its grain) that ``delta``'s rows fall in,
    computed again from the table it sums."""
    grain = ROLLUPS[rollup].c[0].name  # 'hour' or 'day': its time column and its unit
    table, time = ROLLUP_READS[rollup]
    low, high, nulls = cur.execute(
        f"select date_trunc('{grain}', min(ts)), date_trunc('{grain}', max(ts)) + interval 1 {grain},"
        f" count(*) > count(ts) from {delta}"
    ).fetchone()
    unit_of = f"date_trunc('{grain}', ts)"
    units = sa.select(sa.literal_column(unit_of)).select_from(sa.table(delta))
    unit = sa.func.date_trunc(sa.literal_column(f"'{grain}'"), table.c[time], type_=sa.DateTime)
    at = table.c[time]
    touched = [sa.and_(at >= low, at < high, unit.in_(units))] if low is not None else []
    if nulls:
        touched.append(at.is_(None))
    if not touched:
        return
    cur.execute(
        f"delete from {rollup} where {grain} in (select {unit_of} from {delta})"
        + (f" or {grain} is null" if nulls else "")
    )
    cur.execute(f"insert into {rollup} {literal_sql(ROLLUP_DDL[rollup].selectable.where(sa.or_(*touched)))}")


def _filled_columns(con: duckdb.DuckDBPyConnection, relation: str, present: list[model.Column]) -> set[str]:
    """The columns of ``relation`` that hold at least one value (one scan for all)."""
    if not present:
        return set()
    counts = con.execute(
        "select " + ", ".join(f'count("{c.name}") > 0' for c in present) + f" from {relation}"
    ).fetchall()[0]
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


def _create_calls_with_costs(
    con: duckdb.DuckDBPyConnection, calls: sa.Subquery, ordered: Callable[[sa.Select], sa.Select]
) -> None:
    """``_llm_calls`` from the cast rows with the cost rule of ``pricing.with_costs`` applied."""
    con.register("_prices", price_table(con.execute(literal_sql(pricing.unpriced(calls))).fetchall()))
    try:
        rows = pricing.with_costs(calls, pricing.price_table_clause("_prices"), enum=True)
        con.execute(literal_sql(sa.CreateTableAs(ordered(rows), "_llm_calls")))
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
