"""OpenTelemetry trace files: OTLP/JSON as the Collector's file exporter and OTLP/HTTP bodies write them.

Agents are traced with OpenLLMetry (``opentelemetry-instrumentation-*``) or Arize OpenInference
(``openinference-instrumentation-*``); both write OpenTelemetry spans, with different attribute
names, and releases of OpenLLMetry renamed theirs. This module reads the OTLP/JSON forms and holds
the span mapping that the Phoenix reader (``phoenix.py``) shares:

1. *read*: the file's spans become one DuckDB table ``spans`` (``SPAN_COLUMNS``): ids as lower-case
   hex, times as naive UTC, the span status, the resource's ``service.name`` and the span's
   attributes as one flat JSON object keyed by their dotted names (``gen_ai.usage.input_tokens``);
2. *map*: ``telemetry_from_spans`` turns spans into LLM calls, tool calls and events by the OTel
   GenAI, OpenLLMetry and OpenInference names in ``_NAMES``, resolving agents and sessions through
   the span tree with one recursive query.

A span with a model attribute (or OpenInference kind ``LLM``) is an LLM call; every other span is an
event, and tool spans are tool calls too. Names of two schemes are never added up: the first name
present wins. Every row keeps its span's attributes in ``attributes``. Everything runs in DuckDB.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from data_layer.errors import BadExport
from data_layer.model import Telemetry
from data_layer.report import ReadingReport
from data_layer.sources import records
from data_layer.sources.adapter import Adapter
from data_layer.sources.database import Progress
from data_layer.sources.files import shown_name

SYSTEM = "otlp"
_NEEDS = 'OTLP/JSON: {"resourceSpans": [...]} per line, or one such document'

# Which attribute names mean what, best first. Coalesced per span, so names of different schemes
# (OTel GenAI current, OpenLLMetry <= 0.53, OpenInference) are never added up.
_NAMES: dict[str, tuple[str, ...]] = {
    "model": (
        "gen_ai.request.model",
        "llm.request.model_name",
        "llm.model_name",
        "gen_ai.response.model",
        "llm.response.model_name",
    ),
    "tokens_in": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"),
    "tokens_out": (
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.token_count.completion",
    ),
    "agent": ("gen_ai.agent.name", "agent.name"),
    "session": ("session.id", "gen_ai.conversation.id"),
    "conversation": ("gen_ai.conversation.id",),
    "tool": ("gen_ai.tool.name", "tool.name"),
    "prompt": ("gen_ai.input.messages", "input.value", "gen_ai.prompt", "llm.input_messages"),
    "response": ("gen_ai.output.messages", "output.value", "gen_ai.completion", "llm.output_messages"),
    "is_stream": ("llm.is_streaming", "gen_ai.request.stream"),
    "error_type": ("error.type",),
    "operation": ("gen_ai.operation.name",),
    "oi_kind": ("openinference.span.kind",),
}

# Indexed attributes (OpenLLMetry's gen_ai.prompt.0.content) kept together as the prompt text.
_INDEXED = {
    "prompt": ("gen_ai.prompt.", "llm.input_messages."),
    "response": ("gen_ai.completion.", "llm.output_messages."),
}

# The SDKs' service.name when the program set none: no agent's name.
_DEFAULT_SERVICE = "unknown_service"

SPAN_COLUMNS = (
    "trace_id varchar, span_id varchar, parent_span_id varchar, name varchar, kind varchar,"
    " start_at timestamp, end_at timestamp, latency_ms double, failed boolean, status_message varchar,"
    " service varchar, attrs json, prompt_parts json, response_parts json"
)


# --- file adapter -------------------------------------------------------------------------------------


def recognises_file(path: Path, kind: str) -> bool:
    """A JSON or JSON-lines file whose first record is an ExportTraceServiceRequest."""
    if kind not in ("json", "jsonl"):
        return False
    with path.open("rb") as f:
        head = f.read(4096).decode("utf-8", errors="ignore")
    return re.match(r'\ufeff?\s*\[?\s*\{\s*"resourceSpans"\s*:', head) is not None


def load_file(path: Path, kind: str, progress: Progress) -> Telemetry:
    name = shown_name(path)
    with records.connect() as con:
        progress(f"Reading spans from {name}", None)
        con.execute(_MACROS)
        report = ReadingReport().assume("Span times are nanoseconds since the epoch, UTC (as OTLP defines).")
        notes = read_requests(con, path, kind, report)
        con.execute(_RAW_SPANS)
        con.execute(f"create table spans as select * from ({_SPANS_FROM_REQUESTS})")  # noqa: S608
        counts = con.execute("select count(*), count(distinct service) from spans").fetchall()[0]
        if counts[0] == 0:
            raise BadExport(f"{name} holds no spans (its requests are empty). Export some traces first.")
        lines = con.execute("select count(*) from requests").fetchall()[0][0]
        what = "lines" if kind == "jsonl" else "documents"
        notes.insert(0, f"Read {counts[0]:,} spans of {counts[1]:,} services from {lines:,} OTLP {what}.")
        return telemetry_from_spans(
            con,
            system=SYSTEM,
            source_tables={"spans": counts[0]},
            notes=notes,
            progress=progress,
            report=report,
        )


def read_requests(con: duckdb.DuckDBPyConnection, path: Path, kind: str, report: ReadingReport) -> list[str]:
    """Table ``requests``, one ExportTraceServiceRequest per row; a cut last line is skipped and counted."""
    name = shown_name(path)
    fmt = "newline_delimited" if kind == "jsonl" else "auto"
    sql = (
        "create or replace table requests as select row_number() over () as request, json"
        " from read_json_objects(?, format := ?, ignore_errors := ?, maximum_object_size := ?)"
        " where json is not null"
    )
    params = [str(path), fmt, False, records.max_object_size(path)]
    try:
        con.execute(sql, params)
        return []
    except duckdb.Error as err:
        if not (kind == "jsonl" and records.last_line_is_cut(path) and records.bad_lines(con, path) == 1):
            raise records.unreadable(name, kind, err) from err
    con.execute(sql, [*params[:2], True, params[3]])
    report.skip(records.CUT_LAST_LINE, 1, [records.last_line_number(path)])
    return ["The last line of the file was cut off (a file still being written?); its spans were skipped."]


# OTLP/JSON AnyValue -> plain JSON. Arrays and key-value lists of scalars become JSON arrays and
# objects; anything nested deeper keeps its OTLP form.
_MACROS = """
create or replace temp macro otlp_scalar(v) as case
    when v is null then null
    when json_exists(v, '$.stringValue') then to_json(v ->> '$.stringValue')
    when json_exists(v, '$.intValue') then to_json(try_cast(v ->> '$.intValue' as hugeint))
    when isfinite(try_cast(v ->> '$.doubleValue' as double))
        then to_json(try_cast(v ->> '$.doubleValue' as double))
    when json_exists(v, '$.doubleValue') then to_json(v ->> '$.doubleValue')
    when json_exists(v, '$.boolValue') then v -> '$.boolValue'
    when json_exists(v, '$.bytesValue') then to_json(v ->> '$.bytesValue')
    else null end;
create or replace temp macro otlp_value(v) as case
    when json_exists(v, '$.arrayValue') then to_json(list_transform(
        coalesce(json_extract(v, '$.arrayValue.values[*]'), []),
        lambda x: coalesce(otlp_scalar(x), x)))
    when json_exists(v, '$.kvlistValue') then json('{' || array_to_string(list_transform(
        coalesce(json_extract(v, '$.kvlistValue.values[*]'), []),
        lambda kv: to_json(kv ->> '$.key')::varchar || ':'
                   || coalesce(otlp_scalar(kv -> '$.value'), kv -> '$.value', 'null')::varchar), ',') || '}')
    else otlp_scalar(v) end;
create or replace temp macro otlp_id(id) as case
    when id is null or id = '' then null
    when regexp_full_match(id, '[0-9a-fA-F]+') then lower(id)
    else lower(hex(try(from_base64(id)))) end;
"""

# One row per span, numbered once: the queries below join on that number.
_RAW_SPANS = """
create or replace temp table raw_spans as
with resources as (
    select request, unnest(coalesce(json_extract(json, '$.resourceSpans[*]'), [])) as rs from requests
), scopes as (
    select request, rs -> '$.resource' as resource,
           unnest(coalesce(json_extract(rs, '$.scopeSpans[*]'), [])) as ss
    from resources
), spans as (
    select resource, unnest(coalesce(json_extract(ss, '$.spans[*]'), [])) as span from scopes
)
select row_number() over () as n, resource, span from spans
"""

_SPANS_FROM_REQUESTS = """
with raw as (
    select * from raw_spans
), listed as (
    select n, json_extract(span, '$.attributes[*]') as list from raw
), attributes as (
    select n, i, a ->> '$.key' as key, otlp_value(a -> '$.value') as value
    from (select n, unnest(list) as a, generate_subscripts(list, 1) as i from listed)
), grouped as (
    select n,
           {attrs} as attrs,
           {prompt_parts} as prompt_parts,
           {response_parts} as response_parts
    from attributes group by n
), services as (
    select n, list_filter(
        coalesce(json_extract(resource, '$.attributes[*]'), []),
        lambda a: a ->> '$.key' = 'service.name')[1] -> '$.value' ->> '$.stringValue' as service
    from raw
), timed as (
    select r.n, r.span,
           nullif(try_cast(r.span ->> '$.startTimeUnixNano' as hugeint), 0) as start_ns,  -- 0: unset
           nullif(try_cast(r.span ->> '$.endTimeUnixNano' as hugeint), 0) as end_ns,
           s.service, g.attrs, g.prompt_parts, g.response_parts
    from raw r join services s using (n) left join grouped g using (n)
)
select otlp_id(span ->> '$.traceId') as trace_id,
       otlp_id(span ->> '$.spanId') as span_id,
       otlp_id(span ->> '$.parentSpanId') as parent_span_id,
       span ->> '$.name' as name,
       case regexp_replace(upper(coalesce(span ->> '$.kind', '')), '^SPAN_KIND_', '')
            when '1' then 'internal' when '2' then 'server' when '3' then 'client'
            when '4' then 'producer' when '5' then 'consumer'
            when 'INTERNAL' then 'internal' when 'SERVER' then 'server' when 'CLIENT' then 'client'
            when 'PRODUCER' then 'producer' when 'CONSUMER' then 'consumer' end as kind,
       make_timestamp((start_ns // 1000)::bigint) as start_at,
       make_timestamp((end_ns // 1000)::bigint) as end_at,
       (end_ns - start_ns)::double / 1e6 as latency_ms,
       upper(coalesce(span ->> '$.status.code', '')) in ('2', 'STATUS_CODE_ERROR', 'ERROR') as failed,
       nullif(span ->> '$.status.message', '') as status_message,
       service,
       coalesce(attrs, '{{}}'::json) as attrs, prompt_parts, response_parts
from timed
"""


def _key_filter(prefixes: tuple[str, ...]) -> str:
    return "(" + " or ".join(f"starts_with(key, '{p}')" for p in prefixes) + ")"


def _object(condition: str) -> str:
    """A JSON object of the (key, value) rows meeting ``condition``, in the span's order.

    json_group_object is a macro and takes no FILTER, so the object is built as text.
    """
    pairs = "to_json(key)::varchar || ':' || value::varchar"
    return f"json('{{' || string_agg({pairs}, ',' order by i) filter (where {condition}) || '}}')"


_SPANS_FROM_REQUESTS = _SPANS_FROM_REQUESTS.format(
    attrs=_object("value is not null"),
    prompt_parts=_object(f"value is not null and {_key_filter(_INDEXED['prompt'])}"),
    response_parts=_object(f"value is not null and {_key_filter(_INDEXED['response'])}"),
)


# --- the span mapping, shared with the Phoenix reader --------------------------------------------------


def _attr(name: str) -> str:
    """The text of one attribute of the span (NULL when absent)."""
    return f"json_extract_string(attrs, '$.\"{name}\"')"


def _first(field: str) -> str:
    return f"coalesce({', '.join(_attr(n) for n in _NAMES[field])})"


def _count(field: str) -> str:
    return f"try_cast(round(try_cast({_first(field)} as double)) as bigint)"


_FIELDS = f"""
create or replace temp table span_fields as
select s.*,
       {_first("model")} as model,
       {_count("tokens_in")} as tokens_in,
       {_count("tokens_out")} as tokens_out,
       {_first("agent")} as own_agent,
       {_first("session")} as own_session,
       {_first("conversation")} as own_conversation,
       {_first("tool")} as tool_name,
       {_first("prompt")} as prompt_text,
       {_first("response")} as response_text,
       {_first("is_stream")} as stream_flag,
       {_first("error_type")} as error_type,
       lower({_first("operation")}) as operation,
       upper({_first("oi_kind")}) as oi_kind
from (
    select * from spans
    where span_id is not null
    qualify row_number() over (partition by trace_id, span_id order by end_at desc nulls last) = 1
) s
"""  # noqa: S608 (attribute names are constants)

# Nearest agent and session up the span tree (the span's own first), from the roots down: each
# span is visited once. Spans whose parent is not in the file start a tree of their own.
_INHERITED = """
create or replace temp table span_tree as
with recursive tree as (
    select f.trace_id, f.span_id, f.own_agent as agent_name, f.own_session as session_key,
           f.own_conversation as conversation, 0 as depth
    from span_fields f
    where f.parent_span_id is null or not exists (
        select 1 from span_fields p where p.trace_id = f.trace_id and p.span_id = f.parent_span_id)
    union all
    select c.trace_id, c.span_id, coalesce(c.own_agent, t.agent_name),
           coalesce(c.own_session, t.session_key), coalesce(c.own_conversation, t.conversation),
           t.depth + 1
    from tree t join span_fields c on c.trace_id = t.trace_id and c.parent_span_id = t.span_id
    where t.depth < 256
)
select f.*,
       coalesce(case when not starts_with(f.service, $default_service) then f.service end,
                t.agent_name, f.own_agent) as agent,
       coalesce(t.session_key, f.own_session, f.trace_id) as session,
       coalesce(t.conversation, f.own_conversation) as conversation,
       case when f.oi_kind is not null then f.oi_kind = 'LLM'
            when f.operation in ('invoke_agent', 'create_agent', 'execute_tool') then false
            else f.model is not null end as is_llm,
       coalesce(f.oi_kind = 'TOOL', false) or coalesce(f.operation = 'execute_tool', false) as is_tool
from span_fields f
left join (select distinct on (trace_id, span_id) * from tree order by trace_id, span_id, depth) t
       using (trace_id, span_id)
"""

_ERROR = "case when failed then coalesce(status_message, error_type, 'error') end"

_SPLIT = {
    "llm_calls": f"""
        select span_id as call_id, start_at as ts, agent, session,
               case when conversation is distinct from session then conversation end as conversation,
               model, tokens_in, tokens_out, null::double as cost_usd, latency_ms,
               case lower(stream_flag) when 'true' then true when 'false' then false end as is_stream,
               case when failed then 'error' else 'ok' end as status, {_ERROR} as error,
               coalesce(prompt_text, prompt_parts::varchar) as prompt,
               coalesce(response_text, response_parts::varchar) as response,
               trace_id, span_id, parent_span_id, attrs::varchar as attributes
        from span_tree where is_llm order by start_at, span_id
    """,  # noqa: S608 (constants only)
    "tool_calls": f"""
        select span_id as call_id, start_at as ts, agent, session, coalesce(tool_name, name) as tool,
               latency_ms, not failed as success, {_ERROR} as error,
               trace_id, span_id, parent_span_id, attrs::varchar as attributes
        from span_tree where is_tool and not is_llm order by start_at, span_id
    """,  # noqa: S608 (constants only)
    "events": """
        select span_id as event_id, start_at as ts, agent, session, name as type,
               case when is_tool then 'tool'
                    when oi_kind is not null then lower(oi_kind)
                    when operation = 'invoke_agent' then 'agent'
                    else coalesce(kind, 'span') end as channel,
               case when failed then 'error' else 'info' end as level,
               trace_id, span_id, parent_span_id, attrs::varchar as attributes
        from span_tree where not is_llm order by start_at, span_id
    """,
}


def telemetry_from_spans(
    con: duckdb.DuckDBPyConnection,
    *,
    system: str,
    source_tables: dict[str, int],
    notes: list[str],
    progress: Progress,
    report: ReadingReport | None = None,
) -> Telemetry:
    """Map table ``spans`` (``SPAN_COLUMNS``) into the model; only tables with rows are provided.

    Spans without an id, and the second and later copies of a span, are counted in the report.
    """
    progress("Mapping spans to calls and events", None)
    con.execute(_FIELDS)
    con.execute(_INHERITED, {"default_service": _DEFAULT_SERVICE})
    counts = dict(zip(_COUNTS, con.execute(_COUNT_SQL).fetchall()[0], strict=True))
    wanted = {"llm_calls": counts["llm"], "tool_calls": counts["tools"], "events": counts["events"]}
    tables = {name: records.arrow(con, _SPLIT[name]) for name, n in wanted.items() if n}
    report = report or ReadingReport()
    for source, n in source_tables.items():
        report.count(source, n)
    report.skip("span without a span id", counts["no_id"])
    report.skip("span repeated (read once)", counts["duplicates"])
    report.assume(
        "A span's agent is its resource's service.name, else the nearest gen_ai.agent.name or agent.name;"
        " its session session.id, else gen_ai.conversation.id, else its trace id.",
    )
    return Telemetry(
        system=system,
        tables=tables,
        source_tables=source_tables,
        source_events=counts["kept"],
        notes=[*notes, *_notes(counts)],
        report=report,
    )


_COUNTS = ("no_id", "duplicates", "kept", "llm", "tools", "events", "no_time")
_COUNT_SQL = """
select (select count(*) filter (span_id is null) from spans),
       (select count(*) filter (span_id is not null) from spans) - count(*),
       count(*), count(*) filter (is_llm), count(*) filter (is_tool and not is_llm),
       count(*) filter (not is_llm), count(*) filter (start_at is null)
from span_tree
"""


def _notes(counts: dict[str, int]) -> list[str]:
    """Sentences for the Data page: how the spans were read, so a user can check it."""
    notes = [
        f"{counts['llm']:,} spans with a model (or OpenInference kind LLM) are LLM calls;"
        f" {counts['tools']:,} tool spans are tool calls; every other span is an event."
        " Each row keeps its span's attributes.",
        "Agents are the resource's service.name, else the gen_ai.agent.name or agent.name of the span or"
        " its nearest ancestor; sessions are session.id, else gen_ai.conversation.id (inherited the same"
        " way), else the trace id.",
    ]
    if counts["duplicates"]:
        notes.append(
            f"{counts['duplicates']:,} spans appeared more than once (a resent batch?) and were read once."
        )
    if counts["no_id"]:
        notes.append(f"{counts['no_id']:,} spans without a span id were left out.")
    if counts["no_time"]:
        notes.append(f"{counts['no_time']:,} spans have no start time.")
    if counts["llm"]:
        notes.append(
            "No trace records cost: LLM costs are estimated from tokens with genai-prices where possible."
        )
    return notes


ADAPTER = Adapter(
    system=SYSTEM,
    title="OpenTelemetry traces (OTLP/JSON)",
    needs=_NEEDS,
    provides=frozenset({"llm_calls", "tool_calls", "events"}),
    recognises_file=recognises_file,
    load_file=load_file,
)
