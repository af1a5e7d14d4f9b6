"""OTLP/JSON that real instrumentation wrote reads exactly as its truth.json says (issue 11).

Five libraries traced one LangChain-over-OpenAI program (three calls, the second answered 429,
one tool run), and OpenLLMetry traced a LangGraph agent under the newest GenAI conventions. Each
call is counted once: a LangChain span over the provider's span is a wrapper, by parent id or, where
the tracer starts the provider's span in a trace of its own, by time; OpenLit's recorded cost is
the cost; cached input tokens stay inside input tokens. The reading report says each of these where
it happened.
"""

from __future__ import annotations

import json

import pytest

from data_layer.sources import open_source
from tests.conftest import ROOT
from tests.span_truth import CACHE_READ_KEYS, assert_matches_truth, truth_of

LANGCHAIN = ["openllmetry", "openinference", "openlit", "langsmith", "mixed"]
SEMCONV = "genai_semconv/langgraph_agent_otlp.json"
SAMPLES = [f"otlp/{family}_langchain.jsonl" for family in LANGCHAIN] + [SEMCONV]


@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_reads_as_its_truth(sample: str) -> None:
    assumptions = assert_matches_truth(sample)
    said = " ".join(assumptions)
    truth = truth_of(sample)
    assert ("cached input tokens" in said) == (truth["cache_read_tokens"] is not None)
    assert ("record their cost" in said) == (truth["cost_recorded_usd"] is not None)


@pytest.mark.parametrize("sample", ["otlp/openinference_langchain.jsonl", "otlp/mixed_langchain.jsonl"])
def test_a_langchain_span_in_another_trace_is_not_a_second_call(sample: str) -> None:
    """Both tracers write the provider's span as a root of its own trace: the report says what was merged."""
    said = " ".join(assert_matches_truth(sample))
    assert "root spans naming a model hold, in their time, a root span of another trace" in said
    assert "1 OpenInference LLM spans name no model" in said  # the 429's OpenAI span: its wrapper is the call


def test_newest_conventions_give_agent_session_and_tools() -> None:
    truth = truth_of(SEMCONV)
    assert truth["agents"] and truth["sessions"] and truth["tool_failures"]  # the sample has them
    assert_matches_truth(SEMCONV)


def test_cache_reads_in_the_underscore_form_are_read_and_not_added() -> None:
    """OpenLLMetry 0.47 wrote gen_ai.usage.cache_read_input_tokens (the deprecated underscore form).

    Its prompt tokens already hold the cached ones, as the mock's account in expected.json shows
    (tests/test_source_traces.py checks the tokens); here the report counts every call with either
    form, read off the raw file.
    """
    path = ROOT / "tests" / "fixtures" / "traces" / "collector.jsonl"
    keys_per_span = [
        {a["key"] for a in span.get("attributes", [])}
        for line in path.read_text(encoding="utf-8").splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    cached = [keys for keys in keys_per_span if keys & set(CACHE_READ_KEYS)]
    assert any("gen_ai.usage.cache_read_input_tokens" in keys for keys in cached)
    said = open_source(path).info.report.assumptions
    assert f"{len(cached)} calls record cached input tokens" in " ".join(said)
