"""OpenTelemetry JS span JSON, as the Vercel AI SDK's telemetry writes it, reads as its truth.json says.

HrTime ``[seconds, nanoseconds]`` gives the times and latencies; ``ai.generateText`` wraps its
``ai.generateText.doGenerate`` (both name the model), so the inner span is the call and the report
says so; ``ai.toolCall`` spans are tool calls.
"""

from __future__ import annotations

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
