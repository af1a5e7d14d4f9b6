"""Generic exports (JSON, JSON-lines, CSV, Parquet, gzip, one SQLite table) load exactly.

Each test writes rows from Python in one format and spelling, then compares the summary with
figures computed from those Python rows: sums in Python, percentiles with numpy, estimates with
genai-prices' own ``calc_price`` at each call's time.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import astuple, dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from genai_prices import Usage, calc_price

from data_layer.sources import open_source
from data_layer.summary import summarize
from tests.conftest import ROOT
from tests.summary_check import assert_same_summary

KNOWN_MODELS = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet-20241022"]
UNKNOWN_MODEL = "acme-internal-llm"
AGENTS = ["support-bot", "researcher", "coder"]
TOOLS = ["search", "shell", "fetch"]
START = datetime(2025, 3, 3, 8, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    """One exported record, as the test means it (times aware UTC, None for absent values)."""

    ts: datetime
    agent: str
    session: str
    model: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    latency_ms: float | None = None
    tool: str | None = None
    error: str | None = None
    event_type: str = "agent.step"
    level: str = "info"

    @property
    def is_llm(self) -> bool:
        return self.model is not None or self.tokens_in is not None or self.tokens_out is not None

    @property
    def is_tool(self) -> bool:
        return not self.is_llm and self.tool is not None


def make_rows(seed: int = 5, n: int = 150) -> list[Row]:
    """LLM calls (some with unknown models, no tokens, no cost, no latency), tool calls, plain events."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        ts = START + timedelta(minutes=29 * i, seconds=rnd.randint(0, 59), milliseconds=rnd.randint(0, 999))
        base = Row(ts=ts, agent=AGENTS[i % 3], session=f"s{i % 9}")
        if i % 5 < 3:
            tokens = (None, None) if i % 11 == 0 else (rnd.randint(10, 4000), rnd.randint(1, 1200))
            error = "rate limited" if i % 13 == 0 else None
            rows.append(
                replace(
                    base,
                    model=UNKNOWN_MODEL if i % 7 == 0 else KNOWN_MODELS[i % 3],
                    tokens_in=tokens[0],
                    tokens_out=tokens[1],
                    cost=None if i % 3 == 0 else round(rnd.uniform(0.0001, 0.2), 6),
                    latency_ms=None if i % 8 == 0 else float(rnd.randint(80, 9000)),
                    error=error,
                    event_type="llm.call",
                    level="ERROR" if error else "INFO",
                )
            )
        elif i % 5 == 3:
            failed = i % 4 == 3
            rows.append(
                replace(
                    base,
                    tool=rnd.choice(TOOLS),
                    latency_ms=float(rnd.randint(3, 700)),
                    error="timeout" if failed else None,
                    event_type="tool.call",
                    level="error" if failed else "info",
                )
            )
        else:
            rows.append(replace(base, level=rnd.choice(["debug", "info", "warning"])))
    return rows


# --- what the summary must say ------------------------------------------------------------------


def _estimate(row: Row) -> float | None:
    """genai-prices' price for a call without a recorded cost, or None if it cannot price it."""
    if row.cost is not None or row.tokens_in is None or row.tokens_out is None:
        return None
    try:
        price = calc_price(
            Usage(input_tokens=row.tokens_in, output_tokens=row.tokens_out),
            row.model,
            genai_request_timestamp=row.ts.astimezone(UTC),
        )
    except LookupError:
        return None
    return float(price.total_price)


def _total(values: list) -> int | float | None:
    """Missing stays missing: the sum over no values is None, not 0."""
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {f"p{q}": None for q in (50, 95, 99)}
    return {f"p{q}": float(np.percentile(values, q)) for q in (50, 95, 99)}


def expected_summary(rows: list[Row]) -> dict:
    llm = [r for r in rows if r.is_llm]
    tools = [r for r in rows if r.is_tool]
    recorded = [r.cost for r in llm if r.cost is not None]
    estimates = [_estimate(r) for r in llm]
    times = [r.ts for r in rows]
    return {
        "schema": "export",
        "agents": len({r.agent for r in rows}),
        "events": len(rows),
        "time_range": {
            "start": min(times).astimezone(UTC).isoformat(),
            "end": max(times).astimezone(UTC).isoformat(),
        },
        "llm": {
            "calls": len(llm),
            # An error column (any row) says which calls failed; without one the file cannot say.
            "failures": sum(1 for r in llm if r.error) if any(r.error for r in rows) else None,
            "tokens_in": _total([r.tokens_in for r in llm]),
            "tokens_out": _total([r.tokens_out for r in llm]),
            "cost_usd": float(_total(recorded)) if recorded else None,
            "calls_without_cost": len(llm) - len(recorded),
            "cost_usd_estimated": _total(estimates),
            "latency_ms": _percentiles([r.latency_ms for r in llm if r.latency_ms is not None]),
        }
        if llm
        else None,
        "tools": {"calls": len(tools), "failures": sum(1 for r in tools if r.error)} if tools else None,
        "tasks": None,
        "alerts": None,
        "flagged_events": None,
        "metrics": None,
    }


# --- writers: one format and spelling each --------------------------------------------------------


def _all_times(store) -> list:
    """Every row's time: calls are in their own tables, the other rows in events."""
    return [t for table in ("llm_calls", "tool_calls", "events") for t in store.frame(table)["ts"]]


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _compact(record: dict) -> dict:
    return {k: v for k, v in record.items() if v is not None}


def _json_array_record(r: Row) -> dict:
    return {
        "timestamp": _iso(r.ts),
        "agent": r.agent,
        "session_id": r.session,
        "model": r.model,
        "input_tokens": r.tokens_in,
        "output_tokens": r.tokens_out,
        "cost_usd": r.cost,
        "latency_ms": r.latency_ms,
        "tool_name": r.tool,
        "status": "error" if r.error else "ok",
        "error": r.error,
        "event_type": r.event_type,
        "level": r.level,
    }


def write_json_array(rows: list[Row], path: Path) -> Path:
    path = path.with_suffix(".json")
    path.write_text(json.dumps([_json_array_record(r) for r in rows], indent=1))
    return path


def write_json_wrapper(rows: list[Row], path: Path, indent: int | None = None) -> Path:
    """An object holding the records under "data"; on one line it sniffs as JSON-lines."""
    records = [
        {
            "ts": _iso(r.ts),
            "agent_name": r.agent,
            "conversation_id": r.session,
            "model_name": r.model,
            "prompt_tokens": r.tokens_in,
            "completion_tokens": r.tokens_out,
            "cost": r.cost,
            "duration_ms": r.latency_ms,
            "tool": r.tool,
            "error": r.error,
            "type": r.event_type,
            "severity": r.level,
        }
        for r in rows
    ]
    path = path.with_suffix(".json")
    wrapper = {"meta": {"exported_by": "test", "count": len(rows)}, "data": records}
    path.write_text(json.dumps(wrapper, indent=indent))
    return path


def _camel_record(r: Row) -> dict:
    """camelCase keys, absent values left out of the record, failure as a boolean."""
    return _compact(
        {
            "createdAt": _iso(r.ts),
            "agentId": r.agent,
            "sessionId": r.session,
            "model": r.model,
            "inputTokens": r.tokens_in,
            "outputTokens": r.tokens_out,
            "totalCost": r.cost,
            "latencyMs": r.latency_ms,
            "toolName": r.tool,
            "isError": bool(r.error),
            "eventType": r.event_type,
            "logLevel": r.level,
        }
    )


def write_jsonl(rows: list[Row], path: Path) -> Path:
    path = path.with_suffix(".jsonl")
    path.write_text("".join(json.dumps(_camel_record(r)) + "\n" for r in rows))
    return path


def write_jsonl_gz(rows: list[Row], path: Path) -> Path:
    path = path.with_suffix(".jsonl.gz")
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(_camel_record(r)) + "\n" for r in rows)
    return path


def write_csv(rows: list[Row], path: Path) -> Path:
    path = path.with_suffix(".csv")
    header = ["timestamp", "agent", "session", "model", "tokens_in", "tokens_out", "cost_usd", "latency_ms"]
    header += ["tool", "success", "event_type", "level"]
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        for r in rows:
            values = [
                _iso(r.ts),
                r.agent,
                r.session,
                r.model,
                r.tokens_in,
                r.tokens_out,
                r.cost,
                r.latency_ms,
            ]
            values += [r.tool, "false" if r.error else "true", r.event_type, r.level]
            out.writerow(["" if v is None else v for v in values])
    return path


def write_parquet(rows: list[Row], path: Path) -> Path:
    path = path.with_suffix(".parquet")
    schema = pa.schema(
        [
            ("time", pa.timestamp("ms", tz="UTC")),
            ("service_name", pa.string()),
            ("thread_id", pa.string()),
            ("model", pa.string()),
            ("input_tokens", pa.int64()),
            ("output_tokens", pa.int64()),
            ("total_cost", pa.float64()),
            ("latency_ms", pa.float64()),
            ("tool_name", pa.string()),
            ("error", pa.string()),
            ("name", pa.string()),
            ("level", pa.string()),
        ]
    )
    columns = [
        [r.ts for r in rows],
        [r.agent for r in rows],
        [r.session for r in rows],
        [r.model for r in rows],
        [r.tokens_in for r in rows],
        [r.tokens_out for r in rows],
        [r.cost for r in rows],
        [r.latency_ms for r in rows],
        [r.tool for r in rows],
        [r.error for r in rows],
        [r.event_type for r in rows],
        [r.level for r in rows],
    ]
    pq.write_table(
        pa.Table.from_arrays(
            [pa.array(c, f.type) for c, f in zip(columns, schema, strict=True)], schema=schema
        ),
        path,
    )
    return path


def write_sqlite(rows: list[Row], path: Path) -> Path:
    """An uploaded SQLite file: one table of calls (naive UTC text times) beside an unrelated one."""
    path = path.with_suffix(".db")
    con = sqlite3.connect(path)
    con.executescript(
        "create table settings (key text primary key, value text);"
        "insert into settings values ('theme', 'dark');"
        "create table llm_calls (id integer primary key, created_at text, agent_name text, session_id text,"
        " model text, prompt_tokens integer, completion_tokens integer, cost real, duration_ms real,"
        " tool_name text, error_message text, event text, level text);"
    )
    con.executemany(
        "insert into llm_calls (created_at, agent_name, session_id, model, prompt_tokens, completion_tokens,"
        " cost, duration_ms, tool_name, error_message, event, level)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                r.ts.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="milliseconds"),
                r.agent,
                r.session,
                r.model,
                r.tokens_in,
                r.tokens_out,
                r.cost,
                r.latency_ms,
                r.tool,
                r.error,
                r.event_type,
                r.level,
            )
            for r in rows
        ],
    )
    con.commit()
    con.close()
    return path


WRITERS: dict[str, Callable[[list[Row], Path], Path]] = {
    "JSON array": write_json_array,
    "JSON object wrapper": write_json_wrapper,
    "indented JSON object wrapper": lambda rows, path: write_json_wrapper(rows, path, indent=2),
    "JSON lines": write_jsonl,
    "gzipped JSON lines": write_jsonl_gz,
    "CSV": write_csv,
    "Parquet": write_parquet,
    "SQLite table": write_sqlite,
}


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return make_rows()


@pytest.mark.parametrize("writer", WRITERS.values(), ids=WRITERS.keys())
def test_summary_of_each_export_format_matches_the_rows_written(rows, writer, tmp_path):
    path = writer(rows, tmp_path / "export")
    assert_same_summary(summarize(open_source(path)), expected_summary(rows))


def test_cli_summarizes_a_csv_export_as_json(rows, tmp_path):
    path = write_csv(rows, tmp_path / "export")
    out = subprocess.run(
        [sys.executable, "-m", "data_layer", "summarize", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert_same_summary(json.loads(out.stdout), expected_summary(rows))


def test_notes_say_which_column_became_which_field(rows, tmp_path):
    notes = " ".join(open_source(write_json_wrapper(rows, tmp_path / "export")).info.notes)
    for pair in ("ts → time", "agent_name → agent", "conversation_id → session", "model_name → model"):
        assert pair in notes
    assert "prompt_tokens → input tokens" in notes and "'data' list" in notes


def test_sqlite_upload_reads_the_table_of_calls_and_names_it(rows, tmp_path):
    store = open_source(write_sqlite(rows, tmp_path / "upload"))
    assert store.info.system == "export"
    assert store.info.source_tables == {"llm_calls": len(rows)}
    assert any("Read table llm_calls; the other tables (settings)" in note for note in store.info.notes)


# --- OpenTelemetry GenAI names, nesting, epochs, missing costs, offsets ---------------------------


def test_open_telemetry_genai_flat_attributes_load_with_latency_from_start_and_end(rows, tmp_path):
    """Span-like records: gen_ai.* keys, start and end times, no cost, error.type on failures."""
    spans = [r for r in rows if r.latency_ms is not None]  # a span always has an end
    records = [
        _compact(
            {
                "trace_id": f"{i // 4:032x}",
                "span_id": f"{i + 1:016x}",
                "start_time": _iso(r.ts),
                "end_time": _iso(r.ts + timedelta(milliseconds=r.latency_ms)),
                "gen_ai.operation.name": "chat" if r.is_llm else "execute_tool" if r.tool else "invoke_agent",
                "gen_ai.agent.name": r.agent,
                "gen_ai.conversation.id": r.session,
                "gen_ai.request.model": r.model,
                "gen_ai.usage.input_tokens": r.tokens_in,
                "gen_ai.usage.output_tokens": r.tokens_out,
                "gen_ai.tool.name": r.tool,
                "error.type": r.error,
            }
        )
        for i, r in enumerate(spans)
    ]
    path = tmp_path / "spans.jsonl"
    path.write_text("".join(json.dumps(rec) + "\n" for rec in records))
    without_cost = [replace(r, cost=None) for r in spans]

    store = open_source(path)
    assert_same_summary(summarize(store), expected_summary(without_cost))
    calls = store.frame("llm_calls")
    assert set(calls["trace_id"]) == {rec["trace_id"] for rec in records if "gen_ai.request.model" in rec}
    assert (calls["status"] == "error").sum() == sum(1 for r in without_cost if r.is_llm and r.error)


def test_nested_attributes_and_usage_objects_are_found(rows, tmp_path):
    """attributes.gen_ai.request.model as nested objects, usage.*, resource attributes, status.code."""
    records = [
        {
            "timestamp": _iso(r.ts),
            "resource": {"attributes": {"service.name": r.agent}},
            "attributes": {
                "gen_ai": {"request": {"model": r.model}, "tool": {"name": r.tool}},
                "session": {"id": r.session},
            },
            "usage": {"input_tokens": r.tokens_in, "output_tokens": r.tokens_out},
            "cost_usd": r.cost,
            "latency_seconds": None if r.latency_ms is None else r.latency_ms / 1000,
            "status": {"code": 2 if r.error else 1},  # OpenTelemetry's STATUS_CODE_ERROR and _OK
        }
        for r in rows
    ]
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(records))
    store = open_source(path)
    assert_same_summary(summarize(store), expected_summary(rows))
    notes = " ".join(store.info.notes)
    assert "attributes.gen_ai.request.model → model" in notes
    assert "latency_seconds is converted to milliseconds" in notes


@pytest.mark.parametrize(
    ("unit", "per_second"),
    [("seconds", 1), ("milliseconds", 1_000), ("microseconds", 1_000_000), ("nanoseconds", 1_000_000_000)],
)
def test_epoch_number_times_are_read_by_their_size(rows, tmp_path, unit, per_second):
    def epoch(ts: datetime) -> int | float:
        millis = round(ts.timestamp() * 1000)
        return millis / 1000 if unit == "seconds" else millis * (per_second // 1000)

    path = tmp_path / "epoch.jsonl"
    path.write_text("".join(json.dumps({**_camel_record(r), "createdAt": epoch(r.ts)}) + "\n" for r in rows))
    store = open_source(path)
    assert_same_summary(summarize(store), expected_summary(rows))
    assert sorted(_all_times(store)) == sorted(r.ts for r in rows)
    assert any(f"createdAt holds epoch {unit}" in note for note in store.info.notes)


def test_missing_costs_stay_missing_and_are_estimated_where_possible(tmp_path):
    when = datetime(2025, 4, 1, 9, 30, tzinfo=UTC)
    rows = [
        Row(when, "a", "s", model="gpt-4o", tokens_in=1000, tokens_out=200, cost=0.5),
        Row(when, "a", "s", model="gpt-4o", tokens_in=1000, tokens_out=200),
        Row(when, "a", "s", model=UNKNOWN_MODEL, tokens_in=1000, tokens_out=200),
        Row(when, "a", "s", model="gpt-4o"),
        Row(when, "a", "s", model="gpt-4o", tokens_in=0, tokens_out=0, cost=0.0),
    ]
    store = open_source(write_csv(rows, tmp_path / "costs"))
    calls = store.frame("llm_calls")
    assert list(calls["cost_source"]) == ["recorded", "estimated", "unknown", "unknown", "recorded"]
    assert calls["cost_usd"].isna().tolist() == [False, False, True, True, False]
    assert calls["cost_usd"][1] == pytest.approx(_estimate(rows[1]), rel=1e-9)
    assert calls["cost_usd"][4] == 0.0  # a recorded zero is zero, not missing
    expected = expected_summary(rows)
    expected["llm"]["failures"] = 0  # the CSV writes an (empty) error column: every call is known to be ok
    assert_same_summary(summarize(store), expected)


def test_times_with_utc_offsets_land_at_the_right_instant(rows, tmp_path):
    zones = [timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30)), UTC]
    records = [
        {**_json_array_record(r), "timestamp": r.ts.astimezone(zones[i % 3]).isoformat()}
        for i, r in enumerate(rows)
    ]
    assert records[0]["timestamp"].endswith("+02:00")
    path = tmp_path / "offsets.jsonl"
    path.write_text("".join(json.dumps(rec) + "\n" for rec in records))
    store = open_source(path)
    assert sorted(_all_times(store)) == sorted(r.ts for r in rows)
    assert_same_summary(summarize(store), expected_summary(rows))


def test_naive_times_are_read_as_utc(tmp_path):
    path = tmp_path / "naive.csv"
    path.write_text("timestamp,model,input_tokens,output_tokens\n2025-05-06 07:08:09,gpt-4o,10,2\n")
    ts = open_source(path).frame("llm_calls")["ts"][0]
    assert ts == datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_a_file_with_only_llm_calls_provides_no_tool_table(tmp_path):
    rows = [r for r in make_rows() if r.is_llm]
    summary = summarize(open_source(write_json_array(rows, tmp_path / "llm")))
    assert summary["tools"] is None and summary["llm"]["calls"] == len(rows)


def test_a_time_column_of_small_numbers_is_passed_over_for_a_real_time(tmp_path):
    path = tmp_path / "durations.csv"
    path.write_text(
        "time,created_at,model,input_tokens\n1.5,2025-01-01T10:00:00Z,gpt-4o,10\n2.5,2025-01-02T11:00:00Z,gpt-4o,20\n"
    )
    store = open_source(path)
    assert list(store.frame("llm_calls")["ts"]) == [
        datetime(2025, 1, 1, 10, tzinfo=UTC),
        datetime(2025, 1, 2, 11, tzinfo=UTC),
    ]
    assert any("time holds numbers too small to be times" in note for note in store.info.notes)


@pytest.mark.postgres
def test_summary_of_a_postgres_table_of_calls_matches_the_rows_written(rows, make_pg_database):
    import psycopg

    url = make_pg_database("export")
    with psycopg.connect(url) as con:
        con.execute(
            "create table spans (span_id bigserial primary key, start_time timestamptz, agent_name text,"
            " session_id text, model text, input_tokens integer, output_tokens integer, cost_usd numeric,"
            " latency_ms double precision, tool_name text, error text, event_type text, level text)"
        )
        with con.cursor() as cur:
            cur.executemany(
                "insert into spans (start_time, agent_name, session_id, model, input_tokens, output_tokens,"
                " cost_usd, latency_ms, tool_name, error, event_type, level)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [astuple(r) for r in rows],  # the columns are in Row's field order
            )
    assert_same_summary(summarize(open_source(url)), expected_summary(rows))


def test_a_one_record_array_keeps_its_list_of_messages_as_the_prompt(tmp_path):
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    record = {"timestamp": "2025-01-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 5, "messages": messages}
    path = tmp_path / "one.json"
    path.write_text(json.dumps([record]))
    calls = open_source(path).frame("llm_calls")
    assert len(calls) == 1
    assert json.loads(calls["prompt"][0]) == messages


def test_an_empty_table_of_calls_loads_as_zero_calls_not_missing_data(tmp_path):
    path = tmp_path / "fresh.db"
    con = sqlite3.connect(path)
    con.execute(
        "create table calls (timestamp text, model text, input_tokens integer, output_tokens integer)"
    )
    con.commit()
    con.close()
    summary = summarize(open_source(path))
    assert summary["llm"]["calls"] == 0 and summary["events"] == 0
    assert summary["tools"] is None
