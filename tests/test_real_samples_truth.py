"""The real samples' truth.json files are what tests/fixtures/real/truth.py computes from the raw files.

truth.json is the figure the readers will be held to, so it must not drift from its rules: each one
is recomputed here and compared whole. The rules are also checked against the samples' own
accounts: the five LangChain OTLP files record one program (three calls, the second answered 429,
one tool run), so under the rules they must agree although each library writes it differently.
This file only reads the committed samples; it never imports the readers.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

REAL = ROOT / "tests" / "fixtures" / "real"
_spec = importlib.util.spec_from_file_location("real_samples_truth", REAL / "truth.py")
truth = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = truth  # its dataclasses look their module up while being defined
_spec.loader.exec_module(truth)

LANGCHAIN_OTLP = [s for s in truth.SAMPLES if s.startswith("otlp/") and s.endswith("_langchain.jsonl")]
NOT_SAMPLES = {
    "README.md",
    "PROVENANCE.md",
    "truth.py",
    "openlit_pricing.json",
    "requirements-otlp.txt",
    "requirements-mcp2.txt",
    "requirements-phoenix.txt",
}


@pytest.mark.parametrize("sample", sorted(truth.SAMPLES))
def test_stored_truth_is_what_the_rules_compute(sample: str) -> None:
    stored = json.loads(truth.truth_path(sample).read_text(encoding="utf-8"))
    assert stored == truth.truth(sample)


def test_every_data_file_in_the_folder_is_a_listed_sample() -> None:
    listed = {REAL / s for s in truth.SAMPLES}
    data = {
        p
        for p in REAL.rglob("*")
        if p.is_file()
        and p.name not in NOT_SAMPLES
        and not p.name.endswith(".truth.json")
        and p.suffix not in (".py", ".mjs", ".pyc")
    }
    assert data == listed


def test_each_folder_says_where_its_samples_came_from() -> None:
    for sample in truth.SAMPLES:
        assert (REAL / Path(sample).parent / "PROVENANCE.md").is_file(), sample


def test_the_langchain_otlp_files_of_one_program_agree_under_the_rules() -> None:
    assert len(LANGCHAIN_OTLP) == 5
    for sample in LANGCHAIN_OTLP:
        got = truth.truth(sample)
        account = {
            k: got[k] for k in ("llm_calls", "input_tokens", "output_tokens", "llm_failures", "tool_calls")
        }
        assert account == {
            "llm_calls": 3,
            "input_tokens": 412 + 467,
            "output_tokens": 23 + 11,
            "llm_failures": 1,
            "tool_calls": 1,
        }, sample


def test_phoenix_s_two_forms_say_what_the_otlp_it_was_sent_says() -> None:
    sent = truth.truth("otlp/openinference_langchain.jsonl")
    keys = (
        "llm_calls",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "llm_failures",
        "tool_calls",
        "models",
    )
    for sample in ("phoenix/phoenix_rest_spans.json", "phoenix/phoenix_client_spans.json"):
        got = truth.truth(sample)
        assert {k: got[k] for k in keys} == {k: sent[k] for k in keys}, sample


def test_a_wrapper_span_in_time_only_is_not_a_second_call() -> None:
    """OpenInference writes each call twice (LangChain span, OpenAI span) in separate traces."""
    spans = truth.otlp_spans(REAL / "otlp" / "openinference_langchain.jsonl")
    with_model = [s for s in spans if truth.carries_model(s)]
    assert len(with_model) == 5  # the 429's OpenAI span never learnt its model
    calls = truth.read_spans(spans).llm
    assert len(calls) == 3
    assert [c.model for c in calls].count("gpt-4o-mini-2024-07-18") == 2  # the OpenAI spans' model


def test_langfuse_latency_is_seconds_and_start_time_is_the_call_time() -> None:
    got = truth.truth("langfuse/openai-agents-2025-09-30.trace.json")
    assert got["latency_ms_sum"] == "2186"  # 1.036 s + 1.15 s
    assert got["first_call_at"] == "2025-09-30T09:03:59.963000Z"  # startTime, not createdAt


def test_an_mcp_2_result_with_is_error_is_a_failed_tool_call() -> None:
    got = truth.truth("cylestio_monitor/mcp2_tool_calls.json")
    assert (got["tool_calls"], got["tool_failures"], got["llm_calls"]) == (3, 1, 0)


def test_cylestio_start_and_finish_lines_are_one_call() -> None:
    got = truth.truth("cylestio_monitor/openai_example.json")
    assert (got["llm_calls"], got["input_tokens"], got["output_tokens"]) == (3, 26 + 8 + 46, 104 + 100 + 29)
    assert got["latency_ms_sum"] == str(1494 + 1545 + 1034)
