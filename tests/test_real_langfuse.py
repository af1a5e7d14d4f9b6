"""Langfuse exports that Langfuse's maintainers committed, read through the public path and held to
their truth.json (computed by tests/fixtures/real/truth.py from the raw files, not by our readers).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from decimal import Decimal
from pathlib import Path
from statistics import median

import pandas as pd
import pytest

from data_layer.sources import open_source
from data_layer.sources.langfuse import NOT_AN_OBSERVATION
from data_layer.summary import summarize
from tests.conftest import ROOT

REAL = ROOT / "tests" / "fixtures" / "real"
SAMPLES = sorted(
    str(p.relative_to(REAL)).removesuffix(".truth.json")
    for p in (REAL / "langfuse").glob("*.truth.json")
    if json.loads(p.read_text(encoding="utf-8"))["rules"] == "langfuse"
)


def _truth(sample: str) -> dict:
    return json.loads((REAL / f"{sample}.truth.json").read_text(encoding="utf-8"))


def _exact(values: pd.Series) -> Decimal | None:
    """The sum of a float column as the decimals its values were written with (repr round-trips)."""
    present = [Decimal(repr(float(v))) for v in values.dropna()]
    return sum(present, Decimal(0)) if present else None


def _none_or(value, kind):
    return None if value is None else kind(value)


def test_there_are_langfuse_samples() -> None:
    assert len(SAMPLES) >= 3


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_langfuse_export_reads_exactly_its_truth(sample: str) -> None:
    truth = _truth(sample)
    store = open_source(REAL / sample)
    assert store.info.system == "langfuse"
    calls = store.frame("llm_calls")
    assert len(calls) == truth["llm_calls"]
    assert int(calls["tokens_in"].notna().sum()) == truth["calls_with_tokens"]
    tokens_in = calls["tokens_in"].dropna()
    tokens_out = calls["tokens_out"].dropna()
    assert (int(tokens_in.sum()) if len(tokens_in) else None) == truth["input_tokens"]
    assert (int(tokens_out.sum()) if len(tokens_out) else None) == truth["output_tokens"]
    recorded = calls[calls["cost_source"] == "recorded"]["cost_usd"]
    assert len(recorded) == truth["calls_with_cost"]
    assert _exact(recorded) == _none_or(truth["cost_recorded_usd"], Decimal)
    latencies = [Decimal(repr(float(v))).quantize(Decimal("0.001")) for v in calls["latency_ms"].dropna()]
    assert len(latencies) == truth["calls_with_latency"]
    if latencies:
        assert sum(latencies) == Decimal(truth["latency_ms_sum"])
        assert Decimal(median(latencies)) == Decimal(truth["latency_ms_median"])
    assert int((calls["status"] == "error").sum()) == truth["llm_failures"]
    tools = store.frame("tool_calls")
    assert len(tools) == truth["tool_calls"]
    assert int((tools["success"] == False).sum()) == truth["tool_failures"]  # noqa: E712
    assert calls["model"].value_counts().to_dict() == truth["models"]
    assert sorted(store.frame("agents")["agent"]) == truth["agents"]
    assert sorted(calls["session"].dropna().unique()) == truth["sessions"]
    if truth["first_call_at"]:
        first, last = calls["ts"].min(), calls["ts"].max()
        assert first == pd.Timestamp(truth["first_call_at"])
        assert last == pd.Timestamp(truth["last_call_at"])


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_summary_of_a_langfuse_export_agrees_with_its_truth(sample: str) -> None:
    truth = _truth(sample)
    summary = summarize(open_source(REAL / sample))
    assert summary["schema"] == "langfuse"
    assert summary["llm"]["calls"] == truth["llm_calls"]
    assert summary["llm"]["tokens_in"] == truth["input_tokens"]
    assert summary["llm"]["tokens_out"] == truth["output_tokens"]
    assert summary["llm"]["failures"] == truth["llm_failures"]
    assert summary["llm"]["latency_ms"]["p50"] == pytest.approx(float(truth["latency_ms_median"]))
    assert summary["llm"]["cost_usd_estimated"] is None  # every call records its cost
    assert summary["tools"]["calls"] == truth["tool_calls"]
    assert summary["tools"]["failures"] == truth["tool_failures"]
    assert summary["agents"] == len(truth["agents"])
    assert summary["read"]["skipped"] == {}


def test_the_report_says_a_wrapping_generation_is_not_a_call() -> None:
    store = open_source(REAL / "langfuse" / "vercel-aisdk-2025-11-17.trace.json")
    report = store.info.report
    assert any("wrapper" in a and "innermost" in a for a in report.assumptions)
    assert report.fields["latency (seconds)"] == "latency (ms)"
    # The wrapper is not lost: it is an event of the trace.
    assert store.frame("events")["type"].str.startswith("GENERATION (wrapper)").sum() == 1


def test_the_report_says_an_agent_carrying_usage_is_not_a_call() -> None:
    report = open_source(REAL / "langfuse" / "microsoft-agent-2025-12-17.trace.json").info.report
    assert any(a.startswith("AGENT observations are agents, not calls") for a in report.assumptions)


def test_each_observation_held_twice_in_a_download_is_read_once() -> None:
    path = REAL / "langfuse" / "openai-agents-2025-09-30.trace.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    store = open_source(path)
    assert len(doc["observations"]) == len(doc["trace"]["observations"]) > 0
    assert store.info.report.records == len({o["id"] for o in doc["observations"]})


def _observation_list(tmp_path: Path, sample: str, extra: list) -> Path:
    """A sample's observations as GET /api/public/observations returns them: {"data", "meta"}."""
    doc = json.loads((REAL / sample).read_text(encoding="utf-8"))
    out = tmp_path / "observations.json"
    meta = {"page": 1, "limit": 50, "totalItems": len(doc["observations"]), "totalPages": 1}
    out.write_text(json.dumps({"data": doc["observations"] + extra, "meta": meta}), encoding="utf-8")
    return out


@pytest.mark.parametrize("sample", SAMPLES)
def test_an_observation_list_reads_as_its_trace_does(tmp_path: Path, sample: str) -> None:
    truth = _truth(sample)
    store = open_source(_observation_list(tmp_path, sample, []))
    calls = store.frame("llm_calls")
    assert store.info.system == "langfuse"
    assert len(calls) == truth["llm_calls"]
    assert int(calls["tokens_out"].sum()) == truth["output_tokens"]
    assert len(store.frame("tool_calls")) == truth["tool_calls"]


def test_entries_that_are_not_observations_are_counted_not_dropped(tmp_path: Path) -> None:
    sample = "langfuse/vercel-aisdk-2025-11-17.trace.json"
    store = open_source(_observation_list(tmp_path, sample, ["garbage", {"name": "no id"}]))
    assert store.info.report.skipped == {NOT_AN_OBSERVATION: 2}
    assert len(store.frame("llm_calls")) == _truth(sample)["llm_calls"]


# --- cases no committed export has: a real sample changed the one way, held to truth.py's rules ---

_spec = importlib.util.spec_from_file_location("real_samples_truth", REAL / "truth.py")
truth_rules = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = truth_rules  # its dataclasses look their module up while being defined
_spec.loader.exec_module(truth_rules)

BASE = "langfuse/microsoft-agent-2025-12-17.trace.json"


def _older_api(o: dict) -> dict:
    """The observation as the older API wrote it: calculatedTotalCost, usage {input, output, total}."""
    out = {
        k: v
        for k, v in o.items()
        if k not in ("costDetails", "totalCost", "usageDetails", "inputUsage", "outputUsage")
    }
    if o.get("usageDetails"):
        out["usage"] = {**{k: o["usageDetails"][k] for k in ("input", "output", "total")}, "unit": "TOKENS"}
    if o.get("costDetails"):
        out["calculatedTotalCost"] = o["costDetails"]["total"]
    return out


def _failed(o: dict) -> dict:
    return (
        {**o, "level": "ERROR", "statusMessage": "upstream 500"} if o["type"] in ("GENERATION", "TOOL") else o
    )


def _in_characters(o: dict) -> dict:
    return {**o, "usage": {**o["usage"], "unit": "CHARACTERS"}} if "usage" in o else o


VARIANTS = {
    "older API": [_older_api],
    "failures": [_failed],
    "older API, failed": [_older_api, _failed],
    "usage in characters": [_older_api, _in_characters],
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_variant_of_a_real_export_reads_as_the_rules_say(tmp_path: Path, variant: str) -> None:
    doc = json.loads((REAL / BASE).read_text(encoding="utf-8"))
    for change in VARIANTS[variant]:
        doc["observations"] = [change(o) for o in doc["observations"]]
        doc["trace"]["observations"] = [change(o) for o in doc["trace"]["observations"]]
    path = tmp_path / "variant.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    rules = truth_rules.read_langfuse(path)
    store = open_source(path)
    calls, tools = store.frame("llm_calls"), store.frame("tool_calls")
    assert len(calls) == len(rules.llm)
    assert int((calls["status"] == "error").sum()) == sum(c.failed for c in rules.llm)
    assert int((tools["success"] == False).sum()) == sum(t.failed for t in rules.tools)  # noqa: E712
    assert set(calls["error"].dropna()) == ({"upstream 500"} if any(c.failed for c in rules.llm) else set())
    expected_in = [c.input_tokens for c in rules.llm if c.input_tokens is not None]
    assert int(calls["tokens_in"].notna().sum()) == len(expected_in)
    assert int(calls["tokens_in"].sum()) == sum(expected_in)
    recorded = calls[calls["cost_source"] == "recorded"]["cost_usd"]
    assert _exact(recorded) == sum(c.cost for c in rules.llm if c.cost is not None)
    if variant == "usage in characters":
        assert any("CHARACTERS" in a for a in store.info.report.assumptions)
