"""The export adapter: JSON, JSON-lines, CSV and Parquet files (or one SQLite table) of events or LLM calls.

The work is split in three steps, so other readers (OTLP, Phoenix) can reuse the first two:

1. *read* (``records.py``): a file or table becomes a DuckDB table ``raw``, one row per record,
   nested objects kept as structs; the database adapter registers a frame instead;
2. *find* (``fields.py``): every scalar reachable in a row is a ``Leaf`` with a dotted path, and
   ``find_fields`` picks the leaf for each telemetry field from the candidate names in ``FIELDS``;
3. *map* (here): ``telemetry_from_raw`` turns the found leaves into typed SQL, writes one mapped
   row per record and splits them into ``llm_calls`` (rows with a model or token counts),
   ``tool_calls`` (rows with a tool name and no model) and ``events`` (every other row with a time).

Everything runs in DuckDB; no Python loop touches a row.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd
import sqlalchemy as sa

from data_layer.errors import BadExport, UnknownSchema
from data_layer.model import Telemetry
from data_layer.report import ReadingReport
from data_layer.sources.adapter import Adapter
from data_layer.sources.database import Database, Progress
from data_layer.sources.fields import (
    CONTAINERS,
    FIELDS,
    LATENCY_UNITS,
    NEEDS,
    Leaf,
    Mapping,
    find_fields,
    ident,
    latency_scale,
    map_rows,
    norm,
    printable,
    row_columns,
)
from data_layer.sources.files import shown_name
from data_layer.sources.records import arrow, connect, read_file

SYSTEM = "export"

# Tables a database may hold its one table of rows under, best first.
_TABLE_NAMES = ("llm_calls", "calls", "spans", "events", "traces", "logs", "records", "telemetry")


# Which table a mapped row goes to, and an LLM call's status (NULL when the source says nothing).
_CLASSIFY = """
    create or replace temp view mapped as
    select *,
           (model is not null or tokens_in is not null or tokens_out is not null) as is_llm,
           (model is null and tokens_in is null and tokens_out is null and tool is not null) as is_tool,
           case when blocked then 'blocked' when failed then 'error' when not failed then 'ok' end as status,
           (model is null and tokens_in is null and tokens_out is null and tool is null
            and coalesce(type, agent, session, conversation, level, channel, trace_id, span_id, error,
                         prompt, response) is null) as is_bare
    from mapped_columns
"""

_SPLIT = {
    "llm_calls": """
        select call_id, ts, agent, session, conversation, model, tokens_in, tokens_out, cost_usd,
               latency_ms, is_stream, status, error, prompt, response, trace_id, span_id, parent_span_id
        from mapped where is_llm
    """,
    "tool_calls": """
        select call_id, ts, agent, session, tool, latency_ms, not failed as success, error,
               trace_id, span_id, parent_span_id
        from mapped where is_tool
    """,
    "events": """
        select event_id, ts, agent, session, type, channel, level, trace_id, span_id, parent_span_id
        from mapped where ts is not null and not is_llm and not is_tool and not is_bare
    """,
}


def telemetry_from_raw(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    what: str,
    source_tables: dict[str, int],
    notes: list[str],
    progress: Progress,
    system: str = SYSTEM,
    report: ReadingReport | None = None,
) -> Telemetry:
    """Map the rows of ``table`` (one per record) into the model; only tables with rows are provided.

    A row that is neither a call nor has a readable time is no telemetry: it is counted in the
    report (``no readable time``), beside the fields read and the assumptions made.
    """
    progress("Matching columns", None)
    mapping = map_rows(con, table, what)
    columns = ", ".join(f"{sql} as {ident(name)}" for name, sql in row_columns(mapping).items())
    # Views, not tables: at ten million rows each copy costs gigabytes, and re-reading a Parquet
    # column or recomputing a cast is cheaper than holding it.
    con.execute(f"create or replace temp view mapped_columns as select {columns} from {ident(table)} r")  # noqa: S608
    con.execute(_CLASSIFY)
    rows, llm, tools, timed, others, bare = con.execute(
        "select count(*), count(*) filter (is_llm), count(*) filter (is_tool), count(ts),"
        " count(ts) filter (not is_llm and not is_tool and not is_bare), count(ts) filter (is_bare)"
        " from mapped"
    ).fetchall()[0]
    if rows and bare and not (llm or tools or others):
        raise _only_times(mapping, what, rows)
    if rows == 0:  # an empty table (files with no records are refused earlier): provide what it would
        f = mapping.fields
        llm_like = any(name in f for name in ("model", "tokens_in", "tokens_out"))
        wanted = {"llm_calls": llm_like, "tool_calls": "tool" in f, "events": "time" in f}
    elif not (llm or tools or timed):
        raise _nothing_readable(mapping, what, rows)
    else:
        # Calls are not repeated as events: the event stream holds the rows that are neither.
        wanted = {"llm_calls": llm, "tool_calls": tools, "events": others}
    progress("Splitting rows into calls and events", None)
    tables = {name: arrow(con, _SPLIT[name]) for name, n in wanted.items() if n}
    report = report or ReadingReport()
    if not report.read:
        for source, n in source_tables.items():
            report.count(source, n)
    report.skip(NO_TIME, rows - llm - tools - others - bare)
    report.skip(ONLY_A_TIME, bare)
    _map_report(report, mapping)
    if llm and "cost" not in mapping.fields:
        report.assume("No cost column: LLM costs are estimated from tokens with genai-prices where possible.")
    return Telemetry(
        system=system,
        tables=tables,
        source_tables=source_tables,
        source_events=rows,
        notes=[*notes, *_mapping_notes(mapping, rows, llm, timed)],
        report=report,
    )


NO_TIME = "no readable time, and not a call"
# A record whose only known field is its time says nothing of an agent, call or event: counting it
# as an event would show activity the file does not describe.
ONLY_A_TIME = "a time and no other field the reader knows"


def _map_report(report: ReadingReport, m: Mapping) -> None:
    """Which source field became which model column, and what was taken for granted doing so."""
    f = m.fields
    report.map(
        {
            leaf.path: FIELDS[name].label
            for name, leaf in f.items()
            if not (name == "session" and m.session_is_trace)
        }
    )
    if (
        "time" in f
        and f["time"].type not in ("timestamp with time zone",)
        and f["time"].path not in [f[n].path for n in m.epochs]
    ):
        report.assume(f"Times in {f['time'].path} without a time zone are UTC.")
    for name, epoch in m.epochs.items():
        report.assume(f"{f[name].path} holds epoch {epoch.unit}, judged by the size of its values.")
    if "latency" in f:
        scale = latency_scale(f["latency"])
        unit = {1.0: "milliseconds", 1000.0: "seconds", 0.001: "microseconds"}.get(scale, "nanoseconds")
        report.assume(f"{f['latency'].path} is in {unit}, by its name.")
    if m.session_is_trace:
        report.assume(f"Each trace ({f['trace_id'].path}) is a session: there is no session column.")


def _nothing_readable(mapping: Mapping, what: str, rows: int) -> BadExport:
    if "time" not in mapping.fields:
        return BadExport(
            f"{what} has no time column, and none of its {rows:,} rows has a model or token count"
            " (the columns are empty). Export rows with a timestamp, model and token counts."
        )
    return BadExport(
        f"Cannot read the times of {what} (no value of {mapping.fields['time'].path} in {rows:,} rows"
        " is a date). Write times as ISO 8601 text or epoch numbers."
    )


def _only_times(mapping: Mapping, what: str, rows: int) -> UnknownSchema:
    """Every record has a time and nothing else known: the file is not telemetry Agentwatch reads."""
    columns = [mapping.fields["time"].path, *mapping.unused]
    shown = ", ".join(printable(c) for c in columns[:12]) + (" and more" if len(columns) > 12 else "")
    return UnknownSchema(
        f"Cannot read {what} as LLM calls or events (columns found: {shown}; besides the time none"
        f" is a model, token count, tool, event type or agent in any of its {rows:,} records)."
        f" Export {NEEDS}."
    )


def _mapping_notes(m: Mapping, rows: int, llm: int, timed: int) -> list[str]:
    """Sentences for the Data page: how the file was read, so a user can check it."""
    f = m.fields
    labels: dict[str, list[str]] = {}  # one source column may feed two fields (id: call and event id)
    for name, leaf in f.items():
        if not (name == "session" and m.session_is_trace):
            labels.setdefault(leaf.path, []).append(FIELDS[name].label)
    pairs = [f"{path} → {' and '.join(names)}" for path, names in labels.items()]
    notes = [f"Columns read as: {', '.join(pairs)}."]
    if m.unused:
        more = f" and {len(m.unused) - 12} more" if len(m.unused) > 12 else ""
        notes.append(f"Columns not used: {', '.join(m.unused[:12])}{more}.")
    for path in m.not_times:
        notes.append(
            f"{path} holds numbers too small to be times (a duration?), so it was not read as the time."
        )
    for name, epoch in m.epochs.items():
        notes.append(
            f"{f[name].path} holds epoch {epoch.unit} (judged by the size of its values), read as UTC."
        )
    if m.session_is_trace:
        notes.append(f"There is no session column, so each trace ({f['trace_id'].path}) counts as a session.")
    if "latency" in f and latency_scale(f["latency"]) != 1.0:
        notes.append(f"{f['latency'].path} is converted to milliseconds.")
    if "start" in f and "end" in f:
        where = "where it is missing" if "latency" in f else "for every row"
        notes.append(f"Latency is {f['end'].path} − {f['start'].path} {where}.")
    if rows - timed:
        notes.append(f"{rows - timed:,} of {rows:,} rows have no readable time; they are left out of events.")
    if llm and "cost" not in f:
        notes.append("No cost column: LLM costs are estimated from tokens with genai-prices where possible.")
    return notes


# --- file adapter -----------------------------------------------------------------------------


def recognises_file(path: Path, kind: str) -> bool:
    """Every tabular file: this adapter is the last resort, and says which columns it found if it fails."""
    return kind in ("json", "jsonl", "csv", "parquet")


def load_file(path: Path, kind: str, progress: Progress) -> Telemetry:
    name = shown_name(path)
    with connect() as con:
        progress(f"Reading {name}", None)
        report = ReadingReport()
        key, notes = read_file(con, path, kind, report)
        rows = con.execute("select count(*) from raw").fetchall()[0][0]
        if rows == 0:
            raise BadExport(
                f"{name} holds no records (an empty {kind.upper()} list). Export some data first."
            )
        return telemetry_from_raw(
            con,
            "raw",
            what=name,
            source_tables={key: rows},
            notes=notes,
            progress=progress,
            report=report.count(key, rows),
        )


# --- database adapter -------------------------------------------------------------------------


def recognises(db: Database) -> bool:
    return _pick_table(db) is not None


def load(db: Database, progress: Progress) -> Telemetry:
    table = _pick_table(db)
    assert table is not None, "load() is only called after recognises()"
    columns = _wanted_columns(db.columns(table))
    source = db.table(table)
    frame = db.read(sa.select(*(source.c[c] for c in columns)), progress, table)
    others = sorted(set(db.catalog()) - {table})
    notes = [
        f"Read table {table}"
        + (f"; the other tables ({', '.join(others[:12])}) were not read." if others else ".")
    ]
    with connect() as con:
        con.register("raw", _duckdb_friendly(frame))
        return telemetry_from_raw(
            con,
            "raw",
            what=f"table {table} of {db.label}",
            source_tables={table: len(frame)},
            notes=notes,
            progress=progress,
        )


def _flat_leaves(columns: Iterable[str]) -> dict[str, Leaf]:
    """Leaves of a table known only by its column names: types unknown, so any field may take them."""
    return {norm(c): Leaf(c, ident(c), "unknown") for c in sorted(columns)}


def _pick_table(db: Database) -> str | None:
    """The table holding rows of calls: it needs a time and a model, token or tool column.

    More LLM-like tables first, then the usual names, then the one with more columns we read.
    """
    ranked = []
    for table, columns in db.catalog().items():
        fields = find_fields(_flat_leaves(columns))
        llm_like = any(name in fields for name in ("model", "tokens_in", "tokens_out"))
        if "time" not in fields or not (llm_like or "tool" in fields):
            continue
        known = _TABLE_NAMES.index(table) if table in _TABLE_NAMES else len(_TABLE_NAMES)
        ranked.append((not llm_like, known, -len(fields), table))
    return min(ranked)[-1] if ranked else None


def _wanted_columns(columns: set[str]) -> list[str]:
    """The columns any field might read, so a table's blobs we never use are not fetched.

    Every candidate is kept, not only the first: the first may turn out unusable (a "time" of
    durations) once its values are seen.
    """
    names = {
        norm(f"{container}.{name}" if container else name)
        for spec in FIELDS.values()
        for name in (*spec.names, *LATENCY_UNITS)
        for container in CONTAINERS
    }
    return sorted(c for c in columns if norm(c) in names)


def _duckdb_friendly(frame: pd.DataFrame) -> pd.DataFrame:
    """Give object columns (SQLite's untyped values) one type, so DuckDB need not guess from a sample."""
    out = frame.copy()
    for name in out.columns:
        values = out[name]
        if values.dtype != object:
            continue
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred == "integer":
            out[name] = values.astype("Int64")
        elif inferred in ("floating", "mixed-integer-float", "decimal"):
            out[name] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif inferred == "boolean":
            out[name] = values.astype("boolean")
        else:
            out[name] = values.astype("string")
    return out


ADAPTER = Adapter(
    system=SYSTEM,
    title="Export file",
    needs=NEEDS,
    provides=frozenset({"llm_calls", "tool_calls", "events"}),
    formats="JSON, JSON-lines, CSV, Parquet or one SQLite table of records",
    recognises=recognises,
    load=load,
    recognises_file=recognises_file,
    load_file=load_file,
)
