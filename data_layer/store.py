"""The loaded telemetry model, held in an in-process DuckDB database with rollups built at load.

A ``Store`` is built once per source and shared by every session that views it (the app keeps it
in ``st.cache_resource``); each query takes its own cursor, which DuckDB makes thread-safe.

What happens at load, once, so that no rerun pays for it:

* times become naive UTC ``TIMESTAMP`` columns (bucketing a ``TIMESTAMPTZ`` costs 5x more);
* rows are sorted by time, so DuckDB's min/max zone maps skip row groups outside a time filter;
* calls without a recorded cost get a genai-prices estimate (``cost_source = 'estimated'``);
* hourly rollups of the additive LLM and tool-call measures are built. Percentiles are never
  read from rollups: they are computed from the raw rows, so they stay exact.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import duckdb
import pandas as pd
import sqlalchemy as sa

from data_layer import model
from data_layer.pricing import price_table
from data_layer.report import ReadingReport
from data_layer.tables import compile_statement

# Rollups: one row per (hour, dimensions). Additive measures only; a count beside each sum says
# how many rows had a value, so "missing" survives the rollup.
_LLM_HOURLY = """
create table llm_calls_hourly as
select date_trunc('hour', ts) as hour, agent, model, cost_source, status,
       count(*)::bigint as calls,
       sum(tokens_in)::bigint as tokens_in, count(tokens_in)::bigint as calls_with_tokens_in,
       sum(tokens_out)::bigint as tokens_out, count(tokens_out)::bigint as calls_with_tokens_out,
       sum(cost_usd) as cost_usd, count(cost_usd)::bigint as calls_with_cost,
       sum(latency_ms) as latency_ms_sum, count(latency_ms)::bigint as calls_with_latency
from llm_calls group by all order by hour
"""

_TOOL_HOURLY = """
create table tool_calls_hourly as
select date_trunc('hour', ts) as hour, agent, tool,
       count(*)::bigint as calls,
       count(*) filter (where success = false)::bigint as failures,
       count(success)::bigint as calls_with_outcome,
       sum(latency_ms) as latency_ms_sum, count(latency_ms)::bigint as calls_with_latency
from tool_calls group by all order by hour
"""

ROLLUPS = ("llm_calls_hourly", "tool_calls_hourly")
T = TypeVar("T")


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


class Memo:
    """Values computed once and shared, thread-safe (two sessions may ask at once)."""

    def __init__(self) -> None:
        self._values: dict[str, object] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str, compute: Callable[[], T]) -> T:
        with self._lock:
            if name in self._values:
                return self._values[name]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            return self._values.setdefault(name, value)  # type: ignore[return-value]


class Store:
    """One source's telemetry model in DuckDB. Build it with ``Store.build(telemetry, info)``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, info: SourceInfo) -> None:
        self._con = con
        self._lock = threading.Lock()
        self.info = info
        self.has_rollups = True
        self._memo = Memo()

    def memo(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per store: for what never changes while the store lives (filter
        choices, data-quality findings), however many sessions and reruns ask for it.
        """
        return self._memo(name, compute)

    @classmethod
    def build(cls, telemetry: model.Telemetry, info: SourceInfo) -> Store:
        con = duckdb.connect(":memory:", config={"threads": 2})
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        con.execute(f"create type cost_source_enum as enum {model.COST_SOURCES}")
        for name in model.TABLES:
            frame = telemetry.tables[name]
            _create(con, name, model.materialize(frame))
            telemetry.tables[name] = model.empty(name)  # free the adapter's copy as we go
        _fill_agents(con)
        con.execute(_LLM_HOURLY)
        con.execute(_TOOL_HOURLY)
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
        with self.cursor() as cur:
            return utc_times(cur.execute(sql, params or []).df())

    def run(self, stmt: sa.Executable) -> pd.DataFrame:
        """Run a SQLAlchemy Core statement built by ``data_layer.queries``."""
        sql, params = compile_statement(stmt)
        return typed_result(self.execute(sql, params), stmt)

    def frame(self, table: str, limit: int | None = None) -> pd.DataFrame:
        """A model table as a pandas frame with the model's dtypes (for downloads and tests)."""
        if table not in model.TABLES:
            raise KeyError(table)
        sql = f'select * from "{table}"' + (" limit $1" if limit is not None else "")
        with self.cursor() as cur:
            raw = cur.execute(sql, [limit] if limit is not None else []).df()
        return model.conform(table, raw)

    def row_counts(self) -> dict[str, int]:
        """Rows per model table."""
        union = " union all ".join(
            f"select '{name}' as t, count(*) as n from \"{name}\"" for name in model.TABLES
        )
        counts = self.execute(union)
        return dict(zip(counts["t"], counts["n"].astype(int), strict=True))

    def time_span(self) -> tuple[datetime | None, datetime | None]:
        """Earliest and latest activity, as UTC-aware datetimes (None if there is none).

        Agent registration times are left out: they say when a record was written, not when
        anything happened, and a source's defaults often set them to the time of the insert.
        """
        parts = " union all ".join(
            f'select min("{c.name}") as lo, max("{c.name}") as hi from "{t}"'
            for t, cols in model.TABLES.items()
            for c in cols
            if c.kind == "time" and t != "agents"
        )
        span = self.execute(f"select min(lo) as lo, max(hi) as hi from ({parts})")
        lo, hi = span.iloc[0]["lo"], span.iloc[0]["hi"]
        return (None if pd.isna(lo) else lo.to_pydatetime(), None if pd.isna(hi) else hi.to_pydatetime())


# Text columns with few distinct values, held as ENUMs: one byte a row instead of sixteen, and
# group-bys on small integers. Comparisons and unions with text still work as text.
_CATEGORIES = {"agent", "model", "cost_source", "status", "type", "channel", "level", "tool",
               "severity", "source", "name", "unit", "metric", "kind"}  # fmt: skip
_MAX_ENUM_VALUES = 50_000


def _create(con: duckdb.DuckDBPyConnection, name: str, frame: model.Frame) -> None:
    """Copy one adapter frame into DuckDB: model columns and types, UTC times.

    The casts happen here, in DuckDB, rather than in pandas: at 10M rows this is the difference
    between seconds and a minute. LLM calls get their cost estimates in the same pass.

    The table is stored as ``_<name>`` with only the columns the source filled; the view
    ``<name>`` adds the model's other columns as typed NULLs. An all-NULL column would cost
    sixteen bytes a row for nothing (ten million calls without trace ids: 160 MB).
    """
    cols = model.TABLES[name]
    con.register("_incoming", frame)
    try:
        source_types = dict(
            con.execute("select column_name, column_type from (describe _incoming)").fetchall()
        )
        present = [c for c in cols if c.name in source_types]
        filled = _filled_columns(con, present)
        if name == "llm_calls":  # the estimate reads these and fills the cost
            filled |= {"ts", "model", "tokens_in", "tokens_out", "cost_usd", "cost_source"}
        stored = [c for c in cols if c.name in filled] or cols[:1]
        casts = {c.name: _cast_sql(c, source_types.get(c.name)) for c in stored}
        for c in stored:
            if c.name in _CATEGORIES and c.name != "cost_source" and c.name in source_types:
                casts[c.name] = _as_enum(con, f"{name}_{c.name}", casts[c.name])
        select = ", ".join(f'{sql} as "{column}"' for column, sql in casts.items())
        if name == "llm_calls":
            _create_calls_with_costs(con, f"select {select} from _incoming")
        else:
            con.execute(f'create table "_{name}" as select {select} from _incoming')
    finally:
        con.unregister("_incoming")
    view = ", ".join(
        f'"{c.name}"' if c.name in casts else f'null::{model.duckdb_type_of(c.kind)} as "{c.name}"'
        for c in cols
    )
    con.execute(f'create view "{name}" as select {view} from "_{name}"')


def _filled_columns(con: duckdb.DuckDBPyConnection, present: list[model.Column]) -> set[str]:
    """The columns of the incoming frame that hold at least one value (one scan for all)."""
    if not present:
        return set()
    counts = con.execute(
        "select " + ", ".join(f'count("{c.name}") > 0' for c in present) + " from _incoming"
    ).fetchone()
    return {c.name for c, has in zip(present, counts, strict=True) if has}


def _as_enum(con: duckdb.DuckDBPyConnection, type_name: str, cast: str) -> str:
    """``cast`` as an ENUM of its distinct values, unless there are too many for one to pay."""
    n = con.execute(f"select count(distinct {cast}) from _incoming").fetchone()[0]
    if n == 0 or n > _MAX_ENUM_VALUES:
        return cast
    con.execute(
        f'create type "{type_name}" as enum'
        f" (select distinct {cast} as v from _incoming where {cast} is not null order by v)"
    )
    return f'{cast}::"{type_name}"'


def _cast_sql(column: model.Column, source_type: str | None) -> str:
    """SQL turning the adapter's column (of DuckDB type ``source_type``) into the model's type."""
    target = model.duckdb_type_of(column.kind)
    if source_type is None:
        return f"null::{target}"
    c = f'"{column.name}"'
    text = source_type == "VARCHAR"
    if column.kind == "time":
        if text:
            # Naive text is read in the session's time zone, UTC; offsets are honoured.
            return f"try_cast({c} as timestamptz)::timestamp"
        if source_type.startswith(("TIMESTAMP", "DATE")):
            return f"{c}::timestamp"  # TIMESTAMPTZ in a UTC session becomes naive UTC
        # An all-NULL column arrives as a number type; epoch numbers are the adapter's to convert.
        return f"try_cast({c}::varchar as timestamptz)::timestamp"
    if column.kind == "int":
        if text:
            return f"coalesce(try_cast({c} as bigint), try_cast(try_cast({c} as double) as bigint))"
        return f"try_cast({c} as bigint)"
    if column.kind == "float":
        value = f"try_cast({c} as double)"
        return f"case when isfinite({value}) then {value} end"  # NaN and ±inf are missing
    if column.kind == "bool":
        return f"try_cast({c} as boolean)"
    if column.kind == "text_list":
        return f"({model.json_list_sql(c)})" if text else f"try_cast({c} as varchar[])"
    return c if text else f"{c}::varchar"


def _create_calls_with_costs(con: duckdb.DuckDBPyConnection, cast_rows: str) -> None:
    """llm_calls from the cast rows: recorded cost as is, else a genai-prices estimate, else unknown."""
    needed = con.execute(
        f"select distinct model, ts::date as day from ({cast_rows})"
        " where cost_usd is null and model is not null and ts is not null"
        " and tokens_in is not null and tokens_out is not null"
    ).fetchall()
    con.register("_prices", price_table(needed))
    try:
        con.execute(f"""
            create table _llm_calls as
            select c.* replace (
                coalesce(c.cost_usd,
                         c.tokens_in * p.usd_in + c.tokens_out * p.usd_out + p.usd_call) as cost_usd,
                (case when c.cost_usd is not null then 'recorded'
                     when p.model is not null then 'estimated'
                     else 'unknown' end)::cost_source_enum as cost_source)
            from ({cast_rows}) c
            left join _prices p
              on c.cost_usd is null and p.model = c.model and p.day = c.ts::date
             and c.tokens_in > p.above_tokens_in and c.tokens_in <= p.up_to_tokens_in
             and c.tokens_out is not null
        """)
    finally:
        con.unregister("_prices")


def _fill_agents(con: duckdb.DuckDBPyConnection) -> None:
    """Sources without an agent table still have agents: list the ones their rows name."""
    if con.execute("select count(*) from agents").fetchone()[0]:
        return
    named = " union ".join(
        f'select agent from "{t}" where agent is not null'
        for t, cols in model.TABLES.items()
        if t not in ("agents", "thresholds") and any(c.name == "agent" for c in cols)
    )
    con.execute(f"insert into _agents (agent) select agent from ({named}) order by agent")


def typed_result(frame: pd.DataFrame, stmt: sa.Executable) -> pd.DataFrame:
    """Give integer result columns a nullable integer dtype, so a missing count stays NA."""
    for col in getattr(stmt, "selected_columns", ()):
        if col.name not in frame.columns:
            continue
        if isinstance(col.type, sa.Integer) and frame[col.name].dtype != "Int64":
            frame[col.name] = frame[col.name].astype("Int64")  # the database's integers: exact
        elif isinstance(col.type, sa.Double) and frame[col.name].dtype != "float64":
            frame[col.name] = frame[col.name].astype("float64")
    return frame


def utc_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Mark naive result times as UTC: the store holds UTC, and callers should not have to know."""
    for col in frame.columns:
        if pd.api.types.is_datetime64_dtype(frame[col].dtype):
            frame[col] = frame[col].dt.tz_localize("UTC")
        elif isinstance(frame[col].dtype, pd.CategoricalDtype):  # an ENUM column: callers get text
            frame[col] = frame[col].astype("string")
    return frame
