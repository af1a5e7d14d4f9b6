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
    with _connection() as con:
        con.register("raw_in", raw)
        con.execute(_RAW_FROM_FRAME)
        tables = _translate(con, progress)
        notes = _NOTES + _orphans(con)
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
        with _connection() as con:
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
    with _connection() as con:
        try:
            con.execute(_LOG_LINES, [str(path), _FILE_FORMATS[kind]])
        except duckdb.Error as err:
            detail = str(err).strip().splitlines()[0][:200]
            raise BadExport(
                f"Cannot read {path.name} as a cylestio-monitor log ({detail})."
                " Upload the log file the SDK wrote."
            ) from err
        con.execute(_RAW_FROM_LOG)
        tables = _translate(con, progress)
        tables["agents"] = con.execute(_AGENTS_FROM_EVENTS).df()
        counts = con.execute(_LOG_COUNTS).df().iloc[0]
        notes = _NOTES + _orphans(con) + _log_notes(counts)
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


# -- the translation, shared by both ---------------------------------------------------------------


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config={"threads": 2})
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # a slow query's bar would land in the CLI's JSON
    return con


def _translate(con: duckdb.DuckDBPyConnection, progress: Progress) -> dict[str, pd.DataFrame]:
    """The model tables from ``raw`` (one row per SDK event, ``data`` as JSON text)."""
    progress("Pairing call events", None)
    con.execute(_EVENTS)
    con.execute(_CALLS)
    return {
        "events": con.execute(_EVENT_ROWS).df(),
        "llm_calls": con.execute(_LLM_CALLS).df(),
        "tool_calls": con.execute(_TOOL_CALLS).df(),
        "flagged_events": con.execute(_FLAGGED).df(),
    }


# Each event parsed once. ``family`` and ``role`` say how it takes part in a call. ``pair`` names
# the call: the LangChain callback's run_id or schema 1.0's span_id where the event has one, else
# the count of its family's starts so far (per agent and channel), so an outcome names the latest
# start before it.
_EVENTS = """
create table ev as
with parsed as (
    select seq, event_id, try_cast(ts as timestamptz)::timestamp as ts, agent, type, channel,
           lower(level) as level, case when json_valid(data) then data::json end as j, session, span
    from raw
), classified as (
    select *,
        case when starts_with(type, 'LLM_call_') then 'llm'
             when type in ('llm_start', 'chat_model_start', 'model_request', 'llm_end', 'llm_finish',
                           'model_response', 'llm_error', 'model_error') then 'llm_run'
             when starts_with(type, 'llm.call.') then 'llm_span'
             when starts_with(type, 'MCP_tool_call_') then 'mcp_tool'
             when type in ('call_start', 'call_finish', 'call_error')
                  and coalesce(j ->> '$.function', j ->> '$.method') = 'call_tool' then 'call_tool'
             when type in ('tool.start', 'tool.execution', 'tool.call', 'tool.end', 'tool.result',
                           'tool.error') then 'tool_v1'
        end as family,
        case when type in ('LLM_call_start', 'MCP_tool_call_start', 'call_start', 'llm_start',
                           'chat_model_start', 'model_request', 'llm.call.start', 'tool.start',
                           'tool.execution', 'tool.call') then 'start'
             when type in ('LLM_call_finish', 'MCP_tool_call_finish', 'call_finish', 'llm_end',
                           'llm_finish', 'model_response', 'llm.call.finish', 'llm.call.end',
                           'tool.end', 'tool.result') then 'finish'
             when type in ('LLM_call_error', 'MCP_tool_call_error', 'call_error', 'llm_error',
                           'model_error', 'llm.call.error', 'tool.error') then 'error'
             when type in ('LLM_call_blocked', 'MCP_tool_call_blocked') then 'blocked'
        end as role,
        case when type in ('llm_start', 'chat_model_start', 'model_request', 'llm_end', 'llm_finish',
                           'model_response', 'llm_error', 'model_error') then j ->> '$.run_id'
             when starts_with(type, 'llm.call.') then span
        end as call_key
    from parsed
), numbered as (
    select *,
        count(*) filter (where role = 'start' and call_key is null) over (
            partition by family, agent, channel order by seq
            rows between unbounded preceding and current row
        ) as call_no
    from classified
)
select *,
    case when call_key is not null then 'k:' || call_key
         else 'n:' || coalesce(channel, '') || ':' || call_no end as pair
from numbered
"""

_EVENT_ROWS = """
select event_id, ts, agent, type, channel, level from ev order by seq
"""

# Every outcome with the start it answers. A blocked MCP tool call is logged instead of its start,
# so it is never paired; a second outcome after one start (the SDK writes none) stays unpaired too.
# A start that names its call (run_id, span_id) and has no outcome is a call of unknown outcome;
# an unnamed one (0.1.2) cannot be told from a start an outcome lost, and is reported instead.
_CALLS = """
create table calls as
with outcomes as (
    select *, row_number() over (partition by family, agent, pair order by seq) as nth
    from ev where family is not null and role in ('finish', 'error', 'blocked')
), answered as (
    select o.*, s.ts as start_ts, s.j as start_j, coalesce(o.session, s.session) as call_session,
           date_diff('microsecond', s.ts, o.ts) / 1000.0 as elapsed_ms
    from outcomes o
    left join ev s
      on s.family = o.family and s.role = 'start' and s.pair = o.pair
     and (o.call_key is not null or o.call_no > 0)
     and s.agent is not distinct from o.agent
     and o.nth = 1 and o.role <> 'blocked'
)
select * exclude (nth) from answered
union all by name
select s.*, s.ts as start_ts, s.j as start_j, s.session as call_session, null::double as elapsed_ms
from ev s
where s.role = 'start' and s.call_key is not null
  and not exists (
      select 1 from ev o
      where o.family = s.family and o.pair = s.pair and o.role in ('finish', 'error', 'blocked')
        and o.agent is not distinct from s.agent
  )
"""

# Tokens, model and latency where a release records them: schema 1.0's attributes, the LangChain
# callback's response and performance; 0.1.2 records none, and no release records cost.
_LLM_CALLS = """
select event_id as call_id, coalesce(start_ts, ts) as ts, agent, call_session as session,
       coalesce(j ->> '$."llm.model"', start_j ->> '$."llm.model"', j ->> '$.response.model') as model,
       coalesce(try_cast(j ->> '$."llm.usage.input_tokens"' as bigint),
                try_cast(j ->> '$.response.token_usage.prompt_tokens' as bigint)) as tokens_in,
       coalesce(try_cast(j ->> '$."llm.usage.output_tokens"' as bigint),
                try_cast(j ->> '$.response.token_usage.completion_tokens' as bigint)) as tokens_out,
       null::double as cost_usd,
       case role when 'finish' then 'ok' when 'start' then null else role end as status,
       case role when 'error' then coalesce(j ->> '$.error', j ->> '$."error.message"')
                 when 'blocked' then j ->> '$.reason' end as error,
       case when role not in ('finish', 'error') then null
            when family = 'llm_span' then coalesce(
                try_cast(j ->> '$."llm.response.duration_ms"' as double), elapsed_ms)
            when family = 'llm_run' then coalesce(
                try_cast(j ->> '$.performance.duration_ms' as double), elapsed_ms)
            when role = 'finish' then coalesce(try_cast(j ->> '$.duration' as double) * 1000, elapsed_ms)
            else elapsed_ms
       end as latency_ms,
       coalesce(start_j ->> '$.prompt', j ->> '$.prompt', start_j ->> '$."llm.request.data"') as prompt,
       coalesce(j ->> '$.response', j ->> '$."llm.response.content"') as response,
       case when family = 'llm_span' then span end as span_id
from calls where family in ('llm', 'llm_run', 'llm_span')
order by seq
"""

# 0.1.2 writes the tool name only in its start event's arguments: the JSON of the keyword arguments
# (call_tool(name=...)), or else the repr of the positional ones: (<ClientSession ...>, 'add', {...}).
# A failed tool says isError=True (mcp 1.x) or is_error=True (mcp 2.x) in the repr (or JSON) of its
# CallToolResult, its message in text=.
_TOOL_CALLS = r"""
with tools as (
    select *,
        coalesce(
            j ->> '$.tool', start_j ->> '$.tool', j ->> '$."tool.name"', start_j ->> '$."tool.name"',
            case when json_valid(start_j ->> '$.kwargs') then (start_j ->> '$.kwargs')::json ->> '$.name' end,
            nullif(regexp_extract(start_j ->> '$.kwargs', '''name'': ''([^'']*)''', 1), ''),
            nullif(regexp_extract(start_j ->> '$.args', '^\(<[^>]*>, ''([^'']*)''', 1), ''),
            nullif(regexp_extract(start_j ->> '$.args', '^\(<[^>]*>, "([^"]*)"', 1), '')
        ) as tool,
        regexp_matches(coalesce(j ->> '$.result', j ->> '$."tool.result"', ''),
                       '(isError|is_error)["'']?\s*[=:]\s*[Tt]rue') as result_failed,
        coalesce(
            nullif(regexp_extract(j ->> '$.result', 'text=''((?:[^''\\]|\\.)*)''', 1), ''),
            nullif(regexp_extract(j ->> '$.result', 'text="((?:[^"\\]|\\.)*)"', 1), '')
        ) as result_text
    from calls where family in ('mcp_tool', 'call_tool', 'tool_v1') and role <> 'start'
)
select event_id as call_id, coalesce(start_ts, ts) as ts, agent, call_session as session, tool,
       case role when 'finish' then coalesce(
                     try_cast(j ->> '$.duration' as double) * 1000,
                     try_cast(j ->> '$.duration_ms' as double),
                     try_cast(j ->> '$."tool.duration_ms"' as double),
                     elapsed_ms)
                 when 'error' then elapsed_ms
       end as latency_ms,
       role = 'finish' and not result_failed as success,
       case when role = 'error'
            then coalesce(j ->> '$.error', j ->> '$."tool.error"', j ->> '$."error.message"')
            when role = 'blocked' then j ->> '$.reason'
            when result_failed then result_text
       end as error
from tools
order by seq
"""

# What the SDK's keyword check flagged, and where: prompt or tool arguments on a start, response or
# tool result on a finish. Which keyword matched is not recorded.
_FLAGGED = """
with flagged as (
    select event_id, ts, agent, seq, lower(j ->> '$.alert') as flag,
           case when role = 'start' and family = 'llm' then 'prompt'
                when role = 'start' then 'args'
                when family = 'llm' then 'response'
                else 'result'
           end as source_field
    from ev
    where lower(j ->> '$.alert') in ('suspicious', 'dangerous')
)
select event_id, ts, agent, flag as level, source_field, flag || ' keyword in the ' || source_field as reason
from flagged
order by seq
"""

_ORPHANS = """
select family, count(*) as starts, bool_or(call_key is not null) as named
from ev s
where role = 'start' and family is not null
  and not exists (
      select 1 from ev o
      where o.family = s.family and o.pair = s.pair and o.role in ('finish', 'error', 'blocked')
        and o.agent is not distinct from s.agent
  )
group by family order by family
"""


def _orphans(con: duckdb.DuckDBPyConnection) -> list[str]:
    """A note for starts no outcome answers: the program stopped mid-call, or is still in it."""
    what = {"mcp_tool": "MCP tool calls", "call_tool": "MCP tool calls", "tool_v1": "tool calls"}
    notes = []
    for row in con.execute(_ORPHANS).df().itertuples():
        if row.family in ("llm_run", "llm_span"):
            notes.append(
                f"{int(row.starts)} LLM calls have a start event but no finish or error event in the"
                " log: they are counted as calls of unknown outcome, without latency."
            )
        else:
            notes.append(
                f"{int(row.starts)} {what.get(row.family, 'LLM calls')} have a start event but no"
                " finish, error or blocked event; they are counted as events only."
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
