"""Which SQL a notebook cell may run: one query over the model's tables, checked by DuckDB's parser.

A cell's SQL is code typed by whoever can reach the app, so it is checked before it runs and
then runs where little can go wrong anyway (``runner.py``: a locked-down database of its own;
for PostgreSQL a read-only transaction with a statement timeout). This module is the first of
those layers: the statement must parse as exactly one SELECT, may read only the model's tables
(and its own CTEs), and may not call a function that reads files, reaches the network, runs SQL
from a string, or administers the server. DuckDB's advice is to treat SQL as code: the runtime
settings are the defence, this check is what gives a user a clear sentence instead of an
engine's error.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb

from data_layer import model
from data_layer.errors import AgentwatchError

DUCKDB = "duckdb"
POSTGRES = "postgresql"

# Table functions a cell may read from, besides the model's tables.
_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest", "generate_subscripts"})

# Functions that read or write files, reach the network, run SQL held in a string, or administer
# a server. Matched on the name in lower case; the prefixes catch families (read_csv_auto...).
_DENIED_PREFIXES = (
    "read_", "write_", "parquet_", "sqlite_", "postgres_", "mysql_", "iceberg_", "delta_",
    "glob", "http", "pg_read", "pg_ls", "pg_stat_file", "pg_file", "pg_terminate", "pg_cancel",
    "pg_reload", "pg_rotate", "pg_promote", "pg_switch", "pg_create", "pg_drop", "pg_advisory",
    "pg_logical", "pg_replication", "pg_backup", "pg_start", "pg_stop", "pg_import", "pg_export",
    "lo_", "dblink", "duckdb_secret", "load_", "install_",
)  # fmt: skip
_DENIED = frozenset({
    "query", "query_table", "getenv", "sniff_csv", "arrow_scan", "pandas_scan", "python_map_function",
    "checkpoint", "force_checkpoint", "set_config", "current_setting", "which_secret", "copy",
    "query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema", "cursor_to_xml",
    "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema", "schema_to_xml",
    "database_to_xml", "xpath", "xpath_exists", "pg_sleep_until", "txid_current", "nextval", "setval",
    "enable_profiling", "disable_profiling", "enable_logging", "truncate_duckdb_logs",
})  # fmt: skip
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_MAX_SQL_CHARS = 50_000


class CellRefused(AgentwatchError):
    """A cell's SQL is not a single query over the model's tables; nothing was run."""


@dataclass(frozen=True)
class CheckedQuery:
    """A statement that passed the check: its text without a trailing semicolon, the model
    tables it reads and the names it reads columns by (so the runner provides only those).
    """

    sql: str
    tables: frozenset[str]
    names: frozenset[str] | None = None
    """Every part of every column reference, in lower case (``c.ts`` gives ``c`` and ``ts``), and
    the columns of ``USING``; None when the query may read a column it does not name (``_names``)."""


_parser_local = threading.local()


def _parser() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that only ever parses, one per thread (connections are not shared)."""
    con = getattr(_parser_local, "con", None)
    if con is None:
        con = duckdb.connect(":memory:", config={"threads": 1, "enable_external_access": False})
        _parser_local.con = con
    return con


def check(sql: str, dialect: str = DUCKDB) -> CheckedQuery:
    """The cell's statement if it is one SELECT over the model's tables; else ``CellRefused``.

    ``dialect`` picks the list of server functions refused on top of DuckDB's (PostgreSQL's
    administration functions); the grammar is DuckDB's, which descends from PostgreSQL's.
    """
    text = (sql or "").strip()
    if not text:
        raise CellRefused("This cell is empty. Write a SELECT over the model's tables.")
    if len(text) > _MAX_SQL_CHARS:
        raise CellRefused(f"This cell's SQL is {len(text):,} characters; the limit is {_MAX_SQL_CHARS:,}.")
    con = _parser()
    try:
        statements = con.extract_statements(text)
    except duckdb.Error as err:
        raise CellRefused(f"Syntax error: {_first_line(err)}") from err
    if len(statements) != 1:
        raise CellRefused(
            f"A cell runs one statement; this one has {len(statements)}. Put each query in its own cell."
        )
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        name = str(kind).rsplit(".", 1)[-1].replace("_STATEMENT", "")
        raise CellRefused(f"Only queries (SELECT) run in a cell, not {name}. Nothing was run.")
    query = statements[0].query.strip().rstrip(";").strip()
    tree = json.loads(con.execute("select json_serialize_sql($1)", [query]).fetchone()[0])
    if tree.get("error"):
        raise CellRefused(
            "This kind of statement (DESCRIBE, SUMMARIZE, SHOW, PIVOT) cannot be checked, so it does not"
            " run in a cell. Write it as a SELECT; the schema panel lists every table and column."
        )
    ctes = {name.lower() for node in _nodes(tree) for name in _cte_names(node)}
    tables: set[str] = set()
    for node in _nodes(tree):
        if node.get("type") == "BASE_TABLE":
            tables.add(_table_ref(node, ctes))
        elif node.get("class") == "FUNCTION" or node.get("type") == "TABLE_FUNCTION":
            _check_function(node, dialect)
        elif node.get("class") == "CONSTANT":
            value = (node.get("value") or node.get("literal") or {}).get("text") or ""
            if isinstance(value, str) and _URL.match(value):
                raise CellRefused("Cells cannot reach the network; remove the URL. Nothing was run.")
    return CheckedQuery(
        sql=query, tables=frozenset(t for t in tables if t in model.TABLES), names=_names(tree)
    )


def _names(tree: dict) -> frozenset[str] | None:
    """The names the query reads columns by, or None when it may read columns it does not name:
    ``*`` and ``COLUMNS(...)`` (both a star to the parser), a position (``#1``), a NATURAL join,
    a PIVOT or UNPIVOT (they group by the columns they do not name), or a table's whole row as a
    value (``select c from llm_calls c``).

    A table given only the columns of these names answers the query as the whole table would:
    each name is kept in every table that has it, so a name binds where it bound before (or is
    as ambiguous as before), and the rows are the same rows.
    """
    names: set[str] = set()
    bare: set[str] = set()  # one-part references: a column, or a table's whole row
    tables: set[str] = set()  # the names and aliases of the tables read
    for node in _nodes(tree):
        if (
            node.get("class") in ("STAR", "POSITIONAL_REFERENCE")
            or node.get("type") == "PIVOT"
            or node.get("ref_type") == "NATURAL"
        ):
            return None
        if node.get("class") == "COLUMN_REF":
            parts = [str(part).lower() for part in node.get("column_names") or []]
            names.update(parts)
            bare.update(parts[:1] if len(parts) == 1 else [])
        elif node.get("type") == "BASE_TABLE":
            tables.update(str(node[key]).lower() for key in ("table_name", "alias") if node.get(key))
        names.update(str(column).lower() for column in node.get("using_columns") or [])
    return None if bare & tables else frozenset(names)


def _table_ref(node: dict, ctes: set[str]) -> str:
    name = str(node.get("table_name") or "")
    schema = str(node.get("schema_name") or "")
    catalog = str(node.get("catalog_name") or "")
    if _URL.match(name) or "/" in name or "." in name:
        raise CellRefused(
            f"Cells cannot read files or URLs ({_short(name)}). Read the model's tables, e.g. llm_calls."
        )
    if (schema or catalog) or (name.lower() not in model.TABLES and name.lower() not in ctes):
        shown = ".".join(p for p in (catalog, schema, name) if p)
        raise CellRefused(
            f"Unknown table {_short(shown)}. Cells read the model's tables: {', '.join(model.TABLES)}."
        )
    return name.lower()


def _check_function(node: dict, dialect: str) -> None:
    inner = node.get("function") if node.get("type") == "TABLE_FUNCTION" else node
    name = str((inner or {}).get("function_name") or "").lower()
    schema = str((inner or {}).get("schema") or "").lower()
    if node.get("type") == "TABLE_FUNCTION" and name not in _TABLE_FUNCTIONS:
        raise CellRefused(
            f"Table function {_short(name)}() is not available in a cell. Read the model's tables,"
            f" or use {', '.join(sorted(_TABLE_FUNCTIONS))}."
        )
    if name in _DENIED or name.startswith(_DENIED_PREFIXES) or schema not in ("", "main", "pg_catalog"):
        raise CellRefused(
            f"Function {_short(name)}() is not allowed in a cell: it reads files, reaches the network,"
            " runs other SQL or changes the server. Nothing was run."
        )
    if dialect == POSTGRES and name.startswith("pg_") and name not in ("pg_typeof",):
        raise CellRefused(f"Server function {_short(name)}() is not allowed in a cell. Nothing was run.")


def _nodes(value: object) -> Iterator[dict]:
    """Every JSON object in the parse tree, depth first."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _cte_names(node: dict) -> list[str]:
    cte_map = node.get("cte_map")
    if not isinstance(cte_map, dict):
        return []
    return [str(entry.get("key")) for entry in cte_map.get("map") or [] if isinstance(entry, dict)]


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return _short(lines[0] if lines else type(err).__name__, 200)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
