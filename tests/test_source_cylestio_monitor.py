"""What the cylestio-monitor SDK wrote (its SQLite file and JSON log) loads as the SDK's program did it.

The fixtures were written by the real SDK, driven offline by
``tests/fixtures/cylestio_monitor/make_fixtures.py``; ``expected.json`` is that script's account of
what it did and what its mocks answered. These tests only read the committed files: regenerating
them needs the network (the script installs the SDK into its own venv).
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_layer.sources import cylestio, cylestio_monitor, load_telemetry, open_source
from data_layer.sources.database import Database
from data_layer.summary import summarize
from tests.builders.cylestio_db import CylestioData
from tests.conftest import ROOT
from tests.summary_check import assert_same_summary

FIXTURES = ROOT / "tests" / "fixtures" / "cylestio_monitor"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
SOURCES = {kind: FIXTURES / name for kind, name in EXPECTED["files"].items()}
CALLS = EXPECTED["llm"]["calls_list"]
TOOLS = EXPECTED["tools"]["calls_list"]


def expected_summary(kind: str) -> dict:
    """The summary, from the script's account alone: counts in Python, percentiles with numpy."""
    latencies = [c["latency_ms"] for c in CALLS if c["latency_ms"] is not None]
    return {
        "schema": "cylestio-monitor",
        "agents": len(EXPECTED["agents"]),
        "events": EXPECTED["events"][kind],
        "time_range": {key: _utc_iso(value) for key, value in EXPECTED["time_range"].items()},
        "llm": {
            "calls": len(CALLS),
            "failures": sum(c["status"] == "error" for c in CALLS),
            "tokens_in": None,
            "tokens_out": None,
            "cost_usd": None,
            "calls_without_cost": len(CALLS),
            "cost_usd_estimated": None,
            "latency_ms": {f"p{q}": float(np.percentile(latencies, q)) for q in (50, 95, 99)},
        },
        "tools": {"calls": len(TOOLS), "failures": sum(not t["success"] for t in TOOLS)},
        "tasks": None,
        "alerts": None,
        "flagged_events": sum(EXPECTED["flagged_events"].values()),
        "metrics": None,
    }


def _utc_iso(naive: str) -> str:
    return pd.Timestamp(naive).tz_localize("UTC").isoformat()


@pytest.fixture(scope="module", params=sorted(SOURCES))
def kind(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def store(kind):
    return open_source(SOURCES[kind])


def test_summary_matches_what_the_fixture_script_did(kind, store):
    assert_same_summary(summarize(store), expected_summary(kind))


def test_script_counts_agree_with_one_another():
    llm = EXPECTED["llm"]
    assert llm["ok"] + llm["failed"] + llm["blocked"] == llm["calls"] == len(CALLS)
    assert EXPECTED["tools"]["failures"] == sum(not t["success"] for t in TOOLS)


def test_llm_calls_have_no_model_tokens_or_cost_though_the_api_reported_usage(store):
    calls = store.frame("llm_calls")
    assert all(c["mock_usage"] for c in CALLS if c["status"] == "ok")  # the mock did send usage
    for column in ("model", "tokens_in", "tokens_out", "cost_usd"):
        assert calls[column].isna().all(), column
    assert (calls["cost_source"] == "unknown").all()


def test_each_llm_call_keeps_agent_status_latency_and_error(store):
    calls = store.frame("llm_calls").sort_values(["ts", "call_id"])
    got = [
        (
            r.agent,
            r.status,
            None if pd.isna(r.latency_ms) else r.latency_ms,
            None if pd.isna(r.error) else r.error,
        )
        for r in calls.itertuples()
    ]
    want = [
        (
            c["agent"],
            c["status"],
            c["latency_ms"],
            "dangerous prompt" if c["status"] == "blocked" else c["error"],
        )
        for c in CALLS
    ]
    assert got == want


def test_prompts_and_responses_stay_available(store):
    calls = store.frame("llm_calls")
    assert calls["prompt"].notna().all()
    blocked = calls[calls["status"] == "blocked"]
    assert blocked["prompt"].str.contains("DROP TABLE|exec\\(", regex=True).all()
    answered = calls[calls["status"] == "ok"]
    assert answered["response"].notna().all() and calls.loc[calls["status"] != "ok", "response"].isna().all()


def test_tool_calls_name_the_tool_and_fail_on_is_error_results_and_client_errors(store):
    tools = store.frame("tool_calls").sort_values(["ts", "call_id"])
    got = [
        (r.agent, r.tool, bool(r.success), r.latency_ms, None if pd.isna(r.error) else r.error)
        for r in tools.itertuples()
    ]
    want = [(t["agent"], t["tool"], t["success"], t["latency_ms"], t["error"]) for t in TOOLS]
    assert got == want


def test_flagged_events_are_what_the_sdk_keyword_check_flagged(store):
    flagged = store.frame("flagged_events")
    assert flagged["level"].value_counts().to_dict() == {
        k: v for k, v in EXPECTED["flagged_events"].items() if v
    }
    assert set(flagged["source_field"]) == {"prompt", "response"}
    assert flagged["matched_terms"].isna().all()  # the SDK does not say which keyword matched


def test_every_event_row_is_kept_with_its_name_and_lower_case_level(kind, store):
    events = store.frame("events")
    assert events["type"].value_counts().sort_index().to_dict() == EXPECTED["events_by_type"][kind]
    assert set(events.loc[events["type"] == "LLM_call_blocked", "level"]) == {"warning"}
    assert set(events.loc[events["type"].isin(["LLM_call_error", "call_error"]), "level"]) == {"error"}
    assert set(events["channel"]) == {"SYSTEM", "LLM", "MCP"}
    assert set(store.frame("agents")["agent"]) == set(EXPECTED["agents"])


def test_fixtures_were_written_by_the_script_with_cylestio_monitor_0_1(monkeypatch):
    versions = EXPECTED["versions"]
    assert versions["cylestio-monitor"].startswith("0.1.")
    spec = importlib.util.spec_from_file_location("make_fixtures", ROOT / EXPECTED["generated_by"])
    make_fixtures = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_fixtures", make_fixtures)  # its dataclasses look it up
    spec.loader.exec_module(make_fixtures)  # safe: the script does its work only under __main__
    for package in ("cylestio-monitor", "anthropic", "mcp", "httpx", "pydantic"):
        assert f"{package}=={versions[package]}" in make_fixtures.PINNED
    assert [p.agent for p in make_fixtures.plans()] == EXPECTED["agents"]


def test_only_the_sdk_database_is_recognised_as_the_sdk(tmp_path):
    sdk = Database.sqlite_file(SOURCES["sqlite"])
    assert cylestio_monitor.recognises(sdk) and not cylestio.recognises(sdk)
    server = Database.sqlite_file(
        CylestioData.generate(seed=5, calls=10).write_sqlite(tmp_path / "server.db")
    )
    assert not cylestio_monitor.recognises(server)


@pytest.mark.parametrize(
    "records",
    [
        [{"event": "LLM_call_start", "timestamp": "2025-03-03T09:00:00", "data": {}}],  # no agent_id etc.
        [
            {
                "event": "order_placed",
                "timestamp": "2025-03-03",
                "level": "INFO",
                "channel": "A",
                "agent_id": "x",
            }
        ],
        [
            {
                "event": "LLM_call_start",
                "timestamp": "2025-03-03",
                "level": "INFO",
                "channel": "LLM",
                "agent_id": "x",
            },
            {"id": 7, "timestamp": "2025-03-03", "value": 3},
        ],
    ],
    ids=["missing-sdk-keys", "unknown-event-names", "foreign-records-mixed-in"],
)
def test_other_json_lines_files_are_not_claimed(tmp_path, records):
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert not cylestio_monitor.recognises_file(path, "jsonl")


def test_log_cut_off_mid_call_loads_without_the_unanswered_call(tmp_path):
    lines = SOURCES["jsonl"].read_text().splitlines(keepends=True)
    cut = max(i for i, line in enumerate(lines) if '"event": "LLM_call_start"' in line)
    later_tool_starts = sum('"event": "call_start"' in line for line in lines[cut + 1 :])
    path = tmp_path / "crashed.json"
    path.write_text("".join(lines[: cut + 1]) + lines[cut + 1][:40])  # the next write stopped halfway
    telemetry, info = load_telemetry(path)
    assert len(telemetry["llm_calls"]) == len(CALLS) - 1
    assert len(telemetry["tool_calls"]) == len(TOOLS) - later_tool_starts
    assert any(n.startswith("1 LLM calls have a start event but no finish") for n in info.notes)
    assert "1 lines of the log are not JSON and were skipped." in info.notes


def test_log_notes_the_sdk_errors_that_kept_events_out_of_its_database():
    _, info = load_telemetry(SOURCES["jsonl"])
    # 0.1.2 on a Python whose sqlite3 cannot load extensions loses each program's first event.
    lost = EXPECTED["events"]["jsonl"] - EXPECTED["events"]["sqlite"]
    assert any("Failed to log event to database" in n for n in info.notes) == (lost > 0)


def test_cli_summarizes_the_log_file_as_json():
    out = subprocess.run(
        [sys.executable, "-m", "data_layer", "summarize", str(SOURCES["jsonl"]), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert_same_summary(json.loads(out.stdout), expected_summary("jsonl"))


def test_log_saved_as_one_json_array_loads_the_same(tmp_path):
    path = tmp_path / "events.json"
    records = [json.loads(line) for line in SOURCES["jsonl"].read_text().splitlines()]
    path.write_text(json.dumps(records, indent=1))
    assert_same_summary(summarize(open_source(path)), expected_summary("jsonl"))


def test_sdk_database_without_events_yet_loads_empty(tmp_path):
    with closing(sqlite3.connect(SOURCES["sqlite"])) as sdk:
        ddl = [row[0] for row in sdk.execute("select sql from sqlite_master where sql is not null")]
    path = tmp_path / "fresh.db"
    with closing(sqlite3.connect(path)) as fresh:
        for statement in ddl:
            if "sqlite_sequence" not in statement:
                fresh.execute(statement)
    summary = summarize(open_source(path))
    assert (summary["schema"], summary["events"], summary["llm"]["calls"], summary["tools"]) == (
        "cylestio-monitor",
        0,
        0,
        {"calls": 0, "failures": 0},
    )


def test_fixtures_stay_small():
    assert all(Path(p).stat().st_size < 100_000 for p in SOURCES.values())
