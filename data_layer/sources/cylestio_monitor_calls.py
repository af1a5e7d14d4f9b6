"""How cylestio-monitor's events become LLM calls, tool calls and flagged events, whichever file held them.

The SDK's SQLite file and its JSON-lines log (``cylestio_monitor``) both arrive here as one table
``raw``: one row per event, in the order written, with its name, agent, channel, level, ``data``
(schema 1.0's ``attributes``) as JSON text, and the session and span ids where the line has them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from data_layer.sources.database import Progress


def connection() -> duckdb.DuckDBPyConnection:
    """A scratch DuckDB for one load: naive SDK times stay as written (read as UTC)."""
    con = duckdb.connect(":memory:", config={"threads": 2})
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # a slow query's bar would land in the CLI's JSON
    return con


def translate(con: duckdb.DuckDBPyConnection, progress: Progress) -> dict[str, pd.DataFrame]:
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


def orphans(con: duckdb.DuckDBPyConnection) -> list[str]:
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
