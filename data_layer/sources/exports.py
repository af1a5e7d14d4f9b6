"""Generic exports: JSON, JSON-lines, CSV and Parquet files (or one SQLite table) of events or LLM calls.

People export telemetry from whatever they run: a logging pipeline's JSON-lines, a notebook's CSV,
an OpenTelemetry collector's flattened spans. No configuration is asked for: columns are matched
by their common names, case-insensitively and ignoring ``_``/``-``, whether a row is flat
(``gen_ai.request.model`` as one key) or nested (``attributes: {gen_ai: {request: {model}}}``).

The work is split in three steps, so other readers (OTLP, Phoenix) can reuse the last two:

1. *read*: a file or table becomes a DuckDB table ``raw``, one row per record, nested objects kept
   as structs (``read_file``; the database adapter registers a frame instead);
2. *find*: every scalar reachable in a row is a ``Leaf`` with a dotted path; ``find_fields`` picks
   the leaf for each telemetry field from the candidate names in ``FIELDS``;
3. *map*: ``telemetry_from_raw`` turns the found leaves into typed SQL, writes one mapped row per
   record and splits them into ``llm_calls`` (rows with a model or token counts), ``tool_calls``
   (rows with a tool name and no model) and ``events`` (every row with a time).

Everything runs in DuckDB; no Python loop touches a row. Missing stays missing: a column the file
does not have, or a value that does not parse, is NULL, never 0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from data_layer.errors import BadExport, SourceTooLarge, UnknownSchema
from data_layer.model import Telemetry
from data_layer.sources.database import Database, Progress
from data_layer.sources.files import shown_name

SYSTEM = "export"
TITLE = "Export file"
NEEDS = "a time column and a model or token column, e.g. timestamp + model + input_tokens"

# --- which names mean what --------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One telemetry field: what kind of value it takes and the source names that hold it, best first."""

    kind: str  # time | text | number | flag | status
    label: str  # how the Data page names it ("input tokens")
    names: tuple[str, ...]


def _field(kind: str, label: str, names: str) -> Field:
    return Field(kind, label, tuple(names.split()))


FIELDS: dict[str, Field] = {
    "time": _field(
        "time",
        "time",
        "timestamp ts time created_at start_time startTime start_time_unix_nano time_unix_nano"
        " @timestamp datetime event_time started_at date",
    ),
    "start": _field("time", "start", "start_time started_at start_timestamp start_time_unix_nano"),
    "end": _field("time", "end", "end_time ended_at end_timestamp end_time_unix_nano"),
    "agent": _field(
        "text",
        "agent",
        "agent agent_id agent_name gen_ai.agent.name gen_ai.agent.id agent.name agent.id"
        " service.name service_name",
    ),
    "session": _field(
        "text",
        "session",
        "session session_id session.id conversation_id gen_ai.conversation.id thread_id",
    ),
    "conversation": _field("text", "conversation", "conversation_id gen_ai.conversation.id thread_id"),
    "model": _field(
        "text",
        "model",
        "model model_name model_id gen_ai.request.model gen_ai.response.model llm.model_name llm.model"
        " llm.request.model",
    ),
    "tokens_in": _field(
        "number",
        "input tokens",
        "tokens_in input_tokens prompt_tokens gen_ai.usage.input_tokens gen_ai.usage.prompt_tokens"
        " llm.token_count.prompt usage.input_tokens usage.prompt_tokens llm.usage.prompt_tokens"
        " tokens.input tokens.prompt",
    ),
    "tokens_out": _field(
        "number",
        "output tokens",
        "tokens_out output_tokens completion_tokens gen_ai.usage.output_tokens"
        " gen_ai.usage.completion_tokens llm.token_count.completion usage.output_tokens"
        " usage.completion_tokens llm.usage.completion_tokens tokens.output tokens.completion",
    ),
    "cost": _field(
        "number",
        "recorded cost (USD)",
        "cost_usd cost total_cost total_cost_usd gen_ai.usage.cost usage.cost llm.cost.total cost.total",
    ),
    "latency": _field("number", "latency", ""),  # names and units in _LATENCY_UNITS
    "status": _field("status", "status", "status status_code status.code otel.status_code"),
    "error": _field(
        "text", "error", "error error_message error.message exception.message error.type err exception"
    ),
    "is_error": _field("flag", "error flag", "is_error failed has_error"),
    "success": _field("flag", "success flag", "success succeeded"),
    "tool": _field("text", "tool", "tool tool_name gen_ai.tool.name tool.name function_name"),
    "type": _field("text", "event type", "event_type type event name gen_ai.operation.name"),
    "level": _field("text", "level", "level severity_text log_level severity levelname"),
    "channel": _field("text", "channel", "channel category"),
    "prompt": _field("text", "prompt", "prompt input.value gen_ai.prompt input messages llm.input_messages"),
    "response": _field(
        "text", "response", "response output.value gen_ai.completion completion output llm.output_messages"
    ),
    "is_stream": _field("flag", "streaming flag", "is_stream stream streaming gen_ai.request.stream"),
    "call_id": _field("text", "call id", "call_id event_id id request_id span_id"),
    "event_id": _field("text", "event id", "event_id id call_id span_id"),
    "trace_id": _field("text", "trace id", "trace_id context.trace_id"),
    "span_id": _field("text", "span id", "span_id context.span_id"),
    "parent_span_id": _field("text", "parent span id", "parent_span_id parent_id parent.span_id"),
}

# Latency names -> milliseconds per unit. A bare "latency" or "duration" is taken as milliseconds;
# seconds only when the name says so (latency_s, duration_seconds).
_LATENCY_UNITS: dict[str, float] = {
    **dict.fromkeys(("latency_ms", "duration_ms", "elapsed_ms", "response_time_ms"), 1.0),
    **dict.fromkeys(("latency_s", "latency_sec", "latency_seconds", "duration_s", "duration_sec"), 1000.0),
    **dict.fromkeys(("duration_seconds", "elapsed_s", "elapsed_seconds", "response_time_s"), 1000.0),
    "duration_us": 0.001,
    "duration_ns": 0.000001,
    **dict.fromkeys(("latency", "duration"), 1.0),
}

# Objects a field may sit inside: OTel attributes, log-shipper envelopes. "" is the row itself.
_CONTAINERS = ("", "attributes", "attrs", "span.attributes", "resource.attributes", "resource", "span")
_CONTAINERS += ("data", "payload", "metadata", "properties", "fields", "labels", "tags", "record", "body")

# The fields that make a file ours: a time, or something only an LLM call has.
_TELLING = ("time", "model", "tokens_in", "tokens_out")

# An object file holding its records under one of these keys is unwrapped.
_WRAPPER_KEYS = ("data", "events", "records", "items", "calls", "spans", "results", "rows", "logs")

# Tables a database may hold its one table of rows under, best first.
_TABLE_NAMES = ("llm_calls", "calls", "spans", "events", "traces", "logs", "records", "telemetry")

_NUMERIC = {"tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint", "uinteger"}
_NUMERIC |= {"ubigint", "uhugeint", "float", "double", "decimal"}
_INTEGER = _NUMERIC - {"float", "double", "decimal"}
_TIMES = {"timestamp", "timestamp_s", "timestamp_ms", "timestamp_ns", "date", "timestamp with time zone"}
_NESTED = {"list", "array", "map", "struct", "union"}

# Epoch numbers by size: below the bound, the unit; the factor turns it into microseconds.
_EPOCH_UNITS = ((1e11, "seconds", 1_000_000), (1e14, "milliseconds", 1_000), (1e17, "microseconds", 1))
_EPOCH_NS = ("nanoseconds", 0)  # factor 0: divide by 1,000 instead
_MAX_MICROS = 253_402_300_799_999_999  # 9999-12-31: larger "times" are junk, not dates
_SMALLEST_EPOCH = 1e8  # 1973-03-03 in seconds: smaller numbers are durations or counters, not times


def _norm(name: str) -> str:
    """The matching key of a dotted name: lower case, without _ - and spaces in each part."""
    return ".".join(re.sub(r"[_\-\s]", "", part.lower()) for part in name.split("."))


def printable(name: str) -> str:
    """A name from the source as one line of text: control characters (a newline) escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in name)


def _ident(name: str) -> str:
    """A SQL identifier for a column or struct field name read from the source."""
    return '"' + name.replace('"', '""') + '"'


# --- leaves: every value a row holds, by dotted path ------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """One non-struct value in each row: its dotted path as the source spells it, SQL and type."""

    path: str
    sql: str
    type: str  # DuckDB type id: varchar, bigint, timestamp with time zone, list...
    is_json: bool = False

    def suits(self, kind: str) -> bool:
        """Whether this value can be read as a field of ``kind`` (a list is no time)."""
        if self.type == "unknown":  # known by name only (a database column before it is read)
            return True
        if kind == "time":
            return self.type in _TIMES | _NUMERIC or self.type == "varchar"
        if kind in ("number", "status"):
            return self.type in _NUMERIC or self.type == "varchar"
        if kind == "flag":
            return self.type in _NUMERIC or self.type in ("varchar", "boolean")
        return True


def leaves(con: duckdb.DuckDBPyConnection, table: str, alias: str = "r") -> dict[str, Leaf]:
    """Every value of ``table``'s rows by normalised path; nested structs are walked, lists are not."""
    rel = con.table(table)
    found: dict[str, Leaf] = {}
    for name, typ in zip(rel.columns, rel.types, strict=True):
        _walk(found, name, f"{alias}.{_ident(name)}", typ)
    return found


def _walk(found: dict[str, Leaf], path: str, sql: str, typ: duckdb.typing.DuckDBPyType) -> None:
    if typ.id == "struct":
        for child, child_type in typ.children:
            _walk(found, f"{path}.{child}", f"{sql}.{_ident(child)}", child_type)
        return
    # First spelling wins when two keys differ only in case or underscores.
    found.setdefault(_norm(path), Leaf(path, sql, typ.id, is_json=str(typ) == "JSON"))


def find_fields(found: dict[str, Leaf], not_times: Collection[str] = ()) -> dict[str, Leaf]:
    """The leaf for each field the source has, by the first candidate name present in any container.

    ``not_times`` are paths whose values turned out not to be times (small numbers: durations).
    """
    picked = {}
    for name, spec in FIELDS.items():
        names = _LATENCY_UNITS if name == "latency" else spec.names
        leaf = _first(found, names, spec.kind, not_times)
        if leaf is not None:
            picked[name] = leaf
    if "conversation" in picked and picked["conversation"] == picked.get("session"):
        del picked["conversation"]  # the session already is the conversation id
    return picked


def _first(
    found: dict[str, Leaf], names: Iterable[str], kind: str, not_times: Collection[str]
) -> Leaf | None:
    for name in names:
        for container in _CONTAINERS:
            leaf = found.get(_norm(f"{container}.{name}" if container else name))
            if leaf is not None and leaf.suits(kind) and not (kind == "time" and leaf.path in not_times):
                return leaf
    return None


def _latency_scale(leaf: Leaf) -> float:
    last = _norm(leaf.path).rsplit(".", 1)[-1]
    return next(scale for name, scale in _LATENCY_UNITS.items() if _norm(name) == last)


# --- typed SQL for a leaf ---------------------------------------------------------------------


_ERROR_WORDS = "error|fail|exception|timeout|timed out|cancel|abort"
_OK_WORDS = (
    "'ok', 'success', 'succeeded', 'successful', 'completed', 'complete', 'done', 'finished', 'unset',"
    " 'status_code_ok', 'status_code_unset', 'true'"
)


def _text(leaf: Leaf) -> str:
    if leaf.is_json:
        return f"json_extract_string({leaf.sql}, '$')"
    if leaf.type in _NESTED:
        return f"to_json({leaf.sql})::varchar"
    return f"{leaf.sql}::varchar"


def _number(leaf: Leaf) -> str:
    if leaf.type in _NUMERIC:
        return f"{leaf.sql}::double"
    return f"try_cast(trim({_text(leaf)}) as double)"


def _count(leaf: Leaf) -> str:
    return f"try_cast(round({_number(leaf)}) as bigint)"


def _flag(leaf: Leaf) -> str:
    if leaf.type == "boolean":
        return leaf.sql
    if leaf.type in _NUMERIC:
        return f"({leaf.sql} <> 0)"
    text = f"lower(trim({_text(leaf)}))"
    return (
        f"case when {text} in ('true', 't', 'yes', 'y', '1') then true"
        f" when {text} in ('false', 'f', 'no', 'n', '0') then false end"
    )


def _status(leaf: Leaf) -> str:
    """ok | error | blocked from a status word or code (OTel: 2 is ERROR; HTTP: 400 and up)."""
    code = f"try_cast({_number(leaf)} as integer)"
    by_code = f"case when {code} = 2 or {code} >= 400 then 'error' when {code} is not null then 'ok' end"
    if leaf.type in _NUMERIC:
        return by_code
    text = f"lower(trim({_text(leaf)}))"
    return (
        f"case when {text} like '%block%' then 'blocked'"
        f" when regexp_matches({text}, '{_ERROR_WORDS}') or {text} in ('err', 'false') then 'error'"
        f" when {text} in ({_OK_WORDS}) then 'ok' else {by_code} end"
    )


def _error_message(leaf: Leaf) -> str:
    if leaf.type in _NUMERIC or leaf.type == "boolean":
        return "null::varchar"
    text = f"nullif(trim({_text(leaf)}), '')"
    no_message = "('false', '0', 'none', 'null', 'no', 'true', 'yes', '1')"
    return f"case when lower({text}) in {no_message} then null else {text} end"


def _error_flag(leaf: Leaf) -> str:
    """Whether an error column says the row failed: any message, or a true flag; NULL means no error."""
    if leaf.type in _NUMERIC or leaf.type == "boolean":
        return f"coalesce({_flag(leaf)}, false)"
    text = f"lower(nullif(trim({_text(leaf)}), ''))"
    return f"coalesce({text} not in ('false', '0', 'none', 'null', 'no'), false)"


@dataclass(frozen=True)
class Epoch:
    """How a numeric time column is read: its unit, judged by the size of its values."""

    unit: str
    factor: int  # to microseconds; 0 means divide by 1,000 (nanoseconds)


def _epoch_unit(largest: float) -> Epoch:
    for bound, unit, factor in _EPOCH_UNITS:
        if largest < bound:
            return Epoch(unit, factor)
    return Epoch(*_EPOCH_NS)


def _micros(value: str, epoch: Epoch, integer: bool) -> str:
    """A TIMESTAMP from an epoch number; integers stay integers, so nanoseconds lose no precision."""
    if integer:
        whole = f"try_cast({value} as bigint)"
        micros = f"{whole} // 1000" if epoch.factor == 0 else f"{whole} * {epoch.factor}"
    else:
        scale = "/ 1000.0" if epoch.factor == 0 else f"* {epoch.factor}"
        micros = f"try_cast(round(({value}) {scale}) as bigint)"
    bound = f"{_MAX_MICROS / max(epoch.factor, 0.001):.0f}"  # beyond year 9999: junk, not a time
    return f"(case when abs({value}) < {bound} then make_timestamp({micros}) end)"


def _time(leaf: Leaf, epoch: Epoch | None) -> str:
    """A naive UTC TIMESTAMP: offsets are applied, naive values are UTC, epochs by their unit."""
    if leaf.type == "timestamp with time zone":
        return f"timezone('UTC', {leaf.sql})"
    if leaf.type in _TIMES:
        return f"{leaf.sql}::timestamp"
    if leaf.type in _NUMERIC:
        return _micros(leaf.sql, epoch or Epoch("seconds", 1_000_000), leaf.type in _INTEGER)
    text = _text(leaf)
    parsed = f"timezone('UTC', try_cast({text} as timestamptz))"
    if epoch is None:
        return parsed
    return f"coalesce({parsed}, {_micros(f'try_cast({text} as double)', epoch, integer=False)})"


# --- mapping ----------------------------------------------------------------------------------


@dataclass
class Mapping:
    """What was found in a source's rows and how each field will be read."""

    fields: dict[str, Leaf]
    epochs: dict[str, Epoch] = field(default_factory=dict)  # field name -> unit of its epoch numbers
    session_is_trace: bool = False
    unused: list[str] = field(default_factory=list)
    not_times: list[str] = field(default_factory=list)  # time-named columns holding small numbers


def map_rows(con: duckdb.DuckDBPyConnection, table: str, what: str) -> Mapping:
    """Find the fields of ``table``; raise UnknownSchema if it has neither a time nor an LLM column.

    A time-named column of numbers too small to be epoch times (a "time" of 1.25: a duration) is
    passed over for the next candidate.
    """
    found = leaves(con, table)
    not_times: set[str] = set()
    while True:
        fields = find_fields(found, not_times)
        largest = _largest_numbers(con, table, fields)
        small = {
            fields[name].path
            for name, value in largest.items()
            if fields[name].type in _NUMERIC and (value is None or value < _SMALLEST_EPOCH)
        }
        if not small:
            break
        not_times |= small
    if not any(name in fields for name in _TELLING):
        shown = [printable(leaf.path) for leaf in found.values()][:12]
        more = f" and {len(found) - 12} more" if len(found) > 12 else ""
        raise UnknownSchema(
            f"Cannot read {what} as LLM calls or events (columns found: {', '.join(shown) or 'none'}{more};"
            f" none is a time, model or token count). Export {NEEDS}."
        )
    mapping = Mapping(fields, not_times=sorted(not_times))
    if "session" not in fields and "trace_id" in fields:
        fields["session"] = fields["trace_id"]
        mapping.session_is_trace = True
    mapping.epochs = {
        name: _epoch_unit(value)
        for name, value in largest.items()
        if value is not None and value >= _SMALLEST_EPOCH
    }
    used = {leaf.path for leaf in fields.values()}
    mapping.unused = [leaf.path for leaf in found.values() if leaf.path not in used]
    return mapping


def _largest_numbers(
    con: duckdb.DuckDBPyConnection, table: str, fields: dict[str, Leaf]
) -> dict[str, float | None]:
    """The largest number in each time field that is not typed as a time, in one scan: its epoch unit."""
    numeric = {
        name: fields[name]
        for name in ("time", "start", "end")
        if name in fields and fields[name].type not in _TIMES
    }
    if not numeric:
        return {}
    largest = ", ".join(f"max(abs({_number(leaf)}))" for leaf in numeric.values())
    row = con.execute(f"select {largest} from {_ident(table)} r").fetchall()[0]  # noqa: S608 (identifiers)
    return dict(zip(numeric, row, strict=True))


def _row_columns(m: Mapping) -> dict[str, str]:
    """The SQL for each mapped column of one source row."""
    f = m.fields

    def pick(name: str, render: Callable[[Leaf], str], null: str = "varchar") -> str:
        return render(f[name]) if name in f else f"null::{null}"

    ts = _time(f["time"], m.epochs.get("time")) if "time" in f else "null::timestamp"
    latency = [f"{_number(f['latency'])} * {_latency_scale(f['latency'])}"] if "latency" in f else []
    if "start" in f and "end" in f:
        start, end = (_time(f[n], m.epochs.get(n)) for n in ("start", "end"))
        latency.append(f"date_diff('microsecond', {start}, {end}) / 1000.0")
    level = pick("level", lambda leaf: f"lower(trim({_text(leaf)}))")
    return {
        "ts": ts,
        **{name: pick(name, _text) for name in ("agent", "session", "conversation", "model", "tool")},
        "tokens_in": pick("tokens_in", _count, "bigint"),
        "tokens_out": pick("tokens_out", _count, "bigint"),
        "cost_usd": pick("cost", _number, "double"),
        "latency_ms": f"coalesce({', '.join(latency)})" if latency else "null::double",
        "is_stream": pick("is_stream", _flag, "boolean"),
        "failed": _failed(f) or "null::boolean",
        "blocked": f"coalesce({_status(f['status'])} = 'blocked', false)" if "status" in f else "false",
        "error": pick("error", _error_message),
        **{name: pick(name, _text) for name in ("prompt", "response", "type", "channel")},
        "level": f"case {level} when 'warn' then 'warning' when 'fatal' then 'critical'"
        f" when 'crit' then 'critical' when 'err' then 'error' else {level} end",
        **{
            name: pick(name, _text)
            for name in ("call_id", "event_id", "trace_id", "span_id", "parent_span_id")
        },
    }


def _failed(f: dict[str, Leaf]) -> str | None:
    """Whether a row failed, from the most explicit signal it has; None if the source has no signal."""
    signals = []
    if "is_error" in f:
        signals.append(_flag(f["is_error"]))
    if "success" in f:
        signals.append(f"not {_flag(f['success'])}")
    if "status" in f:
        signals.append(f"({_status(f['status'])} <> 'ok')")
    if "error" in f:
        signals.append(_error_flag(f["error"]))
    return f"coalesce({', '.join(signals)})" if signals else None


# Which table a mapped row goes to, and an LLM call's status (NULL when the source says nothing).
_CLASSIFY = """
    create or replace temp view mapped as
    select *,
           (model is not null or tokens_in is not null or tokens_out is not null) as is_llm,
           (model is null and tokens_in is null and tokens_out is null and tool is not null) as is_tool,
           case when blocked then 'blocked' when failed then 'error' when not failed then 'ok' end as status
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
        from mapped where ts is not null and not is_llm and not is_tool
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
) -> Telemetry:
    """Map the rows of ``table`` (one per record) into the model; only tables with rows are provided."""
    progress("Matching columns", None)
    mapping = map_rows(con, table, what)
    columns = ", ".join(f"{sql} as {_ident(name)}" for name, sql in _row_columns(mapping).items())
    # Views, not tables: at ten million rows each copy costs gigabytes, and re-reading a Parquet
    # column or recomputing a cast is cheaper than holding it.
    con.execute(f"create or replace temp view mapped_columns as select {columns} from {_ident(table)} r")  # noqa: S608
    con.execute(_CLASSIFY)
    rows, llm, tools, timed, others = con.execute(
        "select count(*), count(*) filter (is_llm), count(*) filter (is_tool), count(ts),"
        " count(ts) filter (not is_llm and not is_tool) from mapped"
    ).fetchall()[0]
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
    tables = {name: _frame(con, _SPLIT[name]) for name, n in wanted.items() if n}
    return Telemetry(
        system=system,
        tables=tables,
        source_tables=source_tables,
        source_events=rows,
        notes=[*notes, *_mapping_notes(mapping, rows, llm, timed)],
    )


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


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """A query's rows as Arrow: the store scans it without a copy (pandas would cost seconds at 10M)."""
    return con.sql(sql).to_arrow_table()


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
    if "latency" in f and _latency_scale(f["latency"]) != 1.0:
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
    with _connect() as con:
        progress(f"Reading {name}", None)
        key, notes = read_file(con, path, kind)
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
        )


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config={"threads": 2})
    con.execute("set TimeZone = 'UTC'")  # naive times in the file are UTC, and parse as such
    return con


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


def read_file(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> tuple[str, list[str]]:
    """Load the file into table ``raw``, one row per record. Returns a name for its records and notes."""
    name = shown_name(path)
    try:
        if kind in ("json", "jsonl"):
            notes = _read_jsonl(con, path) if kind == "jsonl" else _read_json(con, path)
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
            f"{name} does not fit in memory ({_detail(err)}). Upload a smaller export, or point Agentwatch"
            " at the database."
        ) from err
    except duckdb.Error as err:
        raise _unreadable(name, kind, err) from err
    return "records", []


def _sql_string(path: Path) -> str:
    """A path as a SQL string literal (views cannot take parameters); quotes are doubled."""
    return "'" + str(path).replace("'", "''") + "'"


def _max_object(path: Path) -> int:
    return min(path.stat().st_size + 1, 2**32 - 1)


def _read_jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """JSON lines; a last line cut short (a write still going on, or a truncated copy) is skipped."""
    params = {"path": str(path), "max_object": _max_object(path), "skip_bad": False}
    try:
        con.execute(_READ_JSONL, params)
        return []
    except duckdb.InvalidInputException as err:
        if not (_last_line_is_cut(path) and _bad_lines(con, path) == 1):
            raise
        cut = err
    con.execute(_READ_JSONL, {**params, "skip_bad": True})
    # The cut line comes back as a row of NULLs; a line that was {} carried nothing either.
    empty = " and ".join(f"{_ident(c)} is null" for c in con.table("raw").columns)
    con.execute(f"delete from raw where {empty}")  # noqa: S608 (quoted identifiers)
    if con.execute("select count(*) from raw").fetchall()[0][0] == 0:
        raise cut  # nothing but the cut line: that is a broken file, not a partial one
    return ["The last line of the file was cut off (an export still being written?) and was skipped."]


def _bad_lines(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    return con.execute(
        "select count(*) filter (json is null) from read_json_objects(?, format := 'newline_delimited',"
        " ignore_errors := true, maximum_object_size := ?)",
        [str(path), _max_object(path)],
    ).fetchall()[0][0]


def _last_line_is_cut(path: Path) -> bool:
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
    con.execute(_READ_JSON, {"path": str(path), "max_object": _max_object(path)})
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
        f"create or replace table raw as select unnest(r.{_ident(key)}, max_depth := 2) from raw r"  # noqa: S608
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
    is_record = any(name in find_fields(leaves(con, "raw")) for name in _TELLING)
    return lists[0] if len(lists) == 1 and not is_record else None


def _starts_with(path: Path, char: bytes) -> bool:
    with path.open("rb") as f:
        return f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(char)


def _unreadable(name: str, kind: str, err: duckdb.Error) -> BadExport:
    """The user's fix depends on what DuckDB tripped on: the encoding, a cut, or bad syntax."""
    full = str(err).lower()
    if "utf-8" in full or "unicode" in full:
        return BadExport(
            f"{name} is not UTF-8 text ({_detail(err)}; Latin-1 or another legacy encoding?)."
            " Save it as UTF-8 and upload it again."
        )
    if "end of data" in full or "unexpected end" in full:
        return BadExport(
            f"{name} ends in the middle of a record ({_detail(err)}). The file was cut off: export or"
            " download it again."
        )
    return BadExport(
        f"Cannot read {name} as {kind.upper()} ({_detail(err)}). Check that it is a complete {kind.upper()}"
        " export, or export it again."
    )


def _detail(err: BaseException) -> str:
    """DuckDB's first line, without its error class or our temporary file's path."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    text = re.sub(r"^[A-Za-z ]*Error: ", "", text)
    text = re.sub(r'\s*in file "[^"]*",?', "", text)
    # Any other quoted absolute path (Parquet says "at end of file '/tmp/...'"): the server's
    # folders are nobody's business, and the user knows which file they gave.
    text = re.sub(r"""\s*(['"])(?:/|[A-Za-z]:\\)[^'"]*\1""", "", text)
    return text.strip().rstrip(".")[:200]


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
    with _connect() as con:
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
    return {_norm(c): Leaf(c, _ident(c), "unknown") for c in sorted(columns)}


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
        _norm(f"{container}.{name}" if container else name)
        for spec in FIELDS.values()
        for name in (*spec.names, *_LATENCY_UNITS)
        for container in _CONTAINERS
    }
    return sorted(c for c in columns if _norm(c) in names)


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


__all__ = [
    "FIELDS",
    "Leaf",
    "Mapping",
    "find_fields",
    "leaves",
    "load",
    "load_file",
    "map_rows",
    "read_file",
    "recognises",
    "recognises_file",
    "telemetry_from_raw",
]
