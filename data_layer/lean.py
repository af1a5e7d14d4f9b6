"""A store of only the model columns a few figures need: what ``summarize`` loads.

The app's store (``Store.build``) keeps every column, holds text as ENUMs and builds the
rollups, so that each of many page queries is fast. A command that asks a handful of aggregates
once pays for all of that and uses none of it: at a million calls the prompts and responses
alone are most of the bytes read. Here each model table keeps only the columns asked for, cast
by the same rules (``data_layer.casts``) and with the same cost estimates (``pricing``), and
no ENUMs. The rollups are still built (a fraction of a second): a sum of a million float
costs depends on the order it adds in, and summed through the rollups, as the store does, the
figures agree with the app's to the last digit rather than to 1e-10.

A column left out is not in the table at all: a query that reads one fails loudly rather than
seeing missing values.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from data_layer import model, pricing
from data_layer.casts import model_column
from data_layer.store import SourceInfo, Store, agents_named
from data_layer.tables import MODEL, ROLLUP_DDL, literal_sql
from data_layer.time_order import in_stored_order


def build(telemetry: model.Telemetry, info: SourceInfo, columns: Mapping[str, Collection[str]]) -> Store:
    """A store over ``telemetry`` holding, per model table, only ``columns[table]``."""
    con = duckdb.connect(":memory:", config={"threads": 2})
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    for name, cols in model.TABLES.items():
        kept = [c for c in cols if c.name in columns.get(name, ())]
        frame = model.materialize(telemetry.tables[name])
        if isinstance(frame, pa.RecordBatchReader):  # a stream is read once; these few columns fit
            frame = frame.read_all()
        # In the store's order, time, so that sums and means add up alike to the last digit.
        _create(con, name, frame, kept)
        telemetry.tables[name] = model.empty(name)  # free the adapter's copy as we go
    if not con.execute("select count(*) from agents").fetchone()[0]:  # the store's rule
        named = agents_named(MODEL)
        con.execute(f"insert into agents (agent) {literal_sql(named.order_by(named.selected_columns.agent))}")
    for ddl in ROLLUP_DDL.values():  # the sums add up in the store's order: the same last digit
        con.execute(literal_sql(ddl))
    return Store(con, info)


def _create(con: duckdb.DuckDBPyConnection, name: str, frame: model.Frame, cols: list[model.Column]) -> None:
    """The model table ``name`` with columns ``cols`` (a row count alone when there are none), in
    the store's order (``time_order``)."""
    con.register("_incoming", frame)
    try:
        types = dict(con.execute("select column_name, column_type from (describe _incoming)").fetchall())
        incoming = sa.table("_incoming", *(sa.column(c) for c in types))
        casts = [model_column(incoming, c, types).label(c.name) for c in cols]
        rows = sa.select(*casts or [sa.literal(1).label("_row")]).select_from(incoming)
        if name == "llm_calls":
            rows = _with_costs(con, rows.subquery("c"))
        con.execute(literal_sql(sa.CreateTableAs(in_stored_order(rows), name)))
    finally:
        con.unregister("_incoming")
        if name == "llm_calls":
            con.unregister("_prices")


def _with_costs(con: duckdb.DuckDBPyConnection, calls: sa.Subquery) -> sa.Select:
    """The calls with the store's cost rule (``pricing.with_costs``), cost_source as text."""
    pairs = con.execute(literal_sql(pricing.unpriced(calls))).fetchall()
    con.register("_prices", pricing.price_table(pairs))  # read by the CREATE that follows
    return pricing.with_costs(calls, pricing.price_table_clause("_prices"), enum=False)
