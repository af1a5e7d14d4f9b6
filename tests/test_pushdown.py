"""Pushdown: every query function gives the same frame inside PostgreSQL as in the DuckDB store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from data_layer import queries
from data_layer.filters import Filters
from data_layer.pushdown import PushdownBackend
from data_layer.sources import cylestio, open_source
from data_layer.sources.database import Database
from tests.builders.cylestio_db import START, CylestioData

pytestmark = pytest.mark.postgres

T0 = START.replace(tzinfo=UTC)
FILTERS = [
    Filters(),
    Filters(start=T0 + timedelta(hours=9, minutes=13), end=T0 + timedelta(days=2, hours=5, minutes=7)),
    Filters(agents=("support-bot", "coder"), models=("gpt-4o", "acme-internal-llm")),
    Filters(sessions=("2", "5"), severities=("high", "critical"), tools=("search",)),
]
QUERIES = {
    "llm_usage": lambda b, f: queries.llm_usage(b, f),
    "llm_usage_daily_by_model": lambda b, f: queries.llm_usage(b, f, bucket="day", by="model"),
    "llm_usage_hourly_by_cost_source": lambda b, f: queries.llm_usage(b, f, bucket="hour", by="cost_source"),
    "llm_latency_by_model": lambda b, f: queries.llm_latency(b, f, by="model"),
    "llm_latency_daily": lambda b, f: queries.llm_latency(b, f, bucket="day"),
    "llm_histogram_latency": lambda b, f: queries.llm_histogram(b, f, measure="latency_ms"),
    "llm_histogram_tokens": lambda b, f: queries.llm_histogram(b, f, measure="tokens_in"),
    "tool_usage_by_tool": lambda b, f: queries.tool_usage(b, f, by="tool"),
    "tool_latency_by_tool": lambda b, f: queries.tool_latency(b, f, by="tool"),
    "alert_counts_daily_by_severity": lambda b, f: queries.alert_counts(b, f, bucket="day", by="severity"),
    "alert_counts_by_type": lambda b, f: queries.alert_counts(b, f, by="type"),
    "open_alerts": lambda b, f: queries.open_alerts_by_severity(b, f),
    "flagged": lambda b, f: queries.flagged_event_counts(b, f, by="level"),
    "matched_terms": lambda b, f: queries.matched_terms(b, f),
    "alerts_per_1k": lambda b, f: queries.alerts_per_thousand_calls(b, f),
    "metric_series": lambda b, f: queries.metric_series(b, f, bucket="day"),
    "metric_stats": lambda b, f: queries.metric_stats(b, f),
    "event_counts": lambda b, f: queries.event_counts(b, f, by="type"),
    "sessions": lambda b, f: queries.session_summaries(b, f, order_by="cost"),
    "timeline": lambda b, f: queries.session_timeline(b, "3"),
    "cost_per_task": lambda b, f: queries.cost_per_completed_task(b, f),
    "kpis": lambda b, f: queries.overview_kpis(
        b, replace(f, start=f.start or T0, end=f.end or T0 + timedelta(days=4))
    ),
    "what_changed": lambda b, f: pd.DataFrame(
        {
            "text": [
                queries.what_changed(b, replace(f, start=T0 + timedelta(days=2), end=T0 + timedelta(days=4)))
            ]
        }
    ),
    "filter_options": lambda b, f: pd.DataFrame(
        {k: [tuple(v)] for k, v in queries.filter_options(b).items()}
    ),
    "data_quality": lambda b, f: queries.data_quality(b, now=datetime(2030, 1, 1, tzinfo=UTC)),
}


@pytest.fixture(scope="module")
def backends(make_pg_database):
    url = CylestioData.generate(seed=9).write_postgres(make_pg_database("pushdown"))
    store = open_source(url)
    pushed = PushdownBackend(Database(url), cylestio, store.info)
    return store, pushed


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal frames, numbers to 1e-9. Rows are compared in key order: the two databases may
    collate text differently, and order is presentation, not a figure."""
    assert list(a.columns) == list(b.columns)

    def order(s: pd.Series) -> pd.Series:
        return s.round(6) if pd.api.types.is_float_dtype(s) else s.astype("string")

    if len(a) == len(b) and len(a) > 1:
        a = a.sort_values(list(a.columns), key=order, ignore_index=True)
        b = b.sort_values(list(b.columns), key=order, ignore_index=True)
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    assert len(a) == len(b), f"{len(a)} rows != {len(b)} rows"
    for col in a.columns:
        left, right = a[col], b[col]
        if pd.api.types.is_numeric_dtype(left) and pd.api.types.is_numeric_dtype(right):
            pd.testing.assert_series_equal(
                left.astype("float64"),
                right.astype("float64"),
                check_exact=False,
                rtol=1e-9,
                check_names=False,
            )
        else:
            assert (
                left.astype("string").fillna("<NA>").tolist()
                == right.astype("string").fillna("<NA>").tolist()
            ), col


@pytest.mark.parametrize("name", sorted(QUERIES))
@pytest.mark.parametrize("f", FILTERS, ids=["all", "window", "agents_models", "sessions_severities"])
def test_every_query_gives_the_same_frame_in_postgres_as_in_duckdb(backends, name, f):
    store, pushed = backends
    _same(QUERIES[name](store, f), QUERIES[name](pushed, f))


def test_pushdown_sends_only_aggregates(backends):
    _, pushed = backends
    got = queries.llm_usage(pushed, Filters(), bucket="day", by="model")
    assert len(got) < 100  # the rows that crossed the wire are the aggregate's, not the calls


def test_summary_through_pushdown_equals_the_loaded_summary(make_pg_database):
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    url = CylestioData.generate(seed=4).write_postgres(make_pg_database("pushsum"))

    def summary(*extra: str) -> dict:
        out = subprocess.run(
            [sys.executable, "-m", "data_layer", "summarize", url, "--json", *extra],
            capture_output=True, text=True, cwd=ROOT, check=True,
        )  # fmt: skip
        return json.loads(out.stdout)

    from tests.summary_check import assert_same_summary

    assert_same_summary(summary("--pushdown"), summary())
    assert_same_summary(summary("--pushdown"), CylestioData.generate(seed=4).expected_summary())


def test_only_sources_mapped_in_sql_can_be_pushed_down(make_pg_database, tmp_path):
    from data_layer.sources import can_push_down

    url = CylestioData.generate(seed=4).write_postgres(make_pg_database("pushable"))
    assert can_push_down(url)
    assert not can_push_down(tmp_path / "a.db")


@pytest.mark.parametrize("page", ["overview", "cost", "tokens", "latency", "security", "sessions", "data"])
def test_every_page_renders_with_queries_pushed_down(make_pg_database, monkeypatch, page):
    from streamlit.testing.v1 import AppTest

    from data_layer.sources import Location
    from tests.conftest import ROOT

    monkeypatch.setattr("data_layer.sources.PUSHDOWN_ROWS", 0)  # every PostgreSQL source is "big"
    url = _pushdown_url(make_pg_database)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["connections"] = {"agentwatch": {"url": url}}
    at.session_state["range"] = "All"
    at.run()
    if page != "overview":
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert at.session_state["last_good"].pushdown
    assert at.session_state["last_good"].key == Location.parse(url).identity() + ":pushdown"
    if page == "overview":
        shown = next(m.value for m in at.metric if m.label == "LLM calls")
        assert shown == f"{len(CylestioData.generate(seed=2).llm_calls):,}"


_URLS: dict[str, str] = {}


def _pushdown_url(make_pg_database) -> str:
    if "url" not in _URLS:
        _URLS["url"] = CylestioData.generate(seed=2).write_postgres(make_pg_database("pushapp"))
    return _URLS["url"]


NO_AGENT_TABLE = {
    "llm_calls": [{"call_id": "c1", "ts": T0, "agent": "coder"}, {"call_id": "c2", "ts": T0, "agent": None}],
    "tool_calls": [{"call_id": "t1", "ts": T0, "agent": "support-bot", "tool": "search"}],
    "alerts": [{"alert_id": "a1", "ts": T0, "agent": "coder", "severity": "high"}],
}


def test_a_source_without_an_agent_table_lists_the_agents_its_rows_name_as_the_store_does(make_pg_database):
    from tests import tiny

    store = tiny.store(**NO_AGENT_TABLE)
    pushed = tiny.pushdown(make_pg_database("agents"), **NO_AGENT_TABLE)
    want = sorted({r["agent"] for rows in NO_AGENT_TABLE.values() for r in rows if r["agent"]})
    for backend in (store, pushed):
        assert list(queries.filter_options(backend)["agents"]) == want
        rows = queries.filtered_rows(backend, "agents", Filters())
        assert sorted(rows["agent"]) == want and rows.drop(columns="agent").isna().all().all()
