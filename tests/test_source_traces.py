"""Trace files written by real instrumentation (OTLP/JSON and Phoenix exports) load as the programs ran.

The fixtures were made by ``tests/fixtures/traces/make_fixtures.py``: OpenLLMetry 0.62 and 0.47 and
OpenInference traced Anthropic calls answered by a mock transport, the SDK's OTLP encoder wrote the
spans, and a local Phoenix exported them. ``expected.json`` is the programs' account of what they
did and what the mock answered; these tests apply the issue's mapping rules to that account and
compare. They only read the committed files: regenerating them needs the network.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache

import numpy as np
import pandas as pd
import pytest
from genai_prices import Usage, calc_price
from streamlit.testing.v1 import AppTest

from data_layer.errors import BadExport, UnknownSchema
from data_layer.sources import load_telemetry, open_source
from data_layer.summary import summarize
from tests.conftest import ROOT
from tests.summary_check import assert_same_summary
from ui.pages_list import PAGES

FIXTURES = ROOT / "tests" / "fixtures" / "traces"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
SPANS = {s["span_id"]: s for s in EXPECTED["spans"]}
FILES = EXPECTED["files"]
PHOENIX = ("parquet", "csv")


def spans_in(kind: str) -> list[dict]:
    return [SPANS[span_id] for span_id in EXPECTED["spans_in_file"][kind]]


def agent_of(span: dict, kind: str) -> str | None:
    """The issue's rule: the resource's service.name, else the nearest agent span's name.

    Phoenix exports carry no resource, and the SDK's default service name names no agent.
    """
    if kind not in PHOENIX and span["service"]:
        return span["service"]
    return span["agent_span"]


def session_of(span: dict) -> str:
    """session.id, else gen_ai.conversation.id (both set as the program's session), else the trace."""
    return span["session_attribute"] or span["trace_id"]


def _iso(ns: int) -> str:
    return pd.Timestamp(ns, unit="ns", tz="UTC").isoformat()


def _estimate(call: dict) -> float | None:
    """genai-prices' own price for a call, at noon UTC of its day, as the store estimates it."""
    if call["tokens_in"] is None or call["tokens_out"] is None:
        return None
    day = datetime.fromtimestamp(call["start_ns"] / 1e9, UTC).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    usage = Usage(input_tokens=call["tokens_in"], output_tokens=call["tokens_out"])
    return float(calc_price(usage, call["model"], genai_request_timestamp=day).total_price)


def expected_summary(kind: str) -> dict:
    """The summary from the programs' account alone: sums in Python, percentiles with numpy."""
    spans = spans_in(kind)
    calls = [s for s in spans if s["role"] == "llm"]
    tools = [s for s in spans if s["role"] == "tool"]
    latencies = [float(c["latency_ms"]) for c in calls]
    estimates = [e for e in map(_estimate, calls) if e is not None]
    return {
        "schema": "phoenix" if kind in PHOENIX else "otlp",
        "agents": len({agent_of(s, kind) for s in spans} - {None}),
        "events": len(spans),
        "time_range": {
            "start": _iso(min(s["start_ns"] for s in spans)),
            "end": _iso(max(s["start_ns"] for s in spans)),
        },
        "llm": {
            "calls": len(calls),
            "failures": sum(c["status"] == "error" for c in calls),
            "tokens_in": sum(c["tokens_in"] for c in calls if c["tokens_in"] is not None),
            "tokens_out": sum(c["tokens_out"] for c in calls if c["tokens_out"] is not None),
            "cost_usd": None,
            "calls_without_cost": len(calls),
            "cost_usd_estimated": sum(estimates),
            "latency_ms": {f"p{q}": float(np.percentile(latencies, q)) for q in (50, 95, 99)},
        },
        "tools": {"calls": len(tools), "failures": sum(t["status"] == "error" for t in tools)},
        "tasks": None,
        "alerts": None,
        "flagged_events": None,
        "metrics": None,
    }


@pytest.fixture(scope="module", params=sorted(FILES))
def kind(request) -> str:
    return request.param


@cache
def store_of(kind: str):
    return open_source(FIXTURES / FILES[kind])


@pytest.fixture(scope="module")
def store(kind):
    return store_of(kind)


def _rows(store, table: str) -> dict[str, dict]:
    frame = store.frame(table)
    return {row["span_id"]: row for row in frame.to_dict("records")}


def _value(value):
    return (
        None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else value
    )


# --- the figures --------------------------------------------------------------------------------


def test_summary_matches_what_the_programs_did(kind, store):
    assert_same_summary(summarize(store), expected_summary(kind))


def test_script_accounts_agree_with_one_another():
    calls = [s for s in EXPECTED["spans"] if s["role"] == "llm"]
    for call in calls:
        usage = call["mock_usage"]
        assert (usage is None) == (call["status"] == "error")
        assert call["end_ns"] - call["start_ns"] == call["latency_ms"] * 1_000_000
    # Every span the exporters got is in the Collector file and in Phoenix, and nothing else is.
    exported = {s["span_id"] for s in EXPECTED["spans"] if s["exported"]}
    assert set(EXPECTED["spans_in_file"]["collector"]) == exported
    assert set(EXPECTED["spans_in_file"]["parquet"]) == exported


def test_each_llm_call_keeps_agent_session_model_tokens_status_and_timing(kind, store):
    rows = _rows(store, "llm_calls")
    want = {s["span_id"]: s for s in spans_in(kind) if s["role"] == "llm"}
    assert set(rows) == set(want)
    for span_id, call in want.items():
        row = rows[span_id]
        got = {
            "ts": row["ts"],
            "agent": _value(row["agent"]),
            "session": row["session"],
            "model": row["model"],
            "tokens_in": _value(row["tokens_in"]),
            "tokens_out": _value(row["tokens_out"]),
            "latency_ms": row["latency_ms"],
            "status": row["status"],
            "error": _value(row["error"]),
            "trace_id": row["trace_id"],
            "parent_span_id": _value(row["parent_span_id"]),
        }
        assert got == {
            "ts": pd.Timestamp(call["start_ns"], unit="ns", tz="UTC"),
            "agent": agent_of(call, kind),
            "session": session_of(call),
            "model": call["model"],
            "tokens_in": call["tokens_in"],
            "tokens_out": call["tokens_out"],
            "latency_ms": float(call["latency_ms"]),
            "status": call["status"],
            "error": call["error"],
            "trace_id": call["trace_id"],
            "parent_span_id": call["parent_span_id"],
        }, span_id


def test_tool_spans_are_tool_calls_and_events_and_agent_spans_are_events(kind, store):
    tools, events = _rows(store, "tool_calls"), _rows(store, "events")
    spans = spans_in(kind)
    assert set(tools) == {s["span_id"] for s in spans if s["role"] == "tool"}
    assert set(events) == {s["span_id"] for s in spans if s["role"] != "llm"}
    for span_id, row in tools.items():
        span = SPANS[span_id]
        assert (row["tool"], row["success"], _value(row["error"]), row["latency_ms"]) == (
            span["tool"],
            span["status"] == "ok",
            span["error"],
            float(span["latency_ms"]),
        )
    for span_id, row in events.items():
        span = SPANS[span_id]
        assert (row["agent"] if row["agent"] is not pd.NA else None, row["session"], row["type"]) == (
            agent_of(span, kind),
            session_of(span),
            span["name"],
        )
        assert (row["trace_id"], _value(row["parent_span_id"])) == (span["trace_id"], span["parent_span_id"])


def test_tokens_per_model_come_from_each_naming_scheme_once(kind, store):
    calls = store.frame("llm_calls")
    got = calls.groupby("model")[["tokens_in", "tokens_out"]].sum().astype(int).to_dict("index")
    want: dict[str, dict[str, int]] = {}
    for call in (s for s in spans_in(kind) if s["role"] == "llm"):
        totals = want.setdefault(call["model"], {"tokens_in": 0, "tokens_out": 0})
        totals["tokens_in"] += call["tokens_in"] or 0
        totals["tokens_out"] += call["tokens_out"] or 0
    assert got == want


def test_collector_file_mixes_the_three_naming_schemes():
    attributes = [json.loads(a) for a in store_of("collector").frame("llm_calls")["attributes"]]
    assert any("gen_ai.usage.input_tokens" in a for a in attributes)  # OpenLLMetry 0.62
    assert any("gen_ai.usage.prompt_tokens" in a and "gen_ai.system" in a for a in attributes)  # 0.47
    assert any("llm.token_count.prompt" in a for a in attributes)  # OpenInference


@pytest.mark.parametrize("kind", ["collector", "parquet", "csv"])  # the files with support-bot's spans
def test_attributes_no_one_knows_survive_into_the_attributes_column(kind):
    rows = _rows(store_of(kind), "llm_calls")
    tagged = [s for s in spans_in(kind) if s["role"] == "llm" and s["unknown_attributes"]]
    assert tagged
    for span in tagged:
        attributes = json.loads(rows[span["span_id"]]["attributes"])
        assert {k: attributes.get(k) for k in span["unknown_attributes"]} == span["unknown_attributes"]


def test_calls_that_openllmetry_047_never_ended_are_not_invented():
    lost = [s for s in EXPECTED["spans"] if not s["exported"]]
    assert lost and all(s["program"] == "legacy-summarizer" and s["status"] == "error" for s in lost)
    telemetry, _ = load_telemetry(FIXTURES / FILES["collector"])
    assert not set(telemetry["llm_calls"]["span_id"]) & {s["span_id"] for s in lost}


def test_cut_last_line_is_skipped_with_a_note():
    _, info = load_telemetry(FIXTURES / FILES["cut"])
    assert any("cut off" in note for note in info.notes)


# --- what is not a trace file -------------------------------------------------------------------


def test_otlp_request_without_spans_is_refused(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text('{"resourceSpans": []}\n')
    with pytest.raises(BadExport, match="holds no spans"):
        load_telemetry(path)


def test_json_lines_that_are_not_traces_still_fail_naming_what_was_found(tmp_path):
    path = tmp_path / "other.jsonl"
    path.write_text('{"colour": "red", "size": 3}\n{"colour": "blue", "size": 4}\n')
    with pytest.raises(UnknownSchema, match="colour, size") as err:
        load_telemetry(path)
    assert "\n" not in str(err.value)


def test_csv_that_is_not_a_phoenix_export_is_left_to_the_generic_reader(tmp_path):
    path = tmp_path / "spans.csv"
    path.write_text("name,start_time,context.span_id\nx,2026-03-02T09:00:00Z,ab\n")
    telemetry, _ = load_telemetry(path)
    assert telemetry.system == "export"


# --- the pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("kind", ["collector", "parquet"])
def test_every_page_shows_a_trace_file_like_any_source(kind, page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["connections"] = {"agentwatch": {"url": str(FIXTURES / FILES[kind])}}
    at.switch_page(f"pages/{page}.py").run()
    exceptions = [e.message + "\n" + "\n".join(e.stack_trace) for e in at.exception]
    assert not exceptions, "\n\n".join(exceptions)
    assert not [e.value for e in at.error]
    if page == "overview":  # the default period ends at the latest span, so it covers them all
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["LLM calls"] == str(expected_summary(kind)["llm"]["calls"])
