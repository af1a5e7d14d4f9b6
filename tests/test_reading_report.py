"""Every load says what it read, what it left out and why: the reading report, per adapter.

Each expected count is worked out here from the file or rows the test wrote (by parsing them
in Python or asking SQLite), never from the adapter: a record the adapter drops silently would
make the two disagree.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from data_layer.report import ReadingReport
from data_layer.sources import open_source
from data_layer.sources.exports import NO_TIME
from data_layer.sources.records import CUT_LAST_LINE, NOT_JSON
from data_layer.summary import summarize
from tests.builders.agent_platform_db import PlatformData
from tests.builders.cylestio_db import CylestioData
from tests.builders.sentinel_db import SentinelData
from tests.conftest import ROOT
from tests.seed_sql import seed_sql

CYLESTIO_MONITOR_LOG = ROOT / "tests" / "fixtures" / "cylestio_monitor" / "cylestio_monitor_log.json"
TRACES = ROOT / "tests" / "fixtures" / "traces"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "data_layer", "summarize", *args], capture_output=True, text=True, cwd=ROOT
    )


def counts(db: Path, tables: list[str]) -> dict[str, int]:
    with sqlite3.connect(db) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


# --- the report itself --------------------------------------------------------------------------


def test_report_counts_skips_by_reason_and_keeps_the_first_line_numbers():
    report = ReadingReport().count("events", 10).count("events", 5)
    report.skip("line not JSON", 2, [7, 3]).skip("line not JSON", 1, [12]).skip("nothing", 0)
    assert report.summary() == {"records": 15, "skipped": {"line not JSON": 3}, "assumptions": []}
    assert report.lines == {"line not JSON": [3, 7, 12]}
    assert "Not read, line not JSON: 3 (line 3, 7, 12)." in report.sentences()


def test_settle_counts_the_model_rows_a_join_left_behind():
    report = ReadingReport().expect("llm_calls", 10, "orphan").expect("events", 4, "lost event")
    report.settle({"llm_calls": 7, "events": 4})
    assert report.skipped == {"orphan": 3}


# --- a cut JSON-lines file ------------------------------------------------------------------------


def _cut_export(tmp_path: Path, complete: int = 4) -> Path:
    lines = [
        json.dumps({"timestamp": f"2025-01-01T00:0{i}:00Z", "model": "gpt-4o", "input_tokens": 10 * i})
        for i in range(complete)
    ]
    path = tmp_path / "live.jsonl"
    path.write_text("\n".join(lines) + "\n" + lines[0][:30])
    return path


def test_a_cut_json_lines_file_reports_its_cut_line_in_the_cli_json(tmp_path):
    path = _cut_export(tmp_path, complete=4)
    out = cli(str(path), "--json")
    assert out.returncode == 0, out.stderr
    read = json.loads(out.stdout)["read"]
    assert read["records"] == 4
    assert read["skipped"] == {CUT_LAST_LINE: 1}


def test_a_cut_json_lines_file_reports_its_cut_line_in_the_store_info(tmp_path):
    path = _cut_export(tmp_path, complete=3)
    report = open_source(path).info.report
    assert report.records == 3
    assert report.skipped == {CUT_LAST_LINE: 1}
    assert report.lines[CUT_LAST_LINE] == [4]  # the line after the three complete ones


def test_summarize_text_says_which_line_was_cut(tmp_path):
    out = cli(str(_cut_export(tmp_path, complete=2)))
    assert out.returncode == 0, out.stderr
    assert f"Not read, {CUT_LAST_LINE}: 1 (line 3)." in out.stdout


def test_summarize_json_gains_only_the_read_key(tmp_path):
    summary = summarize(open_source(_cut_export(tmp_path)))
    assert list(summary)[-1] == "read"
    assert set(summary["read"]) == {"records", "skipped", "assumptions"}


# --- exports ----------------------------------------------------------------------------------------


def test_export_rows_without_a_time_that_are_not_calls_are_counted(tmp_path):
    rows = [
        {"timestamp": "2025-01-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 5},
        {"model": "gpt-4o", "input_tokens": 7},  # a call without a time: kept
        {"note": "heartbeat"},  # no time, no call: nothing to show it as
        {"note": "heartbeat"},
        {"timestamp": "2025-01-01T00:01:00Z", "event_type": "start"},
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    no_time = sum(1 for r in rows if "timestamp" not in r and "model" not in r and "input_tokens" not in r)
    report = open_source(path).info.report
    assert report.records == len(rows)
    assert report.skipped == {NO_TIME: no_time}
    assert report.fields["timestamp"] == "time" and report.fields["input_tokens"] == "input tokens"


# --- cylestio-monitor log ---------------------------------------------------------------------------


def test_a_malformed_middle_line_of_a_log_is_reported_with_its_line_number(tmp_path):
    lines = CYLESTIO_MONITOR_LOG.read_text().splitlines()
    broken = [*lines[:5], "not json {", *lines[5:]]
    path = tmp_path / "monitor.json"
    path.write_text("\n".join(broken) + "\n")
    parsed = [json.loads(line) for line in lines]
    events = sum(1 for r in parsed if "event" in r)
    messages = sum(1 for r in parsed if "event" not in r and "message" in r)

    report = open_source(path).info.report
    assert report.records == events + messages
    assert report.skipped[NOT_JSON] == 1
    assert report.lines[NOT_JSON] == [6]
    assert report.skipped["the SDK's own log message, not an event"] == messages
    out = cli(str(path))
    assert out.returncode == 0, out.stderr
    assert f"Not read, {NOT_JSON}: 1 (line 6)." in out.stdout


# --- database adapters ------------------------------------------------------------------------------


def test_cylestio_counts_rows_whose_event_is_missing_and_flags_below_suspicious(tmp_path):
    db = CylestioData.generate(seed=2, calls=40).write_sqlite(tmp_path / "cylestio.db")
    with sqlite3.connect(db) as con:
        con.execute(  # event 987654 does not exist
            "insert into llm_calls (event_id, model, prompt, response) values (987654, 'gpt-4o', 'p', 'r')"
        )
        not_flagged = con.execute(
            "select count(*) from event_security where lower(alert_level) not in ('suspicious', 'dangerous')"
        ).fetchone()[0]
    tables = ["agents", "sessions", "events", "llm_calls", "tool_calls", "security_alerts", "event_security"]
    tables.append("performance_metrics")
    report = open_source(db).info.report
    assert report.records == sum(counts(db, tables).values())
    assert report.skipped["llm_calls row whose event_id points at no event (or agent)"] == 1
    assert report.skipped.get("event_security row rated neither suspicious nor dangerous", 0) == not_flagged


def test_dashboard_counts_sample_values_that_are_not_numbers(tmp_path):
    db = tmp_path / "dashboard.db"
    with sqlite3.connect(db) as con:
        con.executescript(seed_sql("002"))
        samples = [
            ("builder", "2025-06-02 08:00:00", "active", 12.5),
            ("builder", "2025-06-02 08:05:00", "active", "n/a"),
        ]
        samples.append(("reviewer", "2025-06-02 08:00:00", "idle", None))
        con.executemany(
            "insert into agent_metrics (agent_id, timestamp, status, cpu_usage) values (?, ?, ?, ?)", samples
        )
        con.execute(
            "insert into task_events (task_id, event_type, timestamp)"
            " values ('t1', 'created', '2025-06-02 08:00:00')"
        )
    text_values = sum(1 for *_, cpu in samples if isinstance(cpu, str))
    report = open_source(db).info.report
    assert report.records == len(samples) + 1
    assert report.skipped == {"metric sample value that is not a number": text_values}


def test_sentinel_counts_custom_values_that_are_not_numbers(tmp_path):
    data = SentinelData.generate(seed=3, samples=60)
    db = data.write_sqlite(tmp_path / "sentinel.db")
    tables = ["ai_agents", "performance_metrics", "user_sessions", "monitoring_configuration"]
    report = open_source(db).info.report
    assert report.records == sum(counts(db, tables).values())
    assert report.skipped["custom_metrics value that is not a number"] == data.skipped_custom_values()


def test_agent_platform_counts_message_metadata_that_is_not_json(tmp_path):
    db = PlatformData.generate(seed=5).write_sqlite(tmp_path / "platform.db")
    with sqlite3.connect(db) as con:
        session = con.execute("select id from chat_sessions limit 1").fetchone()[0]
        con.execute(
            "insert into chat_messages (id, session_id, user_id, message_type, content, timestamp, metadata)"
            " values ('cut-1', ?, 'assistant', 'text', 'x', '2025-04-07 10:00:00', ?)",
            [session, '{"model": "gpt-4o", "tok'],
        )
    tables = ["agents", "tasks", "chat_sessions", "chat_messages", "metrics", "agent_configurations"]
    report = open_source(db).info.report
    assert report.records == sum(counts(db, tables).values())
    reason = "chat message metadata naming a model that is not a JSON object (read as a chat event only)"
    assert report.skipped == {reason: 1}


# --- trace files ------------------------------------------------------------------------------------


def test_otlp_counts_a_resent_batch_once_and_reports_the_repeats(tmp_path):
    lines = (TRACES / "collector.jsonl").read_text().splitlines()
    path = tmp_path / "resent.jsonl"
    path.write_text("\n".join([*lines, lines[0]]) + "\n")

    def spans(line: str) -> int:
        request = json.loads(line)
        return sum(len(s.get("spans", [])) for rs in request["resourceSpans"] for s in rs["scopeSpans"])

    report = open_source(path).info.report
    assert report.records == sum(spans(line) for line in lines) + spans(lines[0])
    assert report.skipped == {"span repeated (read once)": spans(lines[0])}


def test_otlp_cut_file_reports_its_cut_line():
    path = TRACES / "billing_cut.jsonl"
    report = open_source(path).info.report
    last = len(path.read_bytes().rstrip().split(b"\n"))
    assert report.skipped[CUT_LAST_LINE] == 1
    assert report.lines[CUT_LAST_LINE] == [last]


@pytest.mark.parametrize("drop", [1, 2])
def test_phoenix_counts_spans_without_a_span_id(tmp_path, drop):
    frame = pd.read_parquet(TRACES / "phoenix_spans.parquet")
    frame.loc[frame.index[:drop], "context.span_id"] = None
    path = tmp_path / "spans.parquet"
    frame.to_parquet(path)
    report = open_source(path).info.report
    assert report.records == len(frame)
    assert report.skipped == {"span without a span id": drop}
