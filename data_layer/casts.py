"""How a source's value becomes a model column of each kind, written once for every database.

The store (DuckDB) casts what an adapter hands over when it loads; pushdown (PostgreSQL) casts
the source's own columns in the common table expressions it sends. Both take their expressions
from ``to_model``, so a text time, a float that is not finite or a JSON list of terms means the
same thing whichever database holds the rows. Where the databases differ, ``to_model`` has one
branch per dialect.

The rules, per kind:

* ``time``: naive UTC ``TIMESTAMP``. Text is read with its offset, naive text as UTC (the session
  time zone); a ``TIMESTAMPTZ`` becomes its UTC time. Epoch numbers are the adapter's to convert.
* ``int``: ``BIGINT``; text holding a decimal ("12.0") is rounded.
* ``float``: ``DOUBLE``; NaN and ±infinity are not measurements: missing.
* ``bool``: ``BOOLEAN``.
* ``text_list``: a list of strings from a list, or from JSON text (an array, one string, an
  object's keys); text that is not JSON becomes a one-item list.
* ``text``: text.

DuckDB reads whatever an adapter produced, so values that do not parse become NULL
(``try_cast``); PostgreSQL reads typed source columns, where a plain cast cannot fail.
"""

from __future__ import annotations

from typing import Literal

import duckdb
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from data_layer import model
from data_layer.tables import SA_TYPES, literal_sql

Dialect = Literal["duckdb", "postgresql"]


class TryCast(sa.Cast):
    """DuckDB's ``try_cast(x as T)``: NULL where ``x`` does not convert, instead of an error."""

    inherit_cache = True


@compiles(TryCast)
def _try_cast(element: TryCast, compiler, **kw) -> str:
    return (
        f"try_cast({compiler.process(element.clause, **kw)} as {compiler.process(element.typeclause, **kw)})"
    )


def typed_null(kind: str) -> sa.ColumnElement:
    """A missing value of the kind's type (a column the source does not have)."""
    return sa.cast(sa.null(), SA_TYPES[kind])


# An ISO date, or date and time, with nothing after the seconds' fraction (at most microseconds).
_NAIVE_ISO = r"\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d{1,6})?)?)?"


def to_model(
    value: sa.ColumnElement, kind: str, dialect: Dialect, *, source_type: str | None = None
) -> sa.ColumnElement:
    """``value`` in the model's type for ``kind`` (see the module's rules).

    ``source_type`` is the DuckDB type of the incoming column (``VARCHAR``, ``TIMESTAMP WITH TIME
    ZONE``...), which decides how DuckDB parses it; PostgreSQL casts whatever the type.
    """
    target = SA_TYPES[kind]
    if dialect == "postgresql":
        if kind == "float":
            number = sa.cast(value, target)
            return sa.case((sa.func.abs(number) < float("inf"), number))
        if kind == "text_list":
            return _pg_text_list(value)
        return sa.cast(value, target)

    text = source_type == "VARCHAR"
    if kind == "time":
        if text:
            # Text without an offset or a zone is read as a TIMESTAMP directly: the same time in
            # the UTC session, at a third of the cost (the zone conversion is most of it).
            naive = sa.func.regexp_full_match(value, _NAIVE_ISO)
            aware = sa.cast(TryCast(value, sa.DateTime(timezone=True)), target)
            return sa.case((naive, TryCast(value, target)), else_=aware)
        if source_type is not None and source_type.startswith(("TIMESTAMP", "DATE")):
            return sa.cast(value, target)  # TIMESTAMPTZ in a UTC session becomes naive UTC
        # An all-NULL column arrives as a number type; epoch numbers are the adapter's to convert.
        return sa.cast(TryCast(sa.cast(value, sa.String()), sa.DateTime(timezone=True)), target)
    if kind == "int":
        if text:
            # DuckDB reads "12.5" as a BIGINT rounding half away from zero but 12.5 half to even:
            # text holding a whole number is cast as is (exact past 2**53), any other via DOUBLE.
            whole = sa.func.regexp_full_match(sa.func.trim(value), r"[+-]?\d+")
            via_double = TryCast(TryCast(value, sa.Double()), target)
            return sa.case((whole, TryCast(value, target)), else_=via_double)
        return TryCast(value, target)
    if kind == "float":
        number = TryCast(value, target)
        return sa.case((sa.func.isfinite(number), number))
    if kind == "bool":
        return TryCast(sa.func.trim(value) if text else value, target)
    if kind == "text_list":
        return duckdb_text_list(value) if text else TryCast(value, target)
    return value if text else sa.cast(value, target)


def duckdb_text_list(j: sa.ColumnElement) -> sa.ColumnElement:
    """A list of strings from JSON text in DuckDB: an array, one string, an object's keys; text
    that is not JSON becomes a one-item list. NULL stays NULL."""
    as_json = sa.cast(j, sa.JSON())
    kind = sa.func.json_type(as_json)
    cases = sa.case(
        (j.is_(None), sa.null()),
        (sa.not_(sa.func.json_valid(j)), sa.func.list_value(j)),
        (
            kind == sa.literal_column("'ARRAY'"),
            sa.func.from_json(as_json, sa.literal_column("'[\"VARCHAR\"]'")),
        ),
        (
            kind == sa.literal_column("'VARCHAR'"),
            sa.func.list_value(sa.func.json_extract_string(as_json, sa.literal_column("'$'"))),
        ),
        (kind == sa.literal_column("'OBJECT'"), sa.func.json_keys(as_json)),
        else_=sa.func.list_value(j),
    )
    return sa.type_coerce(cases, SA_TYPES["text_list"])


def _pg_text_list(value: sa.ColumnElement) -> sa.ColumnElement:
    """JSON text to text[] in PostgreSQL: an array's items, else the one value."""
    as_json = sa.cast(sa.cast(value, sa.String), sa.JSON)
    items = sa.func.json_array_elements_text(as_json).table_valued("value")
    array = sa.select(
        sa.func.coalesce(sa.func.array_agg(items.c.value), sa.literal([], sa.ARRAY(sa.String())))
    )
    single = sa.select(sa.func.array_agg(sa.cast(value, sa.String)))
    return sa.case(
        (value.is_(None), typed_null("text_list")),
        (sa.func.json_typeof(as_json) == "array", array.scalar_subquery()),
        else_=single.scalar_subquery(),
    )


def model_column(
    incoming: sa.TableClause, column: model.Column, source_types: dict[str, str]
) -> sa.ColumnElement:
    """``column`` of the model from the incoming table, whose DuckDB types are ``source_types``;
    a typed NULL where the incoming table does not have it."""
    if column.name not in source_types:
        return typed_null(column.kind)
    return to_model(incoming.c[column.name], column.kind, "duckdb", source_type=source_types[column.name])


def conform(table: str, frame: model.Frame) -> pd.DataFrame:
    """``frame`` with exactly the table's columns, in order, cast by the rules above and held in
    the model's pandas dtypes.

    The casts run in a DuckDB of their own, as the store's do, so a frame means the same here as
    in the store. Columns the frame does not have come back all-missing; extra ones are dropped,
    so an adapter cannot leak a source column (an API key, say) into the model by accident.
    """
    cols = model.TABLES[table]
    if isinstance(frame, pa.RecordBatchReader):  # read twice below; a stream reads once
        frame = frame.read_all()
    with duckdb.connect(":memory:", config={"threads": 1}) as con:
        con.execute("set TimeZone = 'UTC'")
        con.register("_incoming", frame)
        source_types = dict(
            con.execute("select column_name, column_type from (describe _incoming)").fetchall()
        )
        incoming = sa.table("_incoming", *(sa.column(c.name) for c in cols if c.name in source_types))
        _refuse_epoch_numbers(con, incoming, [c for c in cols if c.kind == "time"], source_types)
        rows = sa.select(*(model_column(incoming, c, source_types).label(c.name) for c in cols))
        result = con.sql(literal_sql(rows.select_from(incoming))).to_arrow_table()
    out = result.to_pandas(types_mapper=_pandas_dtype)
    for c in cols:
        if c.kind == "time":
            out[c.name] = out[c.name].dt.tz_localize("UTC").astype(model.PANDAS_DTYPES["time"])
    return out


_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL")  # fmt: skip


def _refuse_epoch_numbers(
    con: duckdb.DuckDBPyConnection, incoming: sa.TableClause, times: list, source_types: dict[str, str]
) -> None:
    """Numbers with values in a time column are a bug in the adapter, which alone knows their unit
    (s, ms, µs): refuse them rather than hand back missing times. An all-missing column may
    arrive as a number type; that one is simply missing."""
    numbers = [c.name for c in times if source_types.get(c.name, "").startswith(_NUMBER_TYPES)]
    if not numbers:
        return
    counts = con.execute(literal_sql(sa.select(*(sa.func.count(incoming.c[n]) for n in numbers)))).fetchall()[
        0
    ]
    if any(counts):
        raise TypeError("numeric timestamps must be converted by the adapter, which knows the unit")


def _pandas_dtype(arrow_type: pa.DataType) -> object:
    """The model's pandas dtype for a column DuckDB hands back (floats and times: pandas' own)."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return model.PANDAS_DTYPES["text"]
    if pa.types.is_int64(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    if pa.types.is_list(arrow_type):
        return model.PANDAS_DTYPES["text_list"]
    return None
