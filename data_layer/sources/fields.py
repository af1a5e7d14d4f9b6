"""Field matching for exported records: which of a row's values is the time, the model, the tokens.

People export telemetry from whatever they run: a logging pipeline's JSON-lines, a notebook's CSV,
an OpenTelemetry collector's flattened spans. No configuration is asked for: columns are matched
by their common names, case-insensitively and ignoring ``_``/``-``, whether a row is flat
(``gen_ai.request.model`` as one key) or nested (``attributes: {gen_ai: {request: {model}}}``).

Every scalar reachable in a row is a ``Leaf`` with a dotted path; ``find_fields`` picks the leaf
for each telemetry field from the candidate names in ``FIELDS``; ``map_rows`` settles epoch units
and ``row_columns`` turns the found leaves into typed SQL. Missing stays missing: a column the
file does not have, or a value that does not parse, is NULL, never 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

import duckdb

from data_layer.errors import UnknownSchema

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
    "latency": _field("number", "latency", ""),  # names and units in LATENCY_UNITS
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
LATENCY_UNITS: dict[str, float] = {
    **dict.fromkeys(("latency_ms", "duration_ms", "elapsed_ms", "response_time_ms"), 1.0),
    **dict.fromkeys(("latency_s", "latency_sec", "latency_seconds", "duration_s", "duration_sec"), 1000.0),
    **dict.fromkeys(("duration_seconds", "elapsed_s", "elapsed_seconds", "response_time_s"), 1000.0),
    "duration_us": 0.001,
    "duration_ns": 0.000001,
    **dict.fromkeys(("latency", "duration"), 1.0),
}

# Objects a field may sit inside: OTel attributes, log-shipper envelopes. "" is the row itself.
CONTAINERS = ("", "attributes", "attrs", "span.attributes", "resource.attributes", "resource", "span")
CONTAINERS += ("data", "payload", "metadata", "properties", "fields", "labels", "tags", "record", "body")

# The fields that make a file ours: a time, or something only an LLM call has.
TELLING = ("time", "model", "tokens_in", "tokens_out")


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


def norm(name: str) -> str:
    """The matching key of a dotted name: lower case, without _ - and spaces in each part."""
    return ".".join(re.sub(r"[_\-\s]", "", part.lower()) for part in name.split("."))


def printable(name: str) -> str:
    """A name from the source as one line of text: control characters (a newline) escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in name)


def ident(name: str) -> str:
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
        _walk(found, name, f"{alias}.{ident(name)}", typ)
    return found


def _walk(found: dict[str, Leaf], path: str, sql: str, typ: duckdb.typing.DuckDBPyType) -> None:
    if typ.id == "struct":
        for child, child_type in typ.children:
            _walk(found, f"{path}.{child}", f"{sql}.{ident(child)}", child_type)
        return
    # First spelling wins when two keys differ only in case or underscores.
    found.setdefault(norm(path), Leaf(path, sql, typ.id, is_json=str(typ) == "JSON"))


def find_fields(found: dict[str, Leaf], not_times: Collection[str] = ()) -> dict[str, Leaf]:
    """The leaf for each field the source has, by the first candidate name present in any container.

    ``not_times`` are paths whose values turned out not to be times (small numbers: durations).
    """
    picked = {}
    for name, spec in FIELDS.items():
        names = LATENCY_UNITS if name == "latency" else spec.names
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
        for container in CONTAINERS:
            leaf = found.get(norm(f"{container}.{name}" if container else name))
            if leaf is not None and leaf.suits(kind) and not (kind == "time" and leaf.path in not_times):
                return leaf
    return None


def latency_scale(leaf: Leaf) -> float:
    last = norm(leaf.path).rsplit(".", 1)[-1]
    return next(scale for name, scale in LATENCY_UNITS.items() if norm(name) == last)


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
    if not any(name in fields for name in TELLING):
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
    row = con.execute(f"select {largest} from {ident(table)} r").fetchall()[0]  # noqa: S608 (identifiers)
    return dict(zip(numeric, row, strict=True))


def row_columns(m: Mapping) -> dict[str, str]:
    """The SQL for each mapped column of one source row."""
    f = m.fields

    def pick(name: str, render: Callable[[Leaf], str], null: str = "varchar") -> str:
        return render(f[name]) if name in f else f"null::{null}"

    ts = _time(f["time"], m.epochs.get("time")) if "time" in f else "null::timestamp"
    latency = [f"{_number(f['latency'])} * {latency_scale(f['latency'])}"] if "latency" in f else []
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
