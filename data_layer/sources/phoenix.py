"""Arize Phoenix span exports: ``get_spans_dataframe()`` saved as Parquet or CSV, and span JSON.

Phoenix gives one row per span: ``name``, ``span_kind``, ``parent_id``, ``start_time``, ``end_time``,
``status_code`` (OK / ERROR / UNSET), ``status_message``, ``events``, ``context.trace_id``,
``context.span_id`` (also the frame's index), then one ``attributes.*`` column per attribute. It
nests attribute names it does not know: ``attributes.gen_ai`` holds ``usage.input_tokens``,
``agent.name`` and so on, as a struct in Parquet and as the Python text of a dict in CSV (pandas
writes ``str(dict)``: single quotes, True, None). Both become flat dotted names again
(``gen_ai.usage.input_tokens``), so the span mapping of ``spans.py`` reads them as it reads OTLP.

There are no resource columns, so no ``service.name``: agents come from the agent names of the
spans and their ancestors.

Phoenix's span JSON (the REST body of ``GET /v1/projects/{id}/spans``, ``{"data": [...]}``, or the
list arize-phoenix-client's ``spans.get_spans()`` returns) has the same fields per span, with the
ids under ``context``, ISO times and flat dotted ``attributes``. Both frames and JSON lose the
``openinference.span.kind`` attribute to ``span_kind``; it is put back, so tool spans are tools.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from data_layer.errors import BadExport, SourceTooLarge
from data_layer.model import Telemetry
from data_layer.report import ReadingReport
from data_layer.sources import records, spans
from data_layer.sources.adapter import Adapter
from data_layer.sources.database import Progress
from data_layer.sources.fields import ident
from data_layer.sources.files import shown_name

SYSTEM = "phoenix"
_NEEDS = "the columns of Phoenix's get_spans_dataframe(): context.trace_id, context.span_id, start_time, ..."

# The span JSON: a list of spans (or one per line), or the REST body's {"data": [...]}; each span
# names these keys.
_JSON_HEAD = re.compile(r'\ufeff?\s*(\{\s*"data"\s*:\s*)?\[?\s*\{')
_JSON_KEYS = ("context", "span_id", "span_kind", "start_time")
_NO_SERVICE = "Phoenix exports have no service.name: agents are the spans' agent names."
_REQUIRED = ("context.trace_id", "context.span_id", "start_time", "end_time", "span_kind")
_PREFIX = "attributes."
_ID_TYPES = {"context.trace_id": "VARCHAR", "context.span_id": "VARCHAR", "parent_id": "VARCHAR"}

# Python's repr of a dict or list (what pandas writes for them in CSV) as JSON, token by token:
# strings in either quote, numbers, True/False/None, nan/inf (to null), brackets and punctuation.
_PY_TOKENS = (
    r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?(?:inf|nan)|-?[0-9][0-9.eE+\-]*|True|False|None|[{}\[\](),:]"""
)
_MACROS = rf"""
create or replace temp macro py_token_json(t) as case
    when t[1] = '''' then
        '"' || replace(replace(replace(t[2:-2], '\''', ''''), '"', '\"'), '\x', '\u00') || '"'
    when t[1] = '"' then '"' || replace(t[2:-2], '\x', '\u00') || '"'
    when t = 'True' then 'true' when t = 'False' then 'false' when t = 'None' then 'null'
    when t in ('nan', 'inf', '-inf', '-nan') then 'null'
    when t = '(' then '[' when t = ')' then ']'
    else t end;
create or replace temp macro py_literal_json(s) as
    array_to_string(list_transform(regexp_extract_all(s, $${_PY_TOKENS}$$), lambda t: py_token_json(t)), '');
"""


def recognises_file(path: Path, kind: str) -> bool:
    """A Parquet or CSV file with the columns of Phoenix's spans frame, or Phoenix span JSON."""
    if kind in ("json", "jsonl"):
        with path.open("rb") as f:
            head = f.read(65536).decode("utf-8", errors="ignore")
        return _JSON_HEAD.match(head) is not None and all(f'"{key}"' in head for key in _JSON_KEYS)
    if kind not in ("parquet", "csv"):
        return False
    return set(_REQUIRED) <= set(_columns(path, kind))


def _columns(path: Path, kind: str) -> list[str]:
    """The file's column names, from its header (CSV: a sample) rather than a full scan."""
    reader = "read_parquet(?)" if kind == "parquet" else "read_csv(?, header = true)"
    try:
        with records.connect() as con:
            return con.sql(f"select * from {reader} limit 0", params=[str(path)]).columns  # noqa: S608
    except duckdb.Error:
        return []


def load_file(path: Path, kind: str, progress: Progress) -> Telemetry:
    name = shown_name(path)
    with records.connect() as con:
        progress(f"Reading spans from {name}", None)
        if kind in ("json", "jsonl"):
            return _load_json(con, path, progress)
        _read(con, path, kind)
        rows = con.execute("select count(*) from raw").fetchall()[0][0]
        if rows == 0:
            raise BadExport(
                f"{name} holds no spans (an empty export). Export some traces from Phoenix first."
            )
        con.execute(_MACROS)
        nested = _python_text_columns(con) if kind == "csv" else []
        con.execute(_flat_attributes(con, nested))
        con.execute(_SPANS)
        notes = [f"Read {rows:,} spans from a Phoenix export ({kind.upper()})."]
        if nested:
            shown = ", ".join(nested[:8]) + (f" and {len(nested) - 8} more" if len(nested) > 8 else "")
            notes.append(f"Nested attributes written as Python text were read as objects: {shown}.")
        notes.append("Phoenix exports have no service.name: agents come from agent names on the spans.")
        report = ReadingReport().assume(_NO_SERVICE)
        return spans.telemetry_from_spans(
            con, system=SYSTEM, source_tables={"spans": rows}, notes=notes, progress=progress, report=report
        )


def _reader(path: Path, kind: str) -> str:
    """The whole file: every CSV row is sampled for types; ids stay text (a hex id may be all digits)."""
    if kind == "parquet":
        return "read_parquet(?)"
    present = set(_columns(path, kind))
    types = ", ".join(f"'{column}': '{typ}'" for column, typ in _ID_TYPES.items() if column in present)
    return f"read_csv(?, header = true, sample_size = -1, types = {{{types}}})"


def _read(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> None:
    """Table ``raw``: the frame's rows, numbered. Errors become the generic export messages."""
    numbered = f"create table raw as select row_number() over () as n, * from {_reader(path, kind)}"  # noqa: S608
    try:
        con.execute(numbered, [str(path)])
    except duckdb.OutOfMemoryException as err:
        raise SourceTooLarge(
            f"{shown_name(path)} does not fit in memory ({records.detail(err)}). Export fewer spans."
        ) from err
    except duckdb.Error as err:
        raise records.unreadable(shown_name(path), kind, err) from err


def _attribute_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rel = con.table("raw")
    return [
        (name, typ.id)
        for name, typ in zip(rel.columns, rel.types, strict=True)
        if name.startswith(_PREFIX) and len(name) > len(_PREFIX)
    ]


def _python_text_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """CSV columns holding pandas' text of dicts and lists (not JSON text, which stays a string).

    Every value must read as a Python literal and one at least must not be JSON already: an
    attribute whose value is JSON text (``input.value``) is a string, and stays one.
    """
    text = [name for name, typ in _attribute_columns(con) if typ == "varchar"]
    if not text:
        return []
    checks = ", ".join(
        f"""coalesce(bool_and(regexp_matches({c}, '^\\s*[\\[{{]') and json_valid(py_literal_json({c})))
                     and bool_or(not json_valid({c})), false)"""
        for c in (ident(name) for name in text)
    )
    flags = con.execute(f"select {checks} from raw").fetchall()[0]  # noqa: S608 (quoted identifiers)
    return [name for name, nested in zip(text, flags, strict=True) if nested]


def _flat_attributes(con: duckdb.DuckDBPyConnection, nested: list[str]) -> str:
    """Table ``flat``: each row's attributes as one object of dotted names, nulls left out.

    Objects (Parquet structs, parsed CSV dicts) are walked into dotted names; lists stay whole.
    """
    pairs = []
    for name, typ in _attribute_columns(con):
        column = f"r.{ident(name)}"
        value = f"json(py_literal_json({column}))" if name in nested else f"to_json({column})"
        if typ in ("float", "double"):
            value = f"case when isfinite({column}) then {value} end"
        key = name[len(_PREFIX) :].replace("'", "''")
        pairs.append(f"'{key}', {value}")
    attributes = f"json_object({', '.join(pairs)})" if pairs else "'{}'::json"
    return f"""
        create or replace temp table flat as
        with objects as (select r.n, {attributes} as j from raw r),
        leaves as (
            select o.n, t.id, regexp_replace(t.fullkey[3:], '"', '', 'g') as key, t.value
            from objects o, json_tree(o.j) t
            where t.type not in ('OBJECT', 'NULL') and not contains(t.fullkey, '[')
        )
        select n, json('{{' || string_agg(to_json(key)::varchar || ':' || value::varchar, ','
                                          order by id) || '}}') as attrs
        from leaves group by n
    """  # noqa: S608 (column names are quoted identifiers)


_SPANS = """
create table spans as
select nullif(lower(r."context.trace_id"::varchar), '') as trace_id,
       nullif(lower(r."context.span_id"::varchar), '') as span_id,
       nullif(lower(r.parent_id::varchar), '') as parent_span_id,
       r.name::varchar as name,
       null::varchar as kind,
       timezone('UTC', try_cast(r.start_time as timestamptz)) as start_at,
       timezone('UTC', try_cast(r.end_time as timestamptz)) as end_at,
       (epoch_ns(try_cast(r.end_time as timestamptz)) - epoch_ns(try_cast(r.start_time as timestamptz)))
           / 1e6 as latency_ms,
       upper(coalesce(r.status_code::varchar, '')) in ('ERROR', 'STATUS_CODE_ERROR', '2') as failed,
       nullif(r.status_message::varchar, '') as status_message,
       null::varchar as service,
       json_merge_patch(json_object('openinference.span.kind', r.span_kind::varchar),
                        coalesce(f.attrs, '{}'::json)) as attrs,
       null::json as prompt_parts,
       null::json as response_parts
from raw r left join flat f using (n)
"""


def _load_json(con: duckdb.DuckDBPyConnection, path: Path, progress: Progress) -> Telemetry:
    """Phoenix span JSON, either form: the spans become the ``spans`` table as the frame's rows do."""
    name = shown_name(path)
    try:
        con.execute(_JSON_RAW, [str(path), records.max_object_size(path)])
    except duckdb.Error as err:
        raise records.unreadable(name, "json", err) from err
    rows = con.execute("select count(*) from raw").fetchall()[0][0]
    if rows == 0:
        raise BadExport(f"{name} holds no spans (an empty export). Export some traces from Phoenix first.")
    con.execute(_JSON_SPANS)
    report = ReadingReport().assume(_NO_SERVICE)
    notes = [
        f"Read {rows:,} spans from a Phoenix export (JSON).",
        "Phoenix exports have no service.name: agents come from agent names on the spans.",
    ]
    return spans.telemetry_from_spans(
        con, system=SYSTEM, source_tables={"spans": rows}, notes=notes, progress=progress, report=report
    )


# The client's list, or the REST body whose "data" holds it: one span per row.
_JSON_RAW = """
create table raw as
with docs as (select json from read_json_objects(?, format := 'auto', maximum_object_size := ?))
select row_number() over () as n, s as span, s -> '$.context' as context  -- no context: no span id
from (select unnest(case when json_type(json) = 'OBJECT' and json_exists(json, '$.data')
                         then json_extract(json, '$.data[*]') else [json] end) as s from docs)
"""

# Attributes flat by their dotted names, whether the JSON writes them flat ("llm.model_name") or
# nested ({"llm": {"model_name": ..}}); lists stay whole, as in the frames.
_JSON_SPANS = """
create table spans as
with leaves as (
    select r.n, t.id, regexp_replace(t.fullkey[3:], '"', '', 'g') as key, t.value
    from raw r, json_tree(r.span -> '$.attributes') t
    where json_type(r.span -> '$.attributes') = 'OBJECT'
      and t.type not in ('OBJECT', 'NULL') and not contains(t.fullkey, '[')
), flat as (
    select n, json('{' || string_agg(to_json(key)::varchar || ':' || value::varchar, ',' order by id) || '}')
           as attrs
    from leaves group by n
)
select nullif(lower(context ->> '$.trace_id'), '') as trace_id,
       nullif(lower(context ->> '$.span_id'), '') as span_id,
       nullif(lower(span ->> '$.parent_id'), '') as parent_span_id,
       span ->> '$.name' as name,
       null::varchar as kind,
       timezone('UTC', try_cast(span ->> '$.start_time' as timestamptz)) as start_at,
       timezone('UTC', try_cast(span ->> '$.end_time' as timestamptz)) as end_at,
       (epoch_ns(try_cast(span ->> '$.end_time' as timestamptz))
        - epoch_ns(try_cast(span ->> '$.start_time' as timestamptz))) / 1e6 as latency_ms,
       upper(coalesce(span ->> '$.status_code', '')) in ('ERROR', 'STATUS_CODE_ERROR', '2') as failed,
       nullif(span ->> '$.status_message', '') as status_message,
       null::varchar as service,
       json_merge_patch(json_object('openinference.span.kind', span ->> '$.span_kind'),
                        coalesce(f.attrs, '{}'::json)) as attrs,
       null::json as prompt_parts,
       null::json as response_parts
from raw r left join flat f using (n)
"""


ADAPTER = Adapter(
    system=SYSTEM,
    title="Phoenix span export",
    needs=_NEEDS,
    provides=frozenset({"llm_calls", "tool_calls", "events"}),
    recognises_file=recognises_file,
    load_file=load_file,
)
