"""Helpers for adapters whose mapping needs PostgreSQL's own SQL (jsonb, arrays, recursion).

A SELECT written as text names the source's tables schema-qualified, as ``Database.table`` does:
pushed-down queries name the model's tables (``agents``, ``metrics``) as CTEs, and a source
table of the same name must not be mistaken for them. The JSON macros mirror the DuckDB ones
the loaders use on fetched frames, so both read a JSON value the same way: a value counts only
when it has the expected JSON type.
"""

from __future__ import annotations

import sqlalchemy as sa

from data_layer.sources.database import Database

# Text that DuckDB's try_cast(... as double) reads as a finite number.
_NUMBER_TEXT = r"'^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'"


def table(db: Database, name: str) -> str:
    """The source table's name, schema-qualified and quoted, for a SELECT written as text."""
    clause = db.table(name)
    quote = db.engine.dialect.identifier_preparer.quote
    return f"{quote(clause.schema)}.{quote(name)}" if clause.schema else quote(name)


def column(db: Database, name: str, alias: str, column_name: str) -> str:
    """``alias.column`` if the source table has the column, else NULL (an optional column)."""
    quote = db.engine.dialect.identifier_preparer.quote
    return f"{alias}.{quote(column_name)}" if column_name in db.columns(name) else "null"


def as_object(value: str) -> str:
    """The value as jsonb when it is a JSON object, else NULL."""
    return f"(case when jsonb_typeof(({value})::jsonb) = 'object' then ({value})::jsonb end)"


def json_text(j: str, *path: str) -> str:
    """A JSON string at the path, trimmed; empty or any other JSON type is NULL."""
    at = f"jsonb_extract_path({j}, {', '.join(repr(p) for p in path)})"
    return f"(case when jsonb_typeof({at}) = 'string' then nullif(trim({at} #>> '{{}}'), '') end)"


def json_number(j: str, *path: str) -> str:
    """A JSON number at the path, or a string holding one; anything else is NULL."""
    at = f"jsonb_extract_path({j}, {', '.join(repr(p) for p in path)})"
    return (
        f"(case when jsonb_typeof({at}) = 'number' then ({at} #>> '{{}}')::float8"
        f" when jsonb_typeof({at}) = 'string' and ({at} #>> '{{}}') ~ {_NUMBER_TEXT}"
        f" then ({at} #>> '{{}}')::float8 end)"
    )


def select(sql: str, **columns: sa.types.TypeEngine) -> sa.TextualSelect:
    """A SELECT written as text, with its result columns typed for the model's casts."""
    return sa.text(sql).columns(*(sa.column(name, kind) for name, kind in columns.items()))
