"""The account of a span sample as Agentwatch loads it, in the terms of its truth.json.

The span formats' tests (OTLP, OpenTelemetry JS, Phoenix JSON) load each real sample through
``open_source``, the app's own path, and compare this account with the truth that
``tests/fixtures/real/truth.py`` computed from the raw file without our readers. Decimal figures
are compared as decimals: each float the model holds is read back by its shortest repr, which is
the digits the file (or the nanosecond difference) gave.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from statistics import median

import pandas as pd

from data_layer.sources import open_source
from tests.conftest import ROOT

REAL = ROOT / "tests" / "fixtures" / "real"

# Cached input tokens: the model has no column for them (they are inside tokens_in), so they are
# read back from the calls' attributes, under the names the truth's rules list.
CACHE_READ_KEYS = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
    "ai.usage.cachedInputTokens",
)

DECIMALS = ("cost_recorded_usd", "latency_ms_sum", "latency_ms_median")  # exact decimal strings


def truth_of(sample: str) -> dict:
    return json.loads((REAL / f"{sample}.truth.json").read_text(encoding="utf-8"))


def _present(value) -> bool:
    return value is not None and value is not pd.NA and not (isinstance(value, float) and pd.isna(value))


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _sum(values: list) -> int | None:
    present = [int(v) for v in values if _present(v)]
    return sum(present) if present else None


def _cache_read(attributes: str) -> int | None:
    attrs = json.loads(attributes)
    return next((int(attrs[k]) for k in CACHE_READ_KEYS if attrs.get(k) is not None), None)


def _iso(ts: pd.Timestamp) -> str:
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def account(sample: str):
    """(the loaded account in truth.json's keys, the store's reading report)."""
    store = open_source(REAL / sample)
    llm = store.frame("llm_calls")
    tools = store.frame("tool_calls")
    events = store.frame("events")
    costs = [_decimal(c) for c, s in zip(llm["cost_usd"], llm["cost_source"], strict=True) if s == "recorded"]
    latencies = [_decimal(v) for v in llm["latency_ms"] if _present(v)]
    rows = pd.concat([f[["agent", "session", "trace_id"]] for f in (llm, tools, events)], ignore_index=True)
    named_sessions = {
        s for s, t in zip(rows["session"], rows["trace_id"], strict=True) if _present(s) and s != t
    }
    got = {
        "llm_calls": len(llm),
        "calls_with_tokens": int((llm["tokens_in"].notna() | llm["tokens_out"].notna()).sum()),
        "input_tokens": _sum(list(llm["tokens_in"])),
        "output_tokens": _sum(list(llm["tokens_out"])),
        "cache_read_tokens": _sum([_cache_read(a) for a in llm["attributes"]]),
        "calls_with_cost": len(costs),
        "cost_recorded_usd": sum(costs) if costs else None,
        "calls_with_latency": len(latencies),
        "latency_ms_sum": sum(latencies) if latencies else None,
        "latency_ms_median": Decimal(median(latencies)) if latencies else None,
        "llm_failures": int((llm["status"] == "error").sum()),
        "tool_calls": len(tools),
        "tool_failures": int((tools["success"] == False).sum()),  # noqa: E712 (a nullable column)
        "models": dict(sorted(Counter(m for m in llm["model"] if _present(m)).items())),
        "agents": sorted({a for a in rows["agent"] if _present(a)}),
        "sessions": sorted(named_sessions),
        "first_call_at": _iso(llm["ts"].min()) if len(llm) else None,
        "last_call_at": _iso(llm["ts"].max()) if len(llm) else None,
    }
    return got, store.info.report


def assert_matches_truth(sample: str) -> list[str]:
    """Every figure of the truth, as loaded; returns the reading report's assumptions to check."""
    truth = truth_of(sample)
    got, report = account(sample)
    expected = {key: truth[key] for key in got}
    for key in DECIMALS:
        expected[key] = None if truth[key] is None else Decimal(truth[key])
    if not truth["agents"]:
        # No span names an agent: the service.name stands in, and the report says so.
        expected["agents"] = got["agents"]
        assert any("service.name" in a for a in report.assumptions), report.assumptions
    wrong = {key: (got[key], expected[key]) for key in got if got[key] != expected[key]}
    assert not wrong, f"{sample}: (read, truth) {wrong}"
    assert report.skipped == {}, report.skipped
    return report.assumptions
