"""Pushdown: every query function gives the same frame inside PostgreSQL as in the DuckDB store,
for every system read from PostgreSQL (Cylestio Monitor, Sentinel AI, the multi-agent platform)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from data_layer import queries
from data_layer.filters import Filters
from data_layer.pushdown import PushdownBackend
from data_layer.sources import agent_platform, cylestio, open_pushdown, open_source, sentinel
from data_layer.sources.database import Database
from tests.builders import agent_platform_db, sentinel_db
from tests.builders.cylestio_db import START, CylestioData

pytestmark = pytest.mark.postgres

T0 = START.replace(tzinfo=UTC)


@dataclass(frozen=True)
class System:
    """A system's builder database and the filter values that select some of its rows."""

    write: Callable[[str], str]  # writes the rows into an empty database's URL, returns the URL
    adapter: object
    t0: datetime
    agents: tuple[str, ...]
    models: tuple[str, ...]
    sessions: tuple[str, ...]
    timeline: str  # the session whose timeline is compared

    def filters(self) -> list[Filters]:
        t0 = self.t0
        return [
            Filters(),
            Filters(
                start=t0 + timedelta(hours=9, minutes=13), end=t0 + timedelta(days=2, hours=5, minutes=7)
            ),
            Filters(agents=self.agents, models=self.models),
            Filters(sessions=self.sessions, severities=("high", "critical"), tools=("search",)),
        ]


_SENTINEL = sentinel_db.SentinelData.generate(seed=3)
_PLATFORM = agent_platform_db.PlatformData.generate(seed=4)
SYSTEMS = {
    "cylestio": System(
        lambda url: CylestioData.generate(seed=9).write_postgres(url), cylestio, T0,
        ("support-bot", "coder"), ("gpt-4o", "acme-internal-llm"), ("2", "5"), "3",
    ),
    "sentinel": System(
        _SENTINEL.write_postgres, sentinel.ADAPTER, sentinel_db.START,
        ("support-bot", "research-agent"), (), tuple(s.session_id for s in _SENTINEL.sessions[:2]),
        _SENTINEL.sessions[-1].session_id,
    ),
    "agent_platform": System(
        _PLATFORM.write_postgres, agent_platform.ADAPTER, agent_platform_db.START,
        ("researcher", "coder"), ("gpt-4o", "acme-internal-llm"), ("chat-01", "chat-03"), "chat-05",
    ),
}  # fmt: skip
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
    "timeline": lambda b, f, system: queries.session_timeline(b, system.timeline),
    "cost_per_task": lambda b, f: queries.cost_per_completed_task(b, f),
    "kpis": lambda b, f, system: queries.overview_kpis(
        b, replace(f, start=f.start or system.t0, end=f.end or system.t0 + timedelta(days=4))
    ),
    "what_changed": lambda b, f, system: pd.DataFrame(
        {
            "text": [
                queries.what_changed(
                    b, replace(f, start=system.t0 + timedelta(days=2), end=system.t0 + timedelta(days=4))
                )
            ]
        }
    ),
    "filter_options": lambda b, f: pd.DataFrame(
        {k: [tuple(v)] for k, v in queries.filter_options(b).items()}
    ),
    "data_quality": lambda b, f: queries.data_quality(b, now=datetime(2030, 1, 1, tzinfo=UTC)),
}


@pytest.fixture(scope="module", params=sorted(SYSTEMS))
def backends(request, make_pg_database):
    system = SYSTEMS[request.param]
    url = system.write(make_pg_database("pushdown"))
    store = open_source(url)
    pushed = PushdownBackend(Database(url), system.adapter, store.info)
    raw = PushdownBackend(Database(url), system.adapter, store.info, rollups=False)
    return system, store, pushed, raw


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
@pytest.mark.parametrize("which", range(4), ids=["all", "window", "agents_models", "sessions_severities"])
def test_every_query_gives_the_same_frame_in_postgres_as_in_duckdb(backends, name, which):
    """Both ways of pushing down: with the rollups kept locally, and every statement in PostgreSQL."""
    system, store, pushed, raw = backends
    f = system.filters()[which]
    query = QUERIES[name]
    if name in ("kpis", "what_changed", "timeline"):  # periods and a session of the system's data
        query = functools.partial(query, system=system)
    loaded = query(store, f)
    _same(loaded, query(pushed, f))
    _same(loaded, query(raw, f))


def test_every_system_yields_rows_to_compare(backends):
    """The parity above means something only if each model table the system fills has rows."""
    _, store, pushed, _ = backends
    counts = store.row_counts()
    assert {t for t, n in counts.items() if n} == {t for t, n in pushed.row_counts().items() if n}
    assert counts == pushed.row_counts()


def test_pushdown_sends_only_aggregates(backends):
    _, _, _, raw = backends
    got = queries.llm_usage(raw, Filters(), bucket="day", by="model")
    assert len(got) < 100  # the rows that crossed the wire are the aggregate's, not the calls


def _statements_sent(backend: PushdownBackend, call: Callable[[], object]) -> list[str]:
    """The SQL ``call`` sends to the source PostgreSQL."""
    sent: list[str] = []

    def listen(_conn, _cursor, statement, *_):
        sent.append(statement)

    sa.event.listen(backend.db.engine, "before_cursor_execute", listen)
    try:
        call()
    finally:
        sa.event.remove(backend.db.engine, "before_cursor_execute", listen)
    return sent


def test_usage_over_whole_hours_is_answered_from_the_local_rollups(backends):
    """The point of the rollups: a usage query over whole hours sends nothing to the source,
    and one over a window with partial edge hours sends only the edges' rows, never a scan of
    every call (the parity test above says the figures are the same)."""
    system, _, pushed, raw = backends
    assert pushed.has_rollups and not raw.has_rollups
    assert _statements_sent(pushed, lambda: queries.llm_usage(pushed, Filters(), by="model")) == []
    assert _statements_sent(pushed, lambda: queries.tool_usage(pushed, Filters(), by="tool")) == []
    window = system.filters()[1]
    sent = _statements_sent(pushed, lambda: queries.llm_usage(pushed, window, bucket="day"))
    assert len(sent) == 1  # the partial hours at both edges, in one statement
    assert _statements_sent(raw, lambda: queries.llm_usage(raw, Filters(), by="model"))


def _day_windows(store) -> list[Filters]:
    """Windows around the first whole day of the store's rows: (a) whole days only, (b) a whole
    day between whole hours of the days either side, (c) the same with partial hours too."""
    first, _last = store.time_span()
    day = first.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return [
        Filters(start=day, end=day + timedelta(days=2)),
        Filters(start=day - timedelta(hours=3), end=day + timedelta(days=1, hours=5)),
        Filters(
            start=day - timedelta(hours=2, minutes=17, seconds=3),
            end=day + timedelta(days=1, hours=4, minutes=41),
        ),
    ]


DAY_QUERIES = {
    "llm_usage": lambda b, f: queries.llm_usage(b, f),
    "llm_usage_daily_by_model": lambda b, f: queries.llm_usage(b, f, bucket="day", by="model"),
    "llm_usage_weekly_by_agent": lambda b, f: queries.llm_usage(b, f, bucket="week", by="agent"),
    "tool_usage": lambda b, f: queries.tool_usage(b, f),
    "tool_usage_daily_by_tool": lambda b, f: queries.tool_usage(b, f, bucket="day", by="tool"),
    "alerts_per_1k": lambda b, f: queries.alerts_per_thousand_calls(b, f),
    "kpis": lambda b, f: queries.overview_kpis(b, f),
}


DAY_WINDOWS = ["whole_days", "whole_hours", "partial_hours"]


@pytest.mark.parametrize("name", sorted(DAY_QUERIES))
@pytest.mark.parametrize("which", range(3), ids=DAY_WINDOWS)
def test_day_buckets_and_totals_read_from_daily_rollups_are_the_raw_rows(backends, name, which):
    """Whole days from the daily rollups (kept locally), whole hours from the hourly ones, the
    rest from the source's rows: the figures of every statement run inside PostgreSQL, and of
    the DuckDB store."""
    _, store, pushed, raw = backends
    f = _day_windows(store)[which]
    loaded = DAY_QUERIES[name](store, f)
    _same(loaded, DAY_QUERIES[name](pushed, f))
    _same(loaded, DAY_QUERIES[name](raw, f))


@pytest.mark.parametrize("which", range(3), ids=DAY_WINDOWS)
def test_the_day_windows_have_days_of_several_hours_and_whole_days_are_read_locally(backends, which):
    """The parity above means something only if a whole day adds up rows of several hours; and a
    window of whole days sends nothing to the source."""
    _, store, pushed, _ = backends
    f = _day_windows(store)[which]
    by_hour = queries.llm_usage(store, f, bucket="hour")
    assert by_hour.empty or len(by_hour) > len(queries.llm_usage(store, f, bucket="day"))
    if which == 0:
        assert _statements_sent(pushed, lambda: queries.llm_usage(pushed, f, bucket="day", by="model")) == []


def test_an_opened_source_builds_its_rollups_in_the_background(backends):
    """``open_pushdown`` returns before the rollups exist (they take tens of seconds at a
    million calls); statements run in PostgreSQL until they are ready, then locally, with the
    same figures both ways."""
    _, store, pushed, _ = backends
    backend = open_pushdown(pushed.db.url.render_as_string(hide_password=False))
    before = queries.llm_usage(backend, Filters(), by="model")
    assert backend.rollups_ready.wait(timeout=120)
    assert backend.has_rollups
    assert _statements_sent(backend, lambda: queries.llm_usage(backend, Filters(), by="model")) == []
    _same(queries.llm_usage(backend, Filters(), by="model"), before)
    _same(before, queries.llm_usage(store, Filters(), by="model"))


def _summary(url: str, *extra: str) -> dict:
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = subprocess.run(
        [sys.executable, "-m", "data_layer", "summarize", url, "--json", *extra],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


@pytest.mark.parametrize(
    "data",
    [sentinel_db.SentinelData.generate(seed=5), agent_platform_db.PlatformData.generate(seed=6)],
    ids=["sentinel", "agent_platform"],
)
def test_summary_through_pushdown_equals_the_loaded_summary_for_every_system(make_pg_database, data):
    from tests.summary_check import assert_same_summary

    url = data.write_postgres(make_pg_database("pushsum"))
    pushed = _summary(url, "--pushdown")
    assert_same_summary(pushed, _summary(url))  # the reading report too, counted inside PostgreSQL
    assert_same_summary({k: v for k, v in pushed.items() if k != "read"}, data.expected_summary())


def test_pushdown_never_reads_the_platforms_api_keys(make_pg_database):
    """A role without rights on api_keys gets the same pushed-down summary as the owner."""
    import uuid

    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    from tests.summary_check import assert_same_summary

    url = agent_platform_db.PlatformData.generate(seed=4).write_postgres(make_pg_database("pushkeys"))
    name = f"agentwatch_pushdown_{uuid.uuid4().hex[:8]}"
    role = sql.Identifier(name)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(sql.SQL("create role {} login").format(role))
        con.execute(sql.SQL("grant select on all tables in schema public to {}").format(role))
        con.execute(sql.SQL("revoke all on api_keys from {}").format(role))
    try:
        reader = make_url(url).set(username=name).render_as_string(hide_password=False)
        assert_same_summary(_summary(reader, "--pushdown"), _summary(url, "--pushdown"))
        assert open_pushdown(reader).row_counts()["llm_calls"] > 0
    finally:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(sql.SQL("drop owned by {}").format(role))
            con.execute(sql.SQL("drop role {}").format(role))


def test_summary_through_pushdown_equals_the_loaded_summary(make_pg_database):
    url = CylestioData.generate(seed=4).write_postgres(make_pg_database("pushsum"))

    def summary(*extra: str) -> dict:
        return _summary(url, *extra)

    from tests.summary_check import assert_same_summary

    assert_same_summary(summary("--pushdown"), summary())
    assert_same_summary(summary("--pushdown"), CylestioData.generate(seed=4).expected_summary())


def test_only_sources_mapped_in_sql_can_be_pushed_down(make_pg_database, tmp_path):
    from data_layer.sources import can_push_down

    for data in (
        CylestioData.generate(seed=4),
        sentinel_db.SentinelData.generate(),
        agent_platform_db.PlatformData(),
    ):
        assert can_push_down(data.write_postgres(make_pg_database("pushable")))
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


@pytest.mark.parametrize("page", ["overview", "cost", "tokens", "latency", "security", "sessions", "data"])
@pytest.mark.parametrize("system", ["sentinel", "agent_platform"])
def test_every_page_renders_pushed_down_on_every_system(make_pg_database, monkeypatch, system, page):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    monkeypatch.setattr("data_layer.sources.PUSHDOWN_ROWS", 0)
    if system not in _URLS:
        _URLS[system] = SYSTEMS[system].write(make_pg_database("pushapp"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["connections"] = {"agentwatch": {"url": _URLS[system]}}
    at.session_state["range"] = "All"
    at.run()
    if page != "overview":
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert at.session_state["last_good"].pushdown
