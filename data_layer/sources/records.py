"""Record readers: an export file becomes a DuckDB table ``raw``, one row per record.

Nested objects are kept as structs, so field matching (``fields.py``) can walk them. The readers
are shared: the export adapter reads any JSON, JSON-lines, CSV or Parquet file with them, and the
OTLP and Phoenix readers use the same scratch connection, cut-line detection and messages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from data_layer.errors import BadExport, SourceTooLarge
from data_layer.report import MAX_LINES, ReadingReport
from data_layer.sources.fields import TELLING, find_fields, ident, leaves
from data_layer.sources.files import shown_name

# An object file holding its records under one of these keys is unwrapped.
_WRAPPER_KEYS = ("data", "events", "records", "items", "calls", "spans", "results", "rows", "logs")


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB to read a file in: its own scratch space, never a source."""
    con = duckdb.connect(":memory:", config={"threads": 2})
    con.execute("set TimeZone = 'UTC'")  # naive times in the file are UTC, and parse as such
    con.execute("set enable_progress_bar = false")  # a slow query's bar would land in the CLI's JSON
    return con


def arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """A query's rows as Arrow: the store scans it without a copy (pandas would cost seconds at 10M)."""
    return con.sql(sql).to_arrow_table()


# read_json options: scan every record for the types (a sample misses late keys and types), keep
# objects as structs however many keys they have, and allow one record as large as the file.
_READ_JSONL = """
    create table raw as select * from read_json(
        $path, format := 'newline_delimited', ignore_errors := $skip_bad,
        sample_size := -1, map_inference_threshold := -1, maximum_object_size := $max_object)
"""
_READ_JSON = """
    create table raw as select * from read_json(
        $path, format := 'auto', sample_size := -1, map_inference_threshold := -1,
        maximum_object_size := $max_object)
"""


def read_file(
    con: duckdb.DuckDBPyConnection, path: Path, kind: str, report: ReadingReport
) -> tuple[str, list[str]]:
    """Load the file into table ``raw``, one row per record. Returns a name for its records and notes;
    records left out (a cut last line, an empty ``{}``) are counted in ``report``."""
    name = shown_name(path)
    try:
        if kind in ("json", "jsonl"):
            notes = _read_jsonl(con, path, report) if kind == "jsonl" else _read_json(con, path)
            return _unwrap(con, path, notes)
        if kind == "csv":
            con.execute(
                "create table raw as select * from read_csv(?, header = true, sample_size = -1)", [str(path)]
            )
        elif kind == "parquet":
            # A view: DuckDB reads the Parquet columns it needs when it needs them, no copy.
            con.execute(f"create view raw as select * from read_parquet({_sql_string(path)})")  # noqa: S608
        else:
            raise ValueError(f"not a file kind this adapter reads: {kind}")
    except duckdb.OutOfMemoryException as err:
        raise SourceTooLarge(
            f"{name} does not fit in memory ({detail(err)}). Upload a smaller export, or point Agentwatch"
            " at the database."
        ) from err
    except duckdb.Error as err:
        raise unreadable(name, kind, err) from err
    return "records", []


def _sql_string(path: Path) -> str:
    """A path as a SQL string literal (views cannot take parameters); quotes are doubled."""
    return "'" + str(path).replace("'", "''") + "'"


def max_object_size(path: Path) -> int:
    return min(path.stat().st_size + 1, 2**32 - 1)


def _read_jsonl(con: duckdb.DuckDBPyConnection, path: Path, report: ReadingReport) -> list[str]:
    """JSON lines; a last line cut short (a write still going on, or a truncated copy) is skipped."""
    params = {"path": str(path), "max_object": max_object_size(path), "skip_bad": False}
    try:
        con.execute(_READ_JSONL, params)
        return []
    except duckdb.InvalidInputException as err:
        if not (last_line_is_cut(path) and bad_lines(con, path) == 1):
            raise
        cut = err
    con.execute(_READ_JSONL, {**params, "skip_bad": True})
    # The cut line comes back as a row of NULLs; a line that was {} carried nothing either.
    empty = " and ".join(f"{ident(c)} is null" for c in con.table("raw").columns)
    removed = con.execute(f"delete from raw where {empty}").fetchall()[0][0]  # noqa: S608 (quoted identifiers)
    if con.execute("select count(*) from raw").fetchall()[0][0] == 0:
        raise cut  # nothing but the cut line: that is a broken file, not a partial one
    report.skip(CUT_LAST_LINE, 1, [last_line_number(path)])
    report.skip("empty record ({})", removed - 1)
    return ["The last line of the file was cut off (an export still being written?) and was skipped."]


CUT_LAST_LINE = "cut last line"
NOT_JSON = "line not JSON"


def last_line_number(path: Path) -> int:
    """The number of the file's last non-blank line, counted in chunks (a cut file may be large)."""
    newlines, tail = 0, b""
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            newlines += chunk.count(b"\n")
            tail = (tail + chunk)[-4096:]
    trailing = len(tail) - len(tail.rstrip())
    return newlines - tail[len(tail) - trailing :].count(b"\n") + 1


def unreadable_lines(path: Path, limit: int = MAX_LINES) -> list[int]:
    """The numbers of the first non-blank lines that are not JSON. Only called when DuckDB found some."""
    found = []
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                json.loads(line)
            except ValueError:
                found.append(number)
                if len(found) >= limit:
                    break
    return found


def count_unreadable(report: ReadingReport, path: Path, unreadable: int) -> None:
    """Count lines that are not JSON in ``report``, the cut last line apart, with their numbers."""
    if not unreadable:
        return
    lines = unreadable_lines(path)
    if last_line_is_cut(path):
        last = last_line_number(path)
        report.skip(CUT_LAST_LINE, 1, [last])
        unreadable -= 1
        lines = [n for n in lines if n != last]
    report.skip(NOT_JSON, unreadable, lines)


def bad_lines(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    return con.execute(
        "select count(*) filter (json is null) from read_json_objects(?, format := 'newline_delimited',"
        " ignore_errors := true, maximum_object_size := ?)",
        [str(path), max_object_size(path)],
    ).fetchall()[0][0]


def last_line_is_cut(path: Path) -> bool:
    """Whether the last non-blank line is unfinished JSON. Reads only the file's tail."""
    size = path.stat().st_size
    tail_bytes = 64 * 1024
    with path.open("rb") as f:
        while True:
            start = max(0, size - tail_bytes)
            f.seek(start)
            tail = f.read().rstrip()
            newline = tail.rfind(b"\n")
            if newline >= 0 or start == 0:
                break
            tail_bytes *= 4
    try:
        line = tail[newline + 1 :].decode("utf-8")
    except UnicodeDecodeError:
        return False  # a wrong encoding, not a cut line
    return _is_unfinished(line)


def _is_unfinished(line: str) -> bool:
    """Whether a line is the start of a JSON value cut short, rather than malformed JSON."""
    try:
        json.loads(line)
    except json.JSONDecodeError as err:
        rest = line[err.pos :]  # where parsing stopped: a cut line stops at its end, in a token
        return (
            err.msg.startswith("Unterminated string")
            or any(word.startswith(rest) for word in ("true", "false", "null"))
            or re.fullmatch(r"[-+.\deE]*", rest) is not None
        )
    return False


def _read_json(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """An array of records, or one object (which may hold the records under a key)."""
    con.execute(_READ_JSON, {"path": str(path), "max_object": max_object_size(path)})
    return []


def _unwrap(con: duckdb.DuckDBPyConnection, path: Path, notes: list[str]) -> tuple[str, list[str]]:
    """Replace a one-object file by the records it holds under a key like data, events or records.

    A one-line object sniffs as JSON-lines, so both kinds come through here. An array is never
    unwrapped: a one-record array's list (its messages, say) is part of that record.
    """
    key = None if _starts_with(path, b"[") else _wrapper_key(con)
    if key is None:
        return "records", notes
    con.execute(
        f"create or replace table raw as select unnest(r.{ident(key)}, max_depth := 2) from raw r"  # noqa: S608
    )
    return key, [*notes, f"The records were read from the file's {key!r} list."]


def _wrapper_key(con: duckdb.DuckDBPyConnection) -> str | None:
    """The key of the list of records in a one-object file: a known name first, else the only list."""
    if con.execute("select count(*) from raw").fetchall()[0][0] != 1:
        return None
    rel = con.table("raw")
    lists = [
        name
        for name, typ in zip(rel.columns, rel.types, strict=True)
        if typ.id == "list" and typ.child.id == "struct"
    ]
    known = [name for name in lists if name.lower() in _WRAPPER_KEYS]
    if known:
        return min(known, key=lambda name: _WRAPPER_KEYS.index(name.lower()))
    is_record = any(name in find_fields(leaves(con, "raw")) for name in TELLING)
    return lists[0] if len(lists) == 1 and not is_record else None


def _starts_with(path: Path, char: bytes) -> bool:
    with path.open("rb") as f:
        return f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(char)


def unreadable(name: str, kind: str, err: duckdb.Error) -> BadExport:
    """The user's fix depends on what DuckDB tripped on: the encoding, a cut, or bad syntax."""
    full = str(err).lower()
    if "utf-8" in full or "unicode" in full:
        return BadExport(
            f"{name} is not UTF-8 text ({detail(err)}; Latin-1 or another legacy encoding?)."
            " Save it as UTF-8 and upload it again."
        )
    if "end of data" in full or "unexpected end" in full:
        return BadExport(
            f"{name} ends in the middle of a record ({detail(err)}). The file was cut off: export or"
            " download it again."
        )
    return BadExport(
        f"Cannot read {name} as {kind.upper()} ({detail(err)}). Check that it is a complete {kind.upper()}"
        " export, or export it again."
    )


def detail(err: BaseException) -> str:
    """DuckDB's first line, without its error class or our temporary file's path."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    text = re.sub(r"^[A-Za-z ]*Error: ", "", text)
    text = re.sub(r'\s*in file "[^"]*",?', "", text)
    # Any other quoted absolute path (Parquet says "at end of file '/tmp/...'"): the server's
    # folders are nobody's business, and the user knows which file they gave.
    text = re.sub(r"""\s*(['"])(?:/|[A-Za-z]:\\)[^'"]*\1""", "", text)
    return text.strip().rstrip(".")[:200]


def json_objects(
    con: duckdb.DuckDBPyConnection, path: Path, kind: str, report: ReadingReport, table: str, columns: str
) -> list[str]:
    """Table ``table`` of ``columns`` over the file's JSON objects, one a row (the column ``json``).

    A JSON-lines file whose only bad line is a cut last one loads its complete lines and counts
    the cut one in the report; any other unreadable file is a ``BadExport``. ``table`` and
    ``columns`` are the callers' constants, never text from a file.
    """
    fmt = "newline_delimited" if kind == "jsonl" else "auto"
    sql = (
        f"create or replace table {table} as select {columns}"  # noqa: S608
        " from read_json_objects(?, format := ?, ignore_errors := ?, maximum_object_size := ?)"
        " where json is not null"
    )
    params = [str(path), fmt, False, max_object_size(path)]
    try:
        con.execute(sql, params)
        return []
    except duckdb.Error as err:
        if not (kind == "jsonl" and last_line_is_cut(path) and bad_lines(con, path) == 1):
            raise unreadable(shown_name(path), kind, err) from err
    con.execute(sql, [*params[:2], True, params[3]])
    report.skip(CUT_LAST_LINE, 1, [last_line_number(path)])
    return ["The last line of the file was cut off (a file still being written?); its spans were skipped."]
