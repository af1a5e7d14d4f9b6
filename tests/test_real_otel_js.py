"""OpenTelemetry JS span JSON, as the Vercel AI SDK's telemetry writes it, reads as its truth.json says.

HrTime ``[seconds, nanoseconds]`` gives the times and latencies; ``ai.generateText`` wraps its
``ai.generateText.doGenerate`` (both name the model), so the inner span is the call and the report
says so; ``ai.toolCall`` spans are tool calls.
"""

from __future__ import annotations

import json

from data_layer.sources import load_telemetry
from tests.span_truth import REAL, assert_matches_truth

SAMPLE = "otel_js/vercel_ai_sdk_spans.jsonl"


def test_sample_reads_as_its_truth() -> None:
    said = " ".join(assert_matches_truth(SAMPLE))
    assert "HrTime [seconds, nanoseconds]" in said
    assert "2 spans naming a model have another such span below them" in said


def test_sample_is_read_as_javascript_spans_not_a_generic_export() -> None:
    telemetry, _info = load_telemetry(REAL / SAMPLE)
    assert telemetry.system == "otel_js"


def test_a_span_without_hrtime_is_read_without_time_and_said(tmp_path) -> None:
    """A time that is no [seconds, nanoseconds] pair is not guessed at: the report counts those spans."""
    lines = (REAL / SAMPLE).read_text(encoding="utf-8").splitlines()
    odd = json.loads(lines[0])
    odd["spanContext"]["spanId"] = "00000000000000ff"
    odd["startTime"], odd["endTime"] = 1796595676012, 1796595676161  # milliseconds, not HrTime
    path = tmp_path / "spans.jsonl"
    path.write_text("\n".join([*lines, json.dumps(odd)]) + "\n", encoding="utf-8")
    telemetry, info = load_telemetry(path)
    assert "1 spans have no HrTime [seconds, nanoseconds] start and end" in " ".join(info.report.assumptions)
    calls = telemetry.tables["llm_calls"].to_pandas()
    odd_call = calls[calls["span_id"] == "00000000000000ff"]
    assert len(odd_call) == 1 and odd_call["ts"].isna().all() and odd_call["latency_ms"].isna().all()
