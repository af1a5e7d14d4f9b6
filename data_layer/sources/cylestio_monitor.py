"""What the cylestio-monitor SDK (PyPI ``cylestio-monitor`` 0.1.x) writes: its SQLite file and its JSON log.

0.1.0 to 0.1.2 keep two SQLite tables, ``agents`` (agent_id, created_at, last_seen) and ``events``
(agent_id pointing at agents.id, event_type, channel, level, timestamp, data JSON); from 0.1.3 the
SDK sends events to an API instead and writes no database. Given ``log_file`` every release also
writes one JSON line per event, in one of three shapes that a log appended across upgrades mixes:

* 0.1.0-0.1.2: ``{timestamp, level, channel, agent_id, event, data}``, with lines of the SDK's own
  log messages (``message`` instead of ``event``);
* 0.1.3-0.1.4: ``{timestamp, level, agent_id, event_type, channel, session_id, data}``;
* 0.1.5-0.1.12: ``{schema_version, timestamp, trace_id, span_id, parent_span_id, name, level,
  attributes, agent_id}`` (``utils/event_logging.py``).

What the events hold decides the mapping:

* LLM calls: ``LLM_call_start`` followed by ``LLM_call_finish`` (``duration`` in seconds),
  ``LLM_call_error`` or ``LLM_call_blocked`` (a dangerous prompt the SDK refused), without a call id:
  each outcome is paired with the latest start of the same agent and channel. The LangChain
  callback's ``llm_start`` / ``chat_model_start`` / ``model_request`` and its ``llm_end`` /
  ``llm_finish`` / ``model_response`` / ``llm_error`` / ``model_error`` are paired by ``run_id``
  (``performance.duration_ms``, milliseconds). Schema 1.0's ``llm.call.start`` and
  ``llm.call.finish`` / ``llm.call.end`` / ``llm.call.error`` are one call per ``span_id``, with
  ``llm.model``, ``llm.usage.input_tokens`` / ``output_tokens`` and ``llm.response.duration_ms``.
  A keyed start with no outcome in the log is a call of unknown outcome, without latency.
* MCP tool calls: 0.1.2 wraps ``ClientSession.call_tool`` in its generic monitor, which writes
  ``call_start`` (the tool name only inside the repr of the call's arguments), ``call_finish``
  (duration, the repr of the CallToolResult) and ``call_error``. A result whose repr says
  ``isError=True`` (mcp 1.x) or ``is_error=True`` (mcp 2.x) is a failed tool call.
  ``MCP_tool_call_*`` events, which the SDK's docs describe, are read too, and schema 1.0's
  ``tool.start`` / ``tool.execution`` / ``tool.call`` with ``tool.end`` / ``tool.result`` /
  ``tool.error``, paired in order.
* Prompts, responses and tool data the SDK flagged (``alert``: suspicious or dangerous) become
  flagged events; the SDK does not say which keyword matched.

No release records cost; only schema 1.0 and the LangChain callback record tokens. Timestamps are
the SDK's ``datetime.now()``: local wall-clock time without a zone, read as UTC.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import sqlalchemy as sa

from data_layer.errors import BadExport
from data_layer.model import Telemetry
from data_layer.report import ReadingReport
from data_layer.sources import records
from data_layer.sources.adapter import Adapter, optional_column
from data_layer.sources.cylestio_monitor_calls import connection, orphans, translate
from data_layer.sources.database import Database, Progress

SYSTEM = "cylestio-monitor"

# Event names of the 0.1.x SDK: one of them among a log's first records marks the file as its own.
KNOWN_EVENTS = (
    "LLM_call_start",
    "LLM_call_finish",
    "LLM_call_error",
    "LLM_call_blocked",
    "MCP_tool_call_start",
    "MCP_tool_call_finish",
    "MCP_tool_call_error",
    "MCP_tool_call_blocked",
    "call_start",
    "call_finish",
    "call_error",
    "MCP_patch",
    "LLM_patch",
    "monitoring_enabled",
    "monitoring_disabled",
    # 0.1.3-0.1.4 (``event_type``)
    "framework_patch",
    "framework_patch_error",
    "monitor_init",
    "monitor_finish",
    "monitor_shutdown",
    "model_request",
    "model_response",
    "model_error",
    "llm_start",
    "chat_model_start",
    "llm_end",
    "llm_finish",
    "llm_error",
    # 0.1.5-0.1.12 (schema 1.0 ``name``)
    "monitoring.start",
    "monitoring.stop",
    "framework.patch",
    "llm.call.start",
    "llm.call.finish",
    "llm.call.end",
    "llm.call.error",
    "tool.start",
    "tool.execution",
    "tool.call",
)
_SNIFF_RECORDS = 200
_FILE_FORMATS = {"jsonl": "newline_delimited", "json": "auto"}

# What the mapping takes for granted, for the reading report.
_ASSUMPTIONS = (
    "Timestamps are the SDK's local clock time without a time zone, read as UTC.",
    "An outcome event without a call id (0.1.2's) answers the same agent's and channel's latest start"
    " before it; the LangChain callback's are paired by run_id, schema 1.0's by span_id.",
    "A finish event's duration is in seconds (0.1.2's LLM_call_finish and call_finish); the"
    " LangChain callback's performance.duration_ms and schema 1.0's llm.response.duration_ms are"
    " milliseconds.",
)

_NOTES = [
    "cylestio-monitor records no cost, and before schema 1.0 no model or token counts: those show"
    " as missing.",
    "The SDK gives LLM and tool calls no id: each finish, error or blocked event is paired with"
    " the same agent's latest start event before it.",
    "Latency is the duration the SDK recorded; for failed calls, the time from start to error."
    " Blocked LLM calls were never sent and have none.",
    "An MCP tool result with isError=True (mcp 1.x) or is_error=True (mcp 2.x) counts as a failed tool call.",
    "Timestamps are the SDK's local clock time without a time zone, read as UTC.",
]


# -- SQLite ----------------------------------------------------------------------------------------


def recognises(db: Database) -> bool:
    """The SDK's two tables, without the server schema's session_id and llm_calls (cylestio.py)."""
    return (
        db.has("agents", "id", "agent_id")
        and db.has("events", "id", "agent_id", "event_type", "channel", "level", "timestamp", "data")
        and "session_id" not in db.columns("events")
        and "llm_calls" not in db.catalog()
    )


def load(db: Database, progress: Progress) -> Telemetry:
    progress("Reading agents", None)
    agents = db.read(_agents_select(db), progress, "agents")
    progress("Reading events", None)
    raw = db.read(_events_select(db), progress, "events")
    with connection() as con:
        con.register("raw_in", raw)
        con.execute(_RAW_FROM_FRAME)
        tables = translate(con, progress)
        notes = _NOTES + orphans(con)
    tables["agents"] = agents
    return Telemetry(
        system=SYSTEM,
        tables=tables,
        source_tables={"agents": len(agents), "events": len(raw)},
        source_events=len(raw),
        notes=notes,
        report=ReadingReport(read={"agents": len(agents), "events": len(raw)}).assume(*_ASSUMPTIONS),
    )


def _events_select(db: Database) -> sa.Select:
    """Every event with its agent's name; the id doubles as the order the SDK wrote them in."""
    events, agents = db.table("events"), db.table("agents")
    return sa.select(
        events.c.id.label("seq"),
        sa.cast(events.c.id, sa.String).label("event_id"),
        sa.cast(events.c.timestamp, sa.String).label("ts"),
        agents.c.agent_id.label("agent"),
        events.c.event_type.label("type"),
        events.c.channel.label("channel"),
        events.c.level.label("level"),
        sa.cast(events.c.data, sa.String).label("data"),
    ).select_from(events.outerjoin(agents, agents.c.id == events.c.agent_id))


def _agents_select(db: Database) -> sa.Select:
    agents = db.table("agents")
    return sa.select(
        agents.c.agent_id.label("agent"),
        optional_column(agents, "created_at").label("created_at"),
        optional_column(agents, "last_seen").label("last_seen_at"),
    )


_RAW_FROM_FRAME = """
create table raw as
select seq::bigint as seq, event_id::varchar as event_id, ts::varchar as ts, agent::varchar as agent,
       type::varchar as type, channel::varchar as channel, level::varchar as level,
       data::varchar as data, null::varchar as session, null::varchar as span
from raw_in
"""


# -- JSON-lines log --------------------------------------------------------------------------------


def recognises_file(path: Path, kind: str) -> bool:
    """A log whose first records all have the SDK's keys, and one at least a known event name."""
    if kind not in _FILE_FORMATS:
        return False
    params = [str(path), _FILE_FORMATS[kind], _SNIFF_RECORDS, list(KNOWN_EVENTS)]
    try:
        with connection() as con:
            events, foreign = con.execute(_SNIFF, params).fetchone()
    except duckdb.Error:
        return False
    return events > 0 and foreign == 0


# Which of the three line shapes a JSON record has; NULL for anything else (log messages included).
_SHAPE = """
case when json_type(json) <> 'OBJECT' or not json_exists(json, '$.timestamp')
          or not json_exists(json, '$.level') then null
     when json_exists(json, '$.schema_version') and json ->> '$.name' is not null then 'v1'
     when json ->> '$.event_type' is not null and json_exists(json, '$.agent_id') then 'event_type'
     when json ->> '$.event' is not null and json_exists(json, '$.channel')
          and json_exists(json, '$.agent_id') then 'event'
end
"""

# The record's event name, whichever shape it has.
_NAME = "coalesce(json ->> '$.event', json ->> '$.event_type', json ->> '$.name')"

_SNIFF = f"""
with sample as (
    select json from read_json_objects($1, format = $2, ignore_errors = true)
    where json is not null limit $3
), shaped as (
    select {_SHAPE} as shape,
           json_type(json) = 'OBJECT' and json ->> '$.message' is not null
           and json_exists(json, '$.timestamp') and json_exists(json, '$.level')
           and json_exists(json, '$.channel') and json_exists(json, '$.agent_id') as message,
           list_contains($4, {_NAME}) as known_event
    from sample
)
select count(*) filter (where shape is not null and known_event),
       count(*) filter (where shape is null and not coalesce(message, false))
from shaped
"""  # noqa: S608 - our own SQL fragments


def load_file(path: Path, kind: str, progress: Progress) -> Telemetry:
    progress(f"Reading {path.name}", None)
    with connection() as con:
        try:
            con.execute(_LOG_LINES, [str(path), _FILE_FORMATS[kind]])
        except duckdb.Error as err:
            detail = str(err).strip().splitlines()[0][:200]
            raise BadExport(
                f"Cannot read {path.name} as a cylestio-monitor log ({detail})."
                " Upload the log file the SDK wrote."
            ) from err
        con.execute(_RAW_FROM_LOG)
        tables = translate(con, progress)
        tables["agents"] = con.execute(_AGENTS_FROM_EVENTS).df()
        counts = con.execute(_LOG_COUNTS).df().iloc[0]
        notes = _NOTES + orphans(con) + _log_notes(counts)
    events = int(counts["events"])
    report = ReadingReport(read={"events": events, "messages": int(counts["messages"])})
    report.skip("the SDK's own log message, not an event", int(counts["messages"]))
    if counts["other"]:
        report.count("other JSON", int(counts["other"]))
        report.skip("JSON that is neither an event nor a log message", int(counts["other"]))
    records.count_unreadable(report, path, int(counts["unreadable"]))
    return Telemetry(
        system=SYSTEM,
        tables=tables,
        source_tables={"events": events, "messages": int(counts["messages"])},
        source_events=events,
        notes=notes,
        report=report.assume(*_ASSUMPTIONS),
    )


# One row per record, numbered in file order (DuckDB keeps a single file's order); a line that is
# not JSON becomes a NULL record instead of failing the whole load.
_LOG_LINES = f"""
create table lines as
select row_number() over () as seq, json, {_SHAPE} as shape
from read_json_objects($1, format = $2, ignore_errors = true)
"""  # noqa: S608 - our own SQL fragments

_RAW_FROM_LOG = f"""
create table raw as
select seq, seq::varchar as event_id, json ->> '$.timestamp' as ts,
       coalesce(json ->> '$.agent_id', json ->> '$.attributes."agent.id"') as agent,
       {_NAME} as type, json ->> '$.channel' as channel, json ->> '$.level' as level,
       (case shape when 'v1' then json -> '$.attributes' else json -> '$.data' end)::varchar as data,
       case shape when 'v1' then json ->> '$.attributes."session.id"' else json ->> '$.session_id' end
           as session,
       json ->> '$.span_id' as span
from lines
where shape is not null
"""  # noqa: S608 - our own SQL fragments

# A log has no agents table: an agent is first and last seen in its events.
_AGENTS_FROM_EVENTS = """
select agent, min(ts) as created_at, max(ts) as last_seen_at
from ev where agent is not null group by agent order by agent
"""

_LOG_COUNTS = """
with kinds as (
    select json, shape,
           shape is null and json ->> '$.message' is not null as message,
           lower(json ->> '$.level') in ('error', 'critical') as failing
    from lines
)
select count(*) filter (where shape is not null) as events,
       count(*) filter (where shape = 'event_type') as event_type_lines,
       count(*) filter (where shape = 'v1') as v1_lines,
       count(*) filter (where message) as messages,
       count(*) filter (where json is null) as unreadable,
       count(*) filter (where json is not null and shape is null and not message) as other,
       count(*) filter (where message and failing) as errors,
       min(json ->> '$.message') filter (where message and failing) as error_example
from kinds
"""


def _log_notes(counts: pd.Series) -> list[str]:
    """Say what the log holds besides events: unreadable lines, and the SDK's own errors."""
    notes = []
    if counts["unreadable"]:
        notes.append(f"{int(counts['unreadable'])} lines of the log are not JSON and were skipped.")
    if counts["errors"]:
        notes.append(
            f"The SDK logged {int(counts['errors'])} error messages of its own"
            f" (e.g. {counts['error_example']!r}): its database may lack events this log has."
        )
    return notes


ADAPTER = Adapter(
    system=SYSTEM,
    title="cylestio-monitor SDK",
    needs=(
        "the SDK's tables agents (id, agent_id) and events (agent_id, event_type, channel, level,"
        " timestamp, data), or its JSON-lines log (timestamp, level, agent_id and event, event_type"
        " or schema_version with name and attributes)"
    ),
    provides=frozenset({"agents", "events", "llm_calls", "tool_calls", "flagged_events"}),
    formats="its database or JSON-lines log",
    recognises=recognises,
    load=load,
    recognises_file=recognises_file,
    load_file=load_file,
)
