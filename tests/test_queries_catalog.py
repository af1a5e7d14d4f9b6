"""Catalog queries: filter choices, the filtered rows offered for download, data-quality findings."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from data_layer import queries
from data_layer.filters import Filters
from data_layer.model import Telemetry
from data_layer.store import SourceInfo, Store
from tests import tiny
from tests.tiny import at

START = datetime(2025, 1, 6, tzinfo=UTC)


def test_data_quality_reports_unset_clocks_negative_latency_and_future_times():
    rows = pd.DataFrame(
        {
            "call_id": ["a", "b", "c"],
            "ts": [datetime(1970, 1, 1, tzinfo=UTC), START, datetime(2099, 1, 1, tzinfo=UTC)],
            "agent": ["x", "x", "x"],
            "model": ["gpt-4o"] * 3,
            "latency_ms": [-5.0, 10.0, 20.0],
        }
    )
    telemetry = Telemetry(system="test", tables={"llm_calls": rows})
    odd = Store.build(telemetry, SourceInfo(system="test", label="t", provided=telemetry.provided))
    found = queries.data_quality(odd, now=datetime(2030, 1, 1, tzinfo=UTC)).set_index("finding")["rows"]
    assert found["Timestamps before 2000 (unset clocks?)"] == 1
    assert found["Timestamps in the future"] == 1
    assert found["LLM or tool calls with a negative latency"] == 1


CALLS = [
    {"call_id": "c1", "ts": at("09:00"), "agent": "a", "model": "in-house-llm", "tokens_in": 10,
     "tokens_out": 5, "cost_usd": 0.5, "latency_ms": 100.0},
    {"call_id": "c2", "ts": at("09:30"), "agent": "a", "model": None, "tokens_in": 10, "tokens_out": None},
    {"call_id": "c3", "ts": at("10:00"), "agent": "b", "model": "in-house-llm", "tokens_in": -1,
     "tokens_out": 3},
    {"call_id": "c4", "ts": at("11:00"), "agent": "b", "model": "other-llm", "tokens_in": 4, "tokens_out": 3},
    {"call_id": "c5", "ts": at("12:00"), "agent": "b", "model": "other-llm", "tokens_in": 4, "tokens_out": 3,
     "cost_usd": -0.1},
]  # fmt: skip
TOOLS = [
    {"call_id": "t1", "ts": at("09:10"), "agent": "a", "session": "s1", "tool": "search", "latency_ms": -2.0},
    {"call_id": "t2", "ts": at("09:20"), "agent": "c", "session": "s2", "tool": "fetch"},
]
SESSIONS = [
    {"session": "s1", "agent": "a", "started_at": at("09:00"), "ended_at": None},
    {"session": "s2", "agent": "c", "started_at": at("08:00"), "ended_at": at("10:00")},
]
ALERTS = [
    {"alert_id": "x1", "ts": at("09:05"), "agent": "a", "severity": "critical"},
    {"alert_id": "x2", "ts": at("09:06"), "agent": "a", "severity": "low"},
    {"alert_id": "x3", "ts": at("09:07"), "agent": "a", "severity": "custom"},
]


@pytest.fixture(scope="module", params=tiny.BACKENDS[1:])
def catalog(request):
    agents = [{"agent": a} for a in ("c", "b", "a")]
    return tiny.backend(
        request, agents=agents, llm_calls=CALLS, tool_calls=TOOLS, sessions=SESSIONS, alerts=ALERTS
    )


def test_data_quality_counts_each_finding_as_pandas_does(catalog):
    calls = tiny.frame(CALLS)
    found = queries.data_quality(catalog, now=at("12:30")).set_index("finding")["rows"]
    # No call here has a price genai-prices knows, so every call without a recorded cost is unknown.
    unrecorded = calls["cost_usd"].isna()
    priceable = unrecorded & calls["model"].notna() & calls["tokens_in"].notna() & calls["tokens_out"].notna()
    assert found["LLM calls without a recorded cost"] == unrecorded.sum()
    assert found["Models without a known price (genai-prices)"] == calls.loc[priceable, "model"].nunique()
    assert found["LLM calls without a model"] == calls["model"].isna().sum()
    tokens_missing = calls["tokens_in"].isna() | calls["tokens_out"].isna()
    assert found["LLM calls without token counts"] == tokens_missing.sum()
    negative = (calls[["tokens_in", "tokens_out", "cost_usd"]].astype(float) < 0).any(axis=1)
    assert found["LLM calls with negative tokens or cost"] == negative.sum()
    assert found["LLM or tool calls with a negative latency"] == 1
    assert found["Sessions never ended"] == 1
    assert found["Timestamps in the future"] == 0


def test_data_quality_names_the_unpriced_models_most_calls_first(catalog):
    calls = tiny.frame(CALLS)
    known = calls[["model", "tokens_in", "tokens_out"]].notna().all(axis=1)
    unpriced = calls[calls["cost_usd"].isna() & known]
    counts = unpriced.groupby("model").size().reset_index(name="n")
    counts = counts.sort_values(["n", "model"], ascending=[False, True])
    want = ", ".join(f"{m} ({n:,} calls)" for m, n in zip(counts["model"], counts["n"], strict=True))
    detail = queries.data_quality(catalog, now=at("12:30")).set_index("finding")["detail"]
    assert detail["Models without a known price (genai-prices)"] == want


def test_filter_options_list_each_filters_values_once_with_severities_in_scale_order(catalog):
    options = queries.filter_options(catalog)
    assert options["agents"] == ["a", "b", "c"]
    assert options["models"] == ["in-house-llm", "other-llm"]
    assert options["tools"] == ["fetch", "search"]
    assert options["severities"] == ["low", "critical", "custom"]
    assert options["sessions"] == ["s2", "s1"]  # most recently active first: s2 at 09:20, s1 at 09:10
    assert options["event_types"] == []


def test_the_store_lists_the_agents_its_rows_name_when_the_source_has_no_agent_table():
    backend = tiny.store(llm_calls=CALLS, tool_calls=TOOLS)
    assert queries.filter_options(backend)["agents"] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "f",
    [Filters(), Filters(start=at("09:30"), end=at("11:00")), Filters(agents=("b",), models=("other-llm",))],
)
def test_filtered_rows_are_the_rows_pandas_selects_in_time_order(catalog, f):
    got = queries.filtered_rows(catalog, "llm_calls", f)
    want = tiny.selected(tiny.frame(CALLS), f, fields={"agents": "agent", "models": "model"})
    assert got["call_id"].tolist() == want.sort_values("ts")["call_id"].tolist()


def test_filtered_rows_select_sessions_by_their_start(catalog):
    got = queries.filtered_rows(catalog, "sessions", Filters(start=at("08:30")))
    assert got["session"].tolist() == ["s1"]


def test_filtered_rows_keep_matched_terms_as_lists_of_terms():
    backend = tiny.store(alerts=[{"alert_id": "x", "ts": at("10:00"), "matched_terms": '["email", "phone"]'}])
    got = queries.filtered_rows(backend, "alerts", Filters())
    assert [list(terms) for terms in got["matched_terms"]] == [["email", "phone"]]
