"""The telemetry model: the few tidy tables every source is translated into.

Adapters (``data_layer.sources``) are the only code that knows a source's own column names; they
return frames with exactly the columns below. Everything downstream (store, queries, pages)
reads only these tables, and users can query them by these names in SQL.

Conventions, so a reader never has to guess:

* Times are timezone-aware UTC in the frames (``ts`` is when the thing happened, ``*_at`` are
  lifecycle moments). A source's naive timestamps are read as UTC.
* Missing stays missing: a NULL cost, latency or token count is NA here, never 0.
* ``agent`` is the human-readable key of an agent (its name where the source's names are unique),
  the same string in every table.
* Severities use one scale: low, medium, high, critical.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from data_layer.report import ReadingReport

SEVERITIES = ("low", "medium", "high", "critical")
ALERT_STATUSES = ("open", "acknowledged", "resolved")
COST_SOURCES = ("recorded", "estimated", "unknown")
CALL_STATUSES = ("ok", "error", "blocked")
TASK_STATUSES = ("pending", "running", "blocked", "completed", "failed", "cancelled")


@dataclass(frozen=True)
class Column:
    """One column of a model table: its name, kind and what it means to a person reading it."""

    name: str
    kind: str  # text | time | int | float | bool | text_list
    doc: str


PANDAS_DTYPES = {
    "text": pd.StringDtype(),
    "time": "datetime64[us, UTC]",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "text_list": pd.ArrowDtype(pa.list_(pa.string())),
}

_TRACE = (
    Column("trace_id", "text", "OpenTelemetry trace id (hex), where the source has traces"),
    Column("span_id", "text", "span id (hex) of this row's span"),
    Column("parent_span_id", "text", "span id of the parent span, if any"),
    Column("attributes", "text", "what else the source recorded on the row, as a JSON object"),
)

# Columns of free text, often long, that no aggregate reads: a pushed-down source's local copy
# leaves them in PostgreSQL (``data_layer.pushdown``), and raw-row subqueries do not select them.
BULKY = frozenset({"prompt", "response", "attributes"})

TABLES: dict[str, tuple[Column, ...]] = {
    "agents": (
        Column("agent", "text", "agent key used in every other table"),
        Column("display_name", "text", "name the source gives the agent, if different"),
        Column("kind", "text", "agent type or role as the source names it"),
        Column("status", "text", "last status the source reported (running, idle, error...)"),
        Column("created_at", "time", "when the agent was registered"),
        Column("last_seen_at", "time", "last time the source heard from the agent"),
    ),
    "sessions": (
        Column("session", "text", "session key used in the call and event tables"),
        Column("agent", "text", "agent the session belongs to"),
        Column("started_at", "time", "session start"),
        Column("ended_at", "time", "session end; missing while the session is open"),
    ),
    "llm_calls": (
        Column("call_id", "text", "the source's id for the call (event id, span id...)"),
        Column("ts", "time", "when the call was made"),
        Column("agent", "text", "agent that made the call"),
        Column("session", "text", "session the call belongs to"),
        Column("conversation", "text", "conversation within the session, if the source has them"),
        Column("model", "text", "model name as recorded; missing if the source did not record it"),
        Column("tokens_in", "int", "input (prompt) tokens"),
        Column("tokens_out", "int", "output (completion) tokens"),
        Column("cost_usd", "float", "cost in US dollars: recorded, or estimated (see cost_source)"),
        Column("cost_source", "text", "recorded | estimated (genai-prices) | unknown"),
        Column("latency_ms", "float", "duration of the call in milliseconds"),
        Column("is_stream", "bool", "whether the response was streamed"),
        Column("status", "text", "ok | error | blocked"),
        Column("error", "text", "error message of a failed call"),
        Column("prompt", "text", "prompt text, kept for the security views"),
        Column("response", "text", "response text, kept for the security views"),
        *_TRACE,
    ),
    "tool_calls": (
        Column("call_id", "text", "the source's id for the tool call"),
        Column("ts", "time", "when the tool was called"),
        Column("agent", "text", "agent that called the tool"),
        Column("session", "text", "session the call belongs to"),
        Column("tool", "text", "tool name"),
        Column("latency_ms", "float", "duration in milliseconds"),
        Column("success", "bool", "whether the tool call succeeded; missing if not yet known"),
        Column("error", "text", "error message of a failed call"),
        *_TRACE,
    ),
    "tasks": (
        Column("task_id", "text", "the source's task id"),
        Column("agent", "text", "agent the task is (last) assigned to"),
        Column("type", "text", "task type"),
        Column("title", "text", "task title or summary"),
        Column("status", "text", "pending | running | blocked | completed | failed | cancelled"),
        Column("created_at", "time", "when the task was created"),
        Column("started_at", "time", "when work on it started"),
        Column("completed_at", "time", "when it finished, whether completed or failed"),
    ),
    "alerts": (
        Column("alert_id", "text", "the source's id for the alert"),
        Column("ts", "time", "when the alert was raised"),
        Column("agent", "text", "agent concerned, if any"),
        Column("session", "text", "session concerned, if any"),
        Column("event_id", "text", "source event that raised it, for drill-down"),
        Column("source", "text", "what raised the alert (component or check)"),
        Column("type", "text", "alert type or category"),
        Column("severity", "text", "low | medium | high | critical"),
        Column("description", "text", "what the alert says"),
        Column("matched_terms", "text_list", "terms that triggered it"),
        Column("status", "text", "open | acknowledged | resolved"),
    ),
    "flagged_events": (
        Column("event_id", "text", "the flagged event"),
        Column("ts", "time", "when the event happened"),
        Column("agent", "text", "agent of the event"),
        Column("session", "text", "session of the event"),
        Column("level", "text", "suspicious | dangerous, as the source flagged it"),
        Column("matched_terms", "text_list", "terms that matched"),
        Column("reason", "text", "why the event was flagged"),
        Column("source_field", "text", "field of the event the terms were found in"),
    ),
    "metrics": (
        Column("ts", "time", "sample time"),
        Column("agent", "text", "agent the sample is about; missing for system-wide series"),
        Column("name", "text", "series name, e.g. cpu_usage_percent or custom.queue_depth"),
        Column("value", "float", "sample value"),
        Column("unit", "text", "unit of the value (%, MB, ms, count...)"),
    ),
    "thresholds": (
        Column("agent", "text", "agent the threshold applies to; missing for every agent"),
        Column("metric", "text", "metric series (or llm latency_ms) the threshold is on"),
        Column("level", "text", "threshold level as configured (warning, critical, max...)"),
        Column("value", "float", "threshold value, in the series' unit"),
    ),
    "events": (
        Column("event_id", "text", "the source's id for the event"),
        Column("ts", "time", "when the event happened"),
        Column("agent", "text", "agent of the event"),
        Column("session", "text", "session of the event"),
        Column("type", "text", "event type as the source names it"),
        Column("channel", "text", "channel or category (llm, tool, task, chat...)"),
        Column("level", "text", "log level (debug, info, warning, error, critical)"),
        *_TRACE,
    ),
}


def columns(table: str) -> list[str]:
    return [c.name for c in TABLES[table]]


def empty(table: str) -> pd.DataFrame:
    """A frame with the table's columns and dtypes and no rows: a copy of one built once, as
    building it is ~10 ms and a load asks for one per table."""
    return _empty(table).copy()


@functools.cache
def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=PANDAS_DTYPES[c.kind]) for c in TABLES[table]})


def conform(table: str, frame: Frame) -> pd.DataFrame:
    """``frame`` with exactly the table's columns, in order, in the model's types and dtypes.

    The casts are the store's (``data_layer.casts``); columns the frame lacks come back missing
    and extra ones are dropped, so an adapter cannot leak a source column into the model.
    """
    from data_layer.casts import conform as cast_frame  # casts builds on the tables above

    return cast_frame(table, frame)


def to_utc(values: pd.Series) -> pd.Series:
    """Timezone-aware UTC times from datetimes or ISO-8601 text; naive values are read as UTC."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.tz_localize("UTC").astype("datetime64[us, UTC]")
    if pd.api.types.is_numeric_dtype(values.dtype):
        raise TypeError("numeric timestamps must be converted by the adapter, which knows the unit")
    parsed = pd.to_datetime(values.astype("string"), utc=True, format="ISO8601", errors="coerce")
    return parsed.astype("datetime64[us, UTC]")


Frame = pd.DataFrame | pa.Table | pa.RecordBatchReader
"""What adapters hand over: pandas, or Arrow when the rows come from DuckDB or ADBC (no copy),
or a stream of Arrow batches, which the store takes one batch at a time (never whole in memory)."""
Loader = Callable[[], Frame]
"""A frame read only when the store gets to its table, so one big table at a time is in memory."""


def materialize(frame: Frame | Loader) -> Frame:
    return frame() if callable(frame) else frame


def _names(frame: Frame) -> list[str]:
    return list(frame.column_names if isinstance(frame, pa.Table) else frame.columns)


def _drop(frame: Frame, names: list[str]) -> Frame:
    return frame.drop_columns(names) if isinstance(frame, pa.Table) else frame.drop(columns=names)


def without_bulky(frame: Frame | Loader) -> Frame:
    """``frame`` without its ``BULKY`` columns: rows for a copy that leaves the text behind."""
    frame = materialize(frame)
    return _drop(frame, [name for name in _names(frame) if name in BULKY])


def to_pandas(frame: Frame) -> pd.DataFrame:
    """A frame as pandas, text as pandas strings (Arrow-backed, no Python objects)."""
    if isinstance(frame, pd.DataFrame):
        return frame
    return frame.to_pandas(types_mapper=lambda t: pd.StringDtype() if pa.types.is_string(t) else None)


@dataclass
class Telemetry:
    """What an adapter hands over: one frame per model table, plus what it learned on the way.

    Frames are kept as the adapter made them, with model column names but possibly source types
    (text times, integer flags): at millions of rows the store casts them in DuckDB, once, far
    faster than pandas. ``telemetry[table]`` gives a conformed copy for whoever needs one.

    ``source_tables`` are the row counts of the source's own tables as read (for the Data page);
    ``notes`` are plain sentences about choices the adapter made that a user should know about.
    """

    system: str
    tables: dict[str, Frame | Loader] = field(default_factory=dict)
    source_tables: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    source_events: int | None = None  # rows of the source's event table, if it has one
    provided: frozenset[str] = frozenset()  # tables the source has data for (set from ``tables``)
    report: ReadingReport = field(default_factory=ReadingReport)  # what was read, skipped, assumed

    def __post_init__(self) -> None:
        unknown = set(self.tables) - set(TABLES)
        if unknown:
            raise ValueError(f"not model tables: {sorted(unknown)}")
        self.provided = frozenset(name for name, frame in self.tables.items() if frame is not None)
        for name in TABLES:
            frame = self.tables.get(name)
            if frame is None:
                self.tables[name] = empty(name)
            elif callable(frame):
                continue  # checked when the store reads it
            elif extra := set(_names(frame)) - set(columns(name)):
                # Dropped here so a source column (an API key, say) can never leak into the model.
                self.tables[name] = _drop(frame, sorted(extra))

    def __getitem__(self, table: str) -> pd.DataFrame:
        """The table conformed to the model's columns and dtypes (reads a lazy table)."""
        return conform(table, materialize(self.tables[table]))
