"""OpenTelemetry trace files: OTLP/JSON as the Collector's file exporter and OTLP/HTTP bodies write them.

Agents are traced with OpenLLMetry (``opentelemetry-instrumentation-*``), Arize OpenInference
(``openinference-instrumentation-*``), OpenLit or LangSmith; all write OpenTelemetry spans, with
different attribute names. This module reads the OTLP/JSON forms (one ExportTraceServiceRequest
per line, or one document) into the DuckDB table ``spans`` of ``spans.py``: ids as lower-case hex,
times as naive UTC, the span status, the resource's ``service.name`` and the span's attributes as
one flat JSON object keyed by their dotted names (``gen_ai.usage.input_tokens``). ``spans.py``
decides which span is which call. Everything runs in DuckDB.
"""

from __future__ import annotations

import re
from pathlib import Path

from data_layer.errors import BadExport
from data_layer.model import Telemetry
from data_layer.report import ReadingReport
from data_layer.sources import records, spans
from data_layer.sources.adapter import Adapter
from data_layer.sources.database import Progress
from data_layer.sources.files import shown_name

SYSTEM = "otlp"
_NEEDS = 'OTLP/JSON: {"resourceSpans": [...]} per line, or one such document'

# Indexed attributes (OpenLLMetry's gen_ai.prompt.0.content) kept together as the prompt text.
_INDEXED = {
    "prompt": ("gen_ai.prompt.", "llm.input_messages."),
    "response": ("gen_ai.completion.", "llm.output_messages."),
}

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
        notes = records.json_objects(
            con, path, kind, report, "requests", "row_number() over () as request, json"
        )
        con.execute(_RAW_SPANS)
        con.execute(f"create table spans as select * from ({_SPANS_FROM_REQUESTS})")  # noqa: S608
        counts = con.execute("select count(*), count(distinct service) from spans").fetchall()[0]
        if counts[0] == 0:
            raise BadExport(f"{name} holds no spans (its requests are empty). Export some traces first.")
        lines = con.execute("select count(*) from requests").fetchall()[0][0]
        what = "lines" if kind == "jsonl" else "documents"
        notes.insert(0, f"Read {counts[0]:,} spans of {counts[1]:,} services from {lines:,} OTLP {what}.")
        return spans.telemetry_from_spans(
            con,
            system=SYSTEM,
            source_tables={"spans": counts[0]},
            notes=notes,
            progress=progress,
            report=report,
        )


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


ADAPTER = Adapter(
    system=SYSTEM,
    title="OpenTelemetry traces (OTLP/JSON)",
    needs=_NEEDS,
    provides=frozenset({"llm_calls", "tool_calls", "events"}),
    recognises_file=recognises_file,
    load_file=load_file,
)
