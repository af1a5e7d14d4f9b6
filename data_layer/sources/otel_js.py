"""OpenTelemetry JS span JSON: finished spans as the JS SDK holds them, one per line or in one array.

JavaScript programs (the Vercel AI SDK's ``experimental_telemetry`` among them) log or dump their
``ReadableSpan``s with ``JSON.stringify``: ``spanContext`` (or the class field ``_spanContext``)
with ``traceId`` and ``spanId``, the parent in ``parentSpanContext.spanId`` (SDK 2.x) or
``parentSpanId`` (1.x), flat ``attributes``, and times as HrTime ``[seconds, nanoseconds]``
(``HrTime`` in ``@opentelemetry/api``). The spans become the ``spans`` table of ``spans.py``,
which decides which are calls. The JS ``SpanKind`` counts from 0 (INTERNAL), unlike OTLP's.
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

SYSTEM = "otel_js"
_NEEDS = 'OpenTelemetry JS spans: {"spanContext": {"traceId", "spanId"}, "startTime": [s, ns], ...} per line'
_CONTEXT = re.compile(r'"_?spanContext"\s*:\s*\{')
_HRTIME = re.compile(r'"startTime"\s*:\s*\[')


def recognises_file(path: Path, kind: str) -> bool:
    """A JSON or JSON-lines file whose first record has a ``spanContext`` and an HrTime start."""
    if kind not in ("json", "jsonl"):
        return False
    with path.open("rb") as f:
        head = f.read(65536).decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    first = head.split("\n", 1)[0] if kind == "jsonl" else head
    return head[:1] in ("{", "[") and bool(_CONTEXT.search(first)) and bool(_HRTIME.search(first))


def load_file(path: Path, kind: str, progress: Progress) -> Telemetry:
    name = shown_name(path)
    with records.connect() as con:
        progress(f"Reading spans from {name}", None)
        report = ReadingReport().assume(
            "Span times are HrTime [seconds, nanoseconds] since the epoch, UTC (as OpenTelemetry JS defines)."
        )
        notes = records.json_objects(con, path, kind, report, "raw", "json")
        con.execute(_SPANS)
        total, timed = con.execute("select count(*), count(start_at) from spans").fetchall()[0]
        if total == 0:
            raise BadExport(f"{name} holds no spans. Export some traces first.")
        if total > timed:
            report.assume(
                f"{total - timed:,} spans have no HrTime [seconds, nanoseconds] start and end:"
                " read without a time or latency."
            )
        notes.insert(0, f"Read {total:,} OpenTelemetry JS spans.")
        return spans.telemetry_from_spans(
            con, system=SYSTEM, source_tables={"spans": total}, notes=notes, progress=progress, report=report
        )


# HrTime -> nanoseconds as an integer, so no precision is lost; NULL unless it is a [s, ns] pair.
_NS = """(case when json_array_length(json -> '$.{0}') = 2
           then try_cast(json ->> '$.{0}[0]' as hugeint) * 1000000000
                + try_cast(json ->> '$.{0}[1]' as hugeint)
           end)"""

_SPANS = f"""
create table spans as
with timed as (
    select json, coalesce(json -> '$.spanContext', json -> '$._spanContext') as context,
           {_NS.format("startTime")} as start_ns, {_NS.format("endTime")} as end_ns
    from raw
)
select nullif(lower(context ->> '$.traceId'), '') as trace_id,
       nullif(lower(context ->> '$.spanId'), '') as span_id,
       nullif(lower(coalesce(json ->> '$.parentSpanContext.spanId', json ->> '$.parentSpanId')), '')
           as parent_span_id,
       json ->> '$.name' as name,
       case json ->> '$.kind' when '0' then 'internal' when '1' then 'server' when '2' then 'client'
            when '3' then 'producer' when '4' then 'consumer' end as kind,
       make_timestamp((start_ns // 1000)::bigint) as start_at,
       make_timestamp((end_ns // 1000)::bigint) as end_at,
       (end_ns - start_ns)::double / 1e6 as latency_ms,
       coalesce(json ->> '$.status.code' = '2', false) as failed,
       nullif(json ->> '$.status.message', '') as status_message,
       coalesce(json ->> '$.resource.attributes."service.name"',
                json ->> '$.resource._attributes."service.name"') as service,
       case when json_type(json -> '$.attributes') = 'OBJECT' then json -> '$.attributes'
            else '{{}}'::json end as attrs,
       null::json as prompt_parts,
       null::json as response_parts
from timed
"""  # noqa: S608 (constants only)


ADAPTER = Adapter(
    system=SYSTEM,
    title="OpenTelemetry JS spans (JSON)",
    needs=_NEEDS,
    provides=frozenset({"llm_calls", "tool_calls", "events"}),
    recognises_file=recognises_file,
    load_file=load_file,
)
