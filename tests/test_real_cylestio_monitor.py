"""cylestio-monitor logs its maintainers committed (and one written by 0.1.2 with mcp 2.x), read exactly.

Each sample is loaded through the public path and compared with its ``truth.json``, which
``tests/fixtures/real/truth.py`` computes from the raw file without our readers. One more file
appends every sample into one log, as a log kept across SDK upgrades is: it must read as the sum.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from statistics import median

import pandas as pd
import pytest

from data_layer.sources import load_telemetry, open_source
from data_layer.summary import summarize
from tests.conftest import ROOT

HERE = ROOT / "tests" / "fixtures" / "real" / "cylestio_monitor"
SAMPLES = sorted(p for p in HERE.glob("*.json") if not p.name.endswith(".truth.json"))


def truth(sample: Path) -> dict:
    return json.loads((HERE / f"{sample.name}.truth.json").read_text())


def test_every_sample_is_under_test():
    truths = {p.name.removesuffix(".truth.json") for p in HERE.glob("*.truth.json")}
    assert {p.name for p in SAMPLES} == truths
    assert len(SAMPLES) == 4


def _iso(ts) -> str:
    return pd.Timestamp(ts).tz_localize(None).isoformat(timespec="microseconds") + "Z"


def _dec(values) -> str | None:
    """Milliseconds as the truth writes them: exact decimal text, no trailing zeros."""
    return format(Decimal(str(round(float(values), 6))).normalize(), "f") if values is not None else None


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_summary_equals_the_truth(sample):
    want = truth(sample)
    got = summarize(open_source(sample))
    assert got["schema"] == "cylestio-monitor"
    assert got["llm"]["calls"] == want["llm_calls"]
    assert got["llm"]["tokens_in"] == want["input_tokens"]
    assert got["llm"]["tokens_out"] == want["output_tokens"]
    recorded = want["cost_recorded_usd"]
    assert got["llm"]["cost_usd"] == (None if recorded is None else float(recorded))
    assert got["llm"]["failures"] == want["llm_failures"]
    assert got["tools"] == {"calls": want["tool_calls"], "failures": want["tool_failures"]}
    assert got["agents"] == len(want["agents"])


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_calls_equal_the_truth_one_by_one(sample):
    want = truth(sample)
    telemetry, _ = load_telemetry(sample)
    calls = telemetry["llm_calls"]
    latencies = [Decimal(str(v)) for v in calls["latency_ms"].dropna()]
    assert len(latencies) == want["calls_with_latency"]
    assert (_dec(sum(latencies)) if latencies else None) == want["latency_ms_sum"]
    assert (_dec(median(latencies)) if latencies else None) == want["latency_ms_median"]
    assert calls["model"].dropna().value_counts().to_dict() == want["models"]
    assert sorted(calls["session"].dropna().unique()) == want["sessions"]
    assert sorted(telemetry["agents"]["agent"]) == want["agents"]
    times = pd.to_datetime(calls["ts"]).dropna()
    assert (_iso(times.min()) if len(times) else None) == want["first_call_at"]
    assert (_iso(times.max()) if len(times) else None) == want["last_call_at"]
    assert calls["cost_usd"].isna().all()  # no release records cost


def test_a_log_appended_across_upgrades_reads_as_the_sum_of_its_parts(tmp_path):
    """0.1.2, the event_type shape, schema 1.0 and mcp 2.x lines in one file, in that order."""
    mixed = tmp_path / "cylestio_logs.json"
    mixed.write_text("".join(p.read_text() for p in SAMPLES))
    wants = [truth(p) for p in SAMPLES]
    got = summarize(open_source(mixed))
    assert got["llm"]["calls"] == sum(w["llm_calls"] for w in wants)
    assert got["llm"]["tokens_in"] == sum(w["input_tokens"] or 0 for w in wants)
    assert got["llm"]["tokens_out"] == sum(w["output_tokens"] or 0 for w in wants)
    assert got["tools"]["calls"] == sum(w["tool_calls"] for w in wants)
    assert got["tools"]["failures"] == sum(w["tool_failures"] for w in wants)
    assert got["read"]["skipped"].keys() == {"the SDK's own log message, not an event"}


def test_no_event_type_line_is_left_out():
    """The mixed 0.1.2 / event_type log: every line an event, none skipped as foreign JSON."""
    sample = HERE / "rag_agent_cylestio_logs.json"
    read = summarize(open_source(sample))["read"]
    lines = sum(1 for line in sample.read_text().splitlines() if line.strip())
    assert read["records"] == lines and not read.get("skipped")


def test_reading_report_says_what_was_assumed_and_what_is_unknown():
    _, info = load_telemetry(HERE / "rag_agent_cylestio_logs.json")
    assert any("start event but no finish or error" in n and n.startswith("9 LLM calls") for n in info.notes)
    assumed = " ".join(info.report.summary()["assumptions"])
    assert "read as UTC" in assumed and "llm.response.duration_ms are milliseconds" in assumed


def test_mcp_failures_in_both_reprs(tmp_path):
    """mcp 2.x writes is_error=True where 1.x wrote isError=True: both are failed tool calls."""
    sample = HERE / "mcp2_tool_calls.json"
    telemetry, _ = load_telemetry(sample)
    tools = telemetry["tool_calls"]
    failed = tools[~tools["success"].astype(bool)]
    assert len(failed) == truth(sample)["tool_failures"] == 1
    assert failed["error"].notna().all()
    as_1x = tmp_path / "mcp1.json"
    as_1x.write_text(sample.read_text().replace("is_error=True", "isError=True"))
    assert summarize(open_source(as_1x))["tools"]["failures"] == 1


def test_cli_prints_missing_tokens_and_cost_for_a_log_without_calls():
    out = subprocess.run(
        [sys.executable, "-m", "data_layer", "summarize", str(HERE / "chatbot_monitoring.json"), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    llm = json.loads(out.stdout)["llm"]
    assert llm["calls"] == 0 and llm["failures"] == 0
    assert llm["tokens_in"] is None and llm["tokens_out"] is None
    assert llm["cost_usd"] is None and llm["cost_usd_estimated"] is None


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_outcomes_the_samples_lack_are_read_as_the_release_source_writes_them(tmp_path):
    """v0.1.3's LangChain callback answers a start with model_response / model_error by run_id, with
    performance.duration_ms; schema 1.0 fails a call with llm.call.error and v0.1.12 ends one with
    llm.call.end; its MCP patcher writes tool.execution then tool.result or tool.error."""
    rag = [r for r in _lines(HERE / "rag_agent_cylestio_logs.json") if r.get("event_type") == "llm_start"]
    first, second = ({**r, "event_type": "model_request"} for r in rag[:2])
    answers = [
        {
            **first,
            "event_type": "model_response",
            "data": {
                "run_id": first["data"]["run_id"],
                "performance": {"duration_ms": 812.5},
                "response": {"token_usage": {"prompt_tokens": 30, "completion_tokens": 7}},
            },
        },
        {
            **second,
            "event_type": "model_error",
            "level": "ERROR",
            "data": {
                "run_id": second["data"]["run_id"],
                "error": "rate limited",
                "performance": {"duration_ms": 40.0},
            },
        },
    ]
    v1 = [r for r in _lines(HERE / "openai_example.json") if r["name"].startswith("llm.call.")][:4]
    v1[1] = {**v1[1], "name": "llm.call.error"}
    v1[3] = {**v1[3], "name": "llm.call.end"}
    tool = {k: v for k, v in v1[0].items() if k != "span_id"} | {"span_id": None}
    tools = [
        tool | {"name": "tool.execution", "attributes": {"tool.name": "add"}},
        tool | {"name": "tool.result", "attributes": {"tool.status": "success"}},
        tool | {"name": "tool.execution", "attributes": {"tool.name": "divide"}},
        tool | {"name": "tool.error", "attributes": {"tool.name": "divide", "error.message": "by zero"}},
    ]
    path = tmp_path / "upgraded.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in [first, second, *answers, *v1, *tools]))
    telemetry, _ = load_telemetry(path)
    calls = telemetry["llm_calls"].set_index("call_id")
    assert len(calls) == 4
    assert list(calls["status"]) == ["ok", "error", "error", "ok"]
    assert list(calls["latency_ms"][:2]) == [812.5, 40.0]
    assert list(calls["tokens_in"][:1]) == [30] and list(calls["tokens_out"][:1]) == [7]
    v1_tokens = [r["attributes"].get("llm.usage.input_tokens") for r in v1[1::2]]
    assert list(calls["tokens_in"][2:]) == v1_tokens
    assert list(telemetry["tool_calls"]["tool"]) == ["add", "divide"]
    assert list(telemetry["tool_calls"]["success"]) == [True, False]
    assert list(telemetry["tool_calls"]["error"].fillna("")) == ["", "by zero"]
