"""Spans to the telemetry model: which span is an LLM call, a tool call, an agent, a session.

Every span reader (OTLP/JSON in ``otlp.py``, OpenTelemetry JS span JSON in ``otel_js.py``, Phoenix
in ``phoenix.py``) fills one DuckDB table ``spans`` (``SPAN_COLUMNS``: ids as lower-case hex, times
as naive UTC, the span's attributes as one flat JSON object keyed by their dotted names) and hands
it to ``telemetry_from_spans``. Instrumentations differ in attribute names (OTel GenAI, OpenLLMetry
before 0.53, OpenInference, the Vercel AI SDK): ``_NAMES`` lists them best first, and names of two
schemes are never added up (the first present wins).

An LLM call is counted once. A span *carries a model* when it names one and is no agent, tool or
embeddings operation; frameworks wrap the provider's span in one of their own that carries the
model too (LangChain, the AI SDK's ``ai.generateText``), so the **innermost** span carrying a model
is the call and the wrappers above it are events whose tokens and cost are not added. Above means
an ancestor by parent id or, for two root spans of different traces with the same recorded token
counts, a span whose time holds the other's: LangChain tracers (OpenInference, OpenLLMetry) do not make their
LLM span current, so the provider's span starts a trace of its own.
"""

from __future__ import annotations

import duckdb

from data_layer.model import Telemetry
from data_layer.report import ReadingReport
from data_layer.sources import records
from data_layer.sources.database import Progress

SPAN_COLUMNS = (
    "trace_id varchar, span_id varchar, parent_span_id varchar, name varchar, kind varchar,"
    " start_at timestamp, end_at timestamp, latency_ms double, failed boolean, status_message varchar,"
    " service varchar, attrs json, prompt_parts json, response_parts json"
)

# Which attribute names mean what, best first. Coalesced per span, so names of different schemes
# (OTel GenAI current, OpenLLMetry <= 0.53, OpenInference, the Vercel AI SDK) are never added up.
_NAMES: dict[str, tuple[str, ...]] = {
    "model": (
        "gen_ai.request.model",
        "llm.request.model_name",
        "llm.model_name",
        "gen_ai.response.model",
        "llm.response.model_name",
        "ai.model.id",
    ),
    "tokens_in": (
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
        "llm.token_count.prompt",
        "ai.usage.inputTokens",
        "ai.usage.promptTokens",
    ),
    "tokens_out": (
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.token_count.completion",
        "ai.usage.outputTokens",
        "ai.usage.completionTokens",
    ),
    # Cached input tokens are part of the input tokens (OTel GenAI: cache_read.input_tokens "SHOULD
    # be included in gen_ai.usage.input_tokens"; OpenInference's prompt_details likewise): never added.
    "cache_read": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read",
        "ai.usage.cachedInputTokens",
    ),
    "cost": ("gen_ai.usage.cost",),  # OpenLit records the cost it computed
    "agent": ("gen_ai.agent.name", "agent.name"),
    "session": ("session.id", "gen_ai.conversation.id", "traceloop.association.properties.session_id"),
    "conversation": ("gen_ai.conversation.id",),
    "tool": ("gen_ai.tool.name", "tool.name", "ai.toolCall.name"),
    "prompt": ("gen_ai.input.messages", "input.value", "gen_ai.prompt", "llm.input_messages"),
    "response": ("gen_ai.output.messages", "output.value", "gen_ai.completion", "llm.output_messages"),
    "is_stream": ("llm.is_streaming", "gen_ai.request.stream"),
    "error_type": ("error.type",),
    "operation": ("gen_ai.operation.name",),
    "oi_kind": ("openinference.span.kind",),
    "traceloop_kind": ("traceloop.span.kind",),
    "ai_operation": ("ai.operationId",),
}

# Operations that name a model without being a call of it (OTel GenAI gen_ai.operation.name).
_NOT_CALLS = "('invoke_agent', 'create_agent', 'execute_tool', 'embeddings')"

# The SDKs' service.name when the program set none: no agent's name.
_DEFAULT_SERVICE = "unknown_service"


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
       {_count("cache_read")} as cache_read,
       try_cast({_first("cost")} as double) as recorded_cost,
       {_first("agent")} as own_agent,
       {_first("session")} as own_session,
       {_first("conversation")} as own_conversation,
       {_first("tool")} as tool_name,
       {_first("prompt")} as prompt_text,
       {_first("response")} as response_text,
       {_first("is_stream")} as stream_flag,
       {_first("error_type")} as error_type,
       lower({_first("operation")}) as operation,
       upper({_first("oi_kind")}) as oi_kind,
       is_tool,
       not is_tool and {_first("model")} is not null
           and coalesce(lower({_first("operation")}) not in {_NOT_CALLS}, true)
           and coalesce(upper({_first("oi_kind")}) = 'LLM', true) as carries_model
from (
    select *,
           coalesce(upper({_first("oi_kind")}) = 'TOOL', false)
           or coalesce(lower({_first("operation")}) = 'execute_tool', false)
           or coalesce(lower({_first("traceloop_kind")}) = 'tool', false)
           or coalesce({_first("ai_operation")} = 'ai.toolCall', false) as is_tool
    from spans
    where span_id is not null
    qualify row_number() over (partition by trace_id, span_id order by end_at desc nulls last) = 1
) s
"""  # noqa: S608 (attribute names are constants)

# Spans carrying a model that wrap another such span, and how: by parent id (every ancestor of a
# model span, walked up; UNION ends cycles) or by time, for two roots of different traces whose
# token counts are recorded and agree and whose names differ (the same request seen by two layers,
# the framework's and the provider SDK's). Without tokens there is no sign that two overlapping
# calls are one, so both stay calls; the equal counts also keep the join small where a file holds
# many concurrent calls (50,000 overlapping root calls: none merged).
_WRAPPERS = """
create or replace temp table span_wrappers as
with recursive up as (
    select trace_id, parent_span_id as ancestor from span_fields
    where carries_model and parent_span_id is not null
    union
    select p.trace_id, p.parent_span_id from up u
    join span_fields p on p.trace_id = u.trace_id and p.span_id = u.ancestor
    where p.parent_span_id is not null
), roots as (
    select * from span_fields where carries_model and parent_span_id is null
)
select distinct f.trace_id, f.span_id, 'parent' as how
from up u join span_fields f on f.trace_id = u.trace_id and f.span_id = u.ancestor
where f.carries_model
union
select distinct o.trace_id, o.span_id, 'time' as how
from roots o join roots i
  on i.trace_id <> o.trace_id and o.start_at <= i.start_at and i.end_at <= o.end_at
 and o.tokens_in = i.tokens_in and o.tokens_out = i.tokens_out and o.name is distinct from i.name
"""

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
       coalesce(t.agent_name, f.own_agent,
                case when not starts_with(f.service, $default_service) then f.service end) as agent,
       coalesce(t.session_key, f.own_session, f.trace_id) as session,
       coalesce(t.conversation, f.own_conversation) as conversation,
       w.how as wrapper,
       f.carries_model and w.how is null as is_llm
from span_fields f
left join (select distinct on (trace_id, span_id) * from tree order by trace_id, span_id, depth) t
       using (trace_id, span_id)
left join (select distinct on (trace_id, span_id) * from span_wrappers order by trace_id, span_id, how)
       w using (trace_id, span_id)
"""

_ERROR = "case when failed then coalesce(status_message, error_type, 'error') end"

_SPLIT = {
    "llm_calls": f"""
        select span_id as call_id, start_at as ts, agent, session,
               case when conversation is distinct from session then conversation end as conversation,
               model, tokens_in, tokens_out, recorded_cost as cost_usd, latency_ms,
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
        from span_tree where is_tool order by start_at, span_id
    """,  # noqa: S608 (constants only)
    "events": """
        select span_id as event_id, start_at as ts, agent, session, name as type,
               case when is_tool then 'tool'
                    when wrapper is not null then 'llm wrapper'
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

    Spans without an id, and the second and later copies of a span, are counted in the report,
    and so are the wrappers that were not counted as calls.
    """
    progress("Mapping spans to calls and events", None)
    con.execute(_FIELDS)
    con.execute(_WRAPPERS)
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
        "A span's agent is the nearest gen_ai.agent.name or agent.name (its own or an ancestor's), else"
        " its resource's service.name; its session session.id, else gen_ai.conversation.id, else its"
        " trace id.",
    )
    _report_calls(report, counts)
    return Telemetry(
        system=system,
        tables=tables,
        source_tables=source_tables,
        source_events=counts["kept"],
        notes=[*notes, *_notes(counts)],
        report=report,
    )


def _report_calls(report: ReadingReport, counts: dict[str, int]) -> None:
    """What the reading report says about how calls were told apart, when it happened in this file."""
    if counts["by_parent"]:
        report.assume(
            f"{counts['by_parent']:,} spans naming a model have another such span below them (a framework's"
            " span over the provider's): the innermost is the call; these are events, their tokens and cost"
            " not added."
        )
    if counts["by_time"]:
        report.assume(
            f"{counts['by_time']:,} root spans naming a model hold, in their time, a root span of another"
            " trace with the same token counts under another name (a LangChain tracer's span over the"
            " provider's, which starts its own trace): taken as the same call, counted once from the"
            " inner span."
        )
    if counts["no_model"]:
        report.assume(
            f"{counts['no_model']:,} OpenInference LLM spans name no model (the request failed before"
            " one answered?): events, not calls. Where a framework's span over one names the model, that"
            " span is the call."
        )
    if counts["cached"]:
        report.assume(
            f"{counts['cached']:,} calls record cached input tokens; they are part of the input tokens"
            " (as the OpenTelemetry GenAI conventions and OpenInference define them) and not added again."
        )
    if counts["costed"]:
        report.assume(
            f"{counts['costed']:,} calls record their cost (gen_ai.usage.cost, US dollars): that figure"
            " is shown, not an estimate."
        )


_COUNTS = ("no_id", "duplicates", "kept", "llm", "tools", "events", "no_time")
_COUNTS += ("by_parent", "by_time", "cached", "costed", "no_model")
_COUNT_SQL = """
select (select count(*) filter (span_id is null) from spans),
       (select count(*) filter (span_id is not null) from spans) - count(*),
       count(*), count(*) filter (is_llm), count(*) filter (is_tool),
       count(*) filter (not is_llm), count(*) filter (start_at is null),
       count(*) filter (wrapper = 'parent'), count(*) filter (wrapper = 'time'),
       count(*) filter (is_llm and cache_read is not null),
       count(*) filter (is_llm and recorded_cost is not null),
       count(*) filter (oi_kind = 'LLM' and model is null)
from span_tree
"""


def _notes(counts: dict[str, int]) -> list[str]:
    """Sentences for the Data page: how the spans were read, so a user can check it."""
    wrappers = counts["by_parent"] + counts["by_time"]
    notes = [
        f"{counts['llm']:,} spans with a model are LLM calls;"
        f" {counts['tools']:,} tool spans are tool calls; every other span is an event."
        " Each row keeps its span's attributes.",
        "Agents are the gen_ai.agent.name or agent.name of the span or its nearest ancestor, else the"
        " resource's service.name; sessions are session.id, else gen_ai.conversation.id (inherited the"
        " same way), else the trace id.",
    ]
    if wrappers:
        notes.append(
            f"{wrappers:,} spans with a model wrap another call (a framework's span over the provider's)"
            " and are events, so each call is counted once."
        )
    if counts["duplicates"]:
        notes.append(
            f"{counts['duplicates']:,} spans appeared more than once (a resent batch?) and were read once."
        )
    if counts["no_id"]:
        notes.append(f"{counts['no_id']:,} spans without a span id were left out.")
    if counts["no_time"]:
        notes.append(f"{counts['no_time']:,} spans have no start time.")
    if counts["llm"] > counts["costed"]:
        recorded = "Some traces record cost" if counts["costed"] else "No trace records cost"
        notes.append(
            f"{recorded}: the other LLM costs are estimated from tokens with genai-prices where possible."
        )
    return notes
