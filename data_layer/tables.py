"""SQLAlchemy descriptions of the model tables, so one query definition runs on DuckDB and PostgreSQL.

Queries are built with SQLAlchemy Core over these tables and compiled with the PostgreSQL
dialect. DuckDB accepts that SQL (``$n`` parameters, ``percentile_cont ... within group``,
``filter (where ...)``), and PostgreSQL runs it as is when queries are pushed down to a source.
Values are always bound parameters; only identifiers from this module reach SQL text.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from data_layer import model

SA_TYPES: dict[str, sa.types.TypeEngine] = {
    "text": sa.String(),
    "time": sa.DateTime(),  # naive, holding UTC (see data_layer.casts)
    "int": sa.BigInteger(),
    "float": sa.Double(),
    "bool": sa.Boolean(),
    "text_list": sa.ARRAY(sa.String()),
}
"""The SQL type of each column kind, in every database the model lives in."""


def _table(name: str, cols: list[tuple[str, Any]]) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, t) for c, t in cols))


MODEL: dict[str, sa.TableClause] = {
    name: _table(name, [(c.name, SA_TYPES[c.kind]) for c in cols]) for name, cols in model.TABLES.items()
}


def _count(what: sa.ColumnElement | None = None) -> sa.ColumnElement:
    return sa.cast(sa.func.count() if what is None else sa.func.count(what), sa.BigInteger)


_calls, _tools = MODEL["llm_calls"].c, MODEL["tool_calls"].c

# What is rolled up: per model table, the dimensions kept and the additive measures. A count
# beside each sum says how many rows had a value, so "missing" survives the rollup.
# Percentiles never read rollups.
_ROLLED_UP: dict[str, tuple[tuple[str, ...], dict[str, sa.ColumnElement]]] = {
    "llm_calls": (
        ("agent", "model", "cost_source", "status"),
        {
            "calls": _count(),
            "tokens_in": sa.cast(sa.func.sum(_calls.tokens_in), sa.BigInteger),
            "calls_with_tokens_in": _count(_calls.tokens_in),
            "tokens_out": sa.cast(sa.func.sum(_calls.tokens_out), sa.BigInteger),
            "calls_with_tokens_out": _count(_calls.tokens_out),
            "cost_usd": sa.func.sum(_calls.cost_usd),
            "calls_with_cost": _count(_calls.cost_usd),
            "latency_ms_sum": sa.func.sum(_calls.latency_ms),
            "calls_with_latency": _count(_calls.latency_ms),
        },
    ),
    "tool_calls": (
        ("agent", "tool"),
        {
            "calls": _count(),
            "failures": sa.cast(sa.func.count().filter(_tools.success == sa.false()), sa.BigInteger),
            "calls_with_outcome": _count(_tools.success),
            "latency_ms_sum": sa.func.sum(_tools.latency_ms),
            "calls_with_latency": _count(_tools.latency_ms),
        },
    ),
}


def _rollup(
    source: sa.TableClause,
    time: str,
    grain: str,
    dims: tuple[str, ...],
    measures: dict[str, sa.ColumnElement],
) -> sa.Select:
    """One row per (``grain``, dims...) of ``source``, ordered by time so that zone maps skip
    the rest of a range; ``measures`` are the aggregates of ``source``'s rows."""
    at = sa.func.date_trunc(sa.literal_column(f"'{grain}'"), source.c[time], type_=sa.DateTime).label(grain)
    keys = [at, *(source.c[d] for d in dims)]
    return (
        sa.select(*keys, *(expr.label(name) for name, expr in measures.items())).group_by(*keys).order_by(at)
    )


def _hourly(source: str) -> sa.Select:
    """One row per (hour, dims...) of a model table."""
    dims, measures = _ROLLED_UP[source]
    return _rollup(MODEL[source], "ts", "hour", dims, measures)


def _daily(source: str, hourly: sa.TableClause) -> sa.Select:
    """One row per (UTC day, dims...): the sum of the ``hourly`` rollup's rows of that day, each
    measure in its hourly type. Summed from the hourly table, a fraction of the raw rows (a
    day's row is exactly its hours' rows added up), for the pages that bucket by day or not at
    all: ~20x fewer rows to read again."""
    dims, measures = _ROLLED_UP[source]
    sums = {name: sa.cast(sa.func.sum(hourly.c[name]), expr.type) for name, expr in measures.items()}
    return _rollup(hourly, "hour", "day", dims, sums)


# The rollups, hourly ones first: a daily rollup is created from its hourly table. The store
# creates each table from its statement; the queries read the table it describes.
_HOURLY = {f"{s}_hourly": sa.CreateTableAs(_hourly(s), f"{s}_hourly") for s in _ROLLED_UP}
_DAILY = {
    f"{s}_daily": sa.CreateTableAs(_daily(s, _HOURLY[f"{s}_hourly"].table), f"{s}_daily") for s in _ROLLED_UP
}
ROLLUP_DDL: dict[str, sa.CreateTableAs] = {**_HOURLY, **_DAILY}
ROLLUPS: dict[str, sa.TableClause] = {name: ddl.table for name, ddl in ROLLUP_DDL.items()}
ROLLUPS_OF: dict[str, list[str]] = {s: [f"{s}_hourly", f"{s}_daily"] for s in _ROLLED_UP}
"""Model table -> its rollups, in the order they are built (each reads the one before)."""
ROLLUP_READS: dict[str, tuple[sa.TableClause, str]] = {
    **{f"{s}_hourly": (MODEL[s], "ts") for s in _ROLLED_UP},
    **{f"{s}_daily": (_HOURLY[f"{s}_hourly"].table, "hour") for s in _ROLLED_UP},
}
"""Rollup -> the table its statement sums and that table's time column."""

_DIALECT = postgresql.dialect(paramstyle="numeric_dollar")


_COMPILED: dict = {}  # SQLAlchemy's own cache of compiled statements, by statement shape
_COMPILED_MAX = 4000


def compile_statement(stmt: sa.Executable) -> tuple[str, list[Any]]:
    """SQL text with ``$n`` placeholders and the values to bind, in order, for DuckDB.

    A page's dozen queries differ from one rerun to the next only in their values, so the
    compiled form is cached by shape (SQLAlchemy's cache key, as its engines do): compiling a
    union of rollup and raw rows costs ~4 ms, reusing it ~0.05 ms.
    """
    if len(_COMPILED) > _COMPILED_MAX:
        _COMPILED.clear()
    compiled, extracted, *_ = stmt._compile_w_cache(
        _DIALECT, compiled_cache=_COMPILED, column_keys=[], for_executemany=False, schema_translate_map=None
    )
    state = compiled.construct_expanded_state(compiled.construct_params(extracted_parameters=extracted))
    return state.statement, [state.parameters[name] for name in state.positiontup or ()]


def literal_sql(stmt: sa.ClauseElement) -> str:
    """SQL text with the values written in, for DuckDB statements that take no parameters (DDL).
    Only for our own constants: user values are always bound (``compile_statement``)."""
    return str(stmt.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))
