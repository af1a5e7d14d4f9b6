"""Every page, run through app.py with AppTest, on every kind of source Agentwatch reads.

Sources: the demo dataset, each seed system's test database (Cylestio on SQLite and PostgreSQL,
the Agent Monitoring Dashboard on SQLite, Sentinel and the multi-agent platform on PostgreSQL),
the cylestio-monitor SDK's SQLite file and JSON log, a JSON-lines export, and an empty Cylestio
database. Each page must render without an exception or an error, and show the figures the data
layer computes on a store the test opens itself, for the same ``Filters`` (worked out here from
the period preset, not read back from the app). Changing a filter must change the figures.

Each AppTest is fresh and opens its page directly, like a shared link on a new server: the
source's store comes from the app's shared cache, so only the first test of a source loads it.
"""

from __future__ import annotations

import base64
import json
import random
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.util import patch_config_options

from data_layer import demo, queries
from data_layer.filters import Filters
from data_layer.sources import open_source, open_sources
from data_layer.store import Store
from tests.builders.agent_platform_db import PlatformData
from tests.builders.cylestio_db import CylestioData
from tests.builders.dashboard_db import DashboardData
from tests.builders.sentinel_db import SentinelData
from tests.conftest import ROOT
from tests.seed_sql import seed_sql
from ui import source as app_source
from ui.charts import MAX_POINTS
from ui.context import CONTEXT_KEY
from ui.markdown import md
from ui.numbers import fmt_delta, fmt_number
from ui.pages_list import PAGES

PRESETS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
DEFAULT_RANGE = "7d"
CYLESTIO_MONITOR = ROOT / "tests" / "fixtures" / "cylestio_monitor"
# What a page says when the source has no data of its kind (ui.messages.nothing_to_show) ...
SOURCE_HAS_NONE = "This source has no"
# ... and when the source has some but the filters leave none (ui.messages.no_match).
NO_MATCH = "Nothing matches the filters"


# --- sources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A source as the app is pointed at it (``target``: None for the demo) and the test's own store
    (None when the tests only look at the app).
    """

    name: str
    target: str | None
    store: Store | None


@pytest.fixture(scope="module", autouse=True)
def demo_dir(tmp_path_factory) -> Iterator[Path]:
    """The demo is written here, never to ~/.cache, and once per test session.

    The app's store cache lives as long as the process: it is emptied so that the app's demo is
    read from this folder, as the test's own store is, not left over from another test module.
    """
    path = tmp_path_factory.getbasetemp() / "agentwatch-demo"
    app_source._cache.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(demo.DEMO_DIR_VAR, str(path))
        yield path


@pytest.fixture(scope="module", autouse=True)
def full_error_details() -> Iterator[None]:
    """.streamlit/config.toml redacts exceptions; a failing test should show the traceback."""
    with patch_config_options({"client.showErrorDetails": "full"}):
        yield


@pytest.fixture(scope="module")
def demo_source(demo_dir) -> Source:
    return Source("demo", None, open_sources(demo.demo_sources(), label="Demo dataset"))


@pytest.fixture(scope="module")
def cylestio_sqlite_source(tmp_path_factory) -> Source:
    path = CylestioData.generate(seed=11).write_sqlite(tmp_path_factory.mktemp("pages") / "cylestio.db")
    return Source("cylestio-sqlite", str(path), open_source(path))


@pytest.fixture(scope="module")
def cylestio_postgres_source(make_pg_database) -> Source:
    url = CylestioData.generate(seed=12).write_postgres(make_pg_database("pages_cylestio"))
    return Source("cylestio-postgres", url, open_source(url))


@pytest.fixture(scope="module")
def dashboard_sqlite_source(tmp_path_factory) -> Source:
    path = DashboardData.generate(seed=13).write_sqlite(tmp_path_factory.mktemp("pages") / "dashboard.db")
    return Source("dashboard-sqlite", str(path), open_source(path))


@pytest.fixture(scope="module")
def sentinel_postgres_source(make_pg_database) -> Source:
    url = SentinelData.generate(seed=14).write_postgres(make_pg_database("pages_sentinel"))
    return Source("sentinel-postgres", url, open_source(url))


@pytest.fixture(scope="module")
def platform_postgres_source(make_pg_database) -> Source:
    url = PlatformData.generate(seed=15).write_postgres(make_pg_database("pages_platform"))
    return Source("platform-postgres", url, open_source(url))


@pytest.fixture(scope="module")
def cylestio_monitor_db_source() -> Source:
    path = CYLESTIO_MONITOR / "cylestio_monitor.db"
    return Source("cylestio-monitor-db", str(path), open_source(path))


@pytest.fixture(scope="module")
def cylestio_monitor_log_source() -> Source:
    path = CYLESTIO_MONITOR / "cylestio_monitor_log.json"
    return Source("cylestio-monitor-log", str(path), open_source(path))


@pytest.fixture(scope="module")
def export_source(tmp_path_factory) -> Source:
    path = write_export(tmp_path_factory.mktemp("pages") / "export.jsonl")
    return Source("export-jsonl", str(path), open_source(path))


@pytest.fixture(scope="module")
def empty_source(tmp_path_factory) -> Source:
    """A Cylestio database with seed 000's schema and no rows (whatever fails, fails in the app)."""
    path = tmp_path_factory.mktemp("pages") / "empty.db"
    with closing(sqlite3.connect(path)) as con:
        con.executescript(seed_sql("000"))
    return Source("empty", str(path), None)


SOURCES = [
    pytest.param("demo_source", id="demo"),
    pytest.param("cylestio_sqlite_source", id="cylestio-sqlite"),
    pytest.param("cylestio_postgres_source", id="cylestio-postgres", marks=pytest.mark.postgres),
    pytest.param("dashboard_sqlite_source", id="dashboard-sqlite"),
    pytest.param("sentinel_postgres_source", id="sentinel-postgres", marks=pytest.mark.postgres),
    pytest.param("platform_postgres_source", id="platform-postgres", marks=pytest.mark.postgres),
    pytest.param("cylestio_monitor_db_source", id="cylestio-monitor-db"),
    pytest.param("cylestio_monitor_log_source", id="cylestio-monitor-log"),
    pytest.param("export_source", id="export-jsonl"),
]


@pytest.fixture(scope="module", params=SOURCES)
def source(request) -> Source:
    return request.getfixturevalue(request.param)


def write_export(path: Path) -> Path:
    """A JSON-lines export over four days: LLM calls (some without cost, tokens or latency), tool calls."""
    rnd = random.Random(16)
    start = datetime(2025, 5, 5, 8, 0, tzinfo=UTC)
    agents, models, tools = ["planner", "writer", "critic"], ["gpt-4o", "gpt-4o-mini", "acme-llm"], ["search"]
    lines = []
    for i in range(160):
        record = {
            "timestamp": (start + timedelta(minutes=37 * i)).isoformat().replace("+00:00", "Z"),
            "agent": agents[i % 3],
            "session_id": f"run-{i % 11}",
            "level": "info",
        }
        if i % 4 < 3:
            record |= {
                "event_type": "llm.call",
                "model": models[i % 3],
                "input_tokens": None if i % 13 == 0 else rnd.randint(20, 4000),
                "output_tokens": None if i % 13 == 0 else rnd.randint(5, 900),
                "cost_usd": None if i % 3 == 0 else round(rnd.uniform(0.0005, 0.05), 6),
                "latency_ms": None if i % 9 == 0 else rnd.randint(150, 7000),
            }
        else:
            failed = i % 8 == 7
            record |= {
                "event_type": "tool.call",
                "tool_name": rnd.choice(tools),
                "latency_ms": rnd.randint(5, 600),
                "status": "error" if failed else "ok",
                "error": "timeout" if failed else None,
            }
        lines.append(json.dumps({k: v for k, v in record.items() if v is not None}))
    path.write_text("\n".join(lines) + "\n")
    return path


# --- running the app --------------------------------------------------------------------------


def open_page(source: Source, page: str, *, url: dict | None = None, **state: object) -> AppTest:
    """A fresh session on ``page`` of the app pointed at ``source``; ``state`` (session state)
    and ``url`` (query parameters, as a shared link carries them) are set before it runs.

    Switching before the first run opens the page as a link to it would (pages are registered
    under their file names). An empty URL in the secrets means "none configured": the demo.
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["connections"] = {"agentwatch": {"url": source.target or ""}}
    for key, value in state.items():
        at.session_state[key] = value
    for key, value in (url or {}).items():
        at.query_params[key] = value
    return at.switch_page(f"pages/{page}.py").run()


def assert_rendered(at: AppTest) -> None:
    """No uncaught exception (shown with its traceback) and no st.error."""
    exceptions = [e.message + "\n" + "\n".join(e.stack_trace) for e in at.exception]
    assert not exceptions, "\n\n".join(exceptions)
    errors = [e.value for e in at.error]
    assert not errors


def chart_points(at: AppTest) -> list[int]:
    """Points each Plotly chart on the page sends to the browser (per trace, the longer of x and y)."""

    def length(values: list | dict) -> int:
        if isinstance(values, dict):  # Plotly's typed array: base64 bytes of one dtype
            return len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
        return len(values)

    def points(trace: dict) -> int:
        return max((length(trace[k]) for k in ("x", "y") if k in trace), default=0)

    return [sum(points(t) for t in json.loads(c.proto.spec)["data"]) for c in at.get("plotly_chart")]


def shown_metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def period(store: Store, preset: str = DEFAULT_RANGE, **lists: tuple[str, ...]) -> Filters:
    """The Filters a preset selects: it ends at the top of the hour after the latest data (or the
    current hour, if the data runs into the future) and counts back; "All" is unbounded.
    """
    if preset == "All":
        return Filters(**lists)
    _first, last = store.time_span()
    now = datetime.now(UTC)
    latest = now if last is None or last > now else last
    end = latest.replace(minute=0, second=0, microsecond=0)
    if end != latest:
        end += timedelta(hours=1)
    return Filters(start=end - PRESETS[preset], end=end, **lists)


def has(store: Store, table: str) -> bool:
    """Whether the source has data of this kind at all: a provided table with rows."""
    return table in store.info.provided and store.row_counts()[table] > 0


# --- what each page must show, from the data layer ---------------------------------------------


def check_overview(at: AppTest, store: Store, f: Filters) -> None:
    """Every KPI whose table the source has, with its change against the previous period."""
    kpis = queries.overview_kpis(store, f)
    expected = {
        k.label: (fmt_number(k.current, k.unit), fmt_delta(k.current, k.previous, k.unit))
        for k in kpis.itertuples()
        if has(store, k.table)
    }
    shown = {m.label: (m.value, m.delta or None) for m in at.metric}
    assert shown == expected


def check_velocity(at: AppTest, store: Store, f: Filters) -> None:
    if not has(store, "tasks"):
        assert any(t.startswith(f"{SOURCE_HAS_NONE} tasks") for t in infos(at))
        return
    cycle = queries.cycle_times(store, f).iloc[0]
    assert shown_metrics(at) == {
        "Tasks completed": fmt_number(queries.tasks_completed(store, f, bucket="week")["completed"].sum()),
        "Median cycle time": fmt_number(cycle["p50"], "h"),
        "p95 cycle time": fmt_number(cycle["p95"], "h"),
    }


def check_cost(at: AppTest, store: Store, f: Filters) -> None:
    if not has(store, "llm_calls"):
        assert any(t.startswith(f"{SOURCE_HAS_NONE} LLM calls") for t in infos(at))
        return
    totals = queries.llm_usage(store, f).iloc[0]
    if totals["calls"] == 0:
        assert any(t.startswith(NO_MATCH) for t in infos(at))
        return
    assert shown_metrics(at) == {
        "Total cost": fmt_number(totals["cost_usd"], "USD"),
        "Recorded": fmt_number(totals["cost_recorded_usd"], "USD"),
        "Estimated": fmt_number(totals["cost_estimated_usd"], "USD"),
        "Calls of unknown cost": fmt_number(totals["calls_cost_unknown"]),
    }


def check_tokens(at: AppTest, store: Store, f: Filters) -> None:
    if not has(store, "llm_calls"):
        assert any(t.startswith(f"{SOURCE_HAS_NONE} LLM calls") for t in infos(at))
        return
    totals = queries.llm_usage(store, f).iloc[0]
    if totals["calls"] == 0:
        assert any(t.startswith(NO_MATCH) for t in infos(at))
        return
    tokens_in, tokens_out = totals["tokens_in"], totals["tokens_out"]
    known = pd.notna(tokens_in) and pd.notna(tokens_out) and tokens_in > 0
    assert shown_metrics(at) == {
        "Tokens in": fmt_number(tokens_in),
        "Tokens out": fmt_number(tokens_out),
        "Output per input token": f"{tokens_out / tokens_in:.2f}" if known else "—",
        "Calls without token counts": fmt_number(totals["calls"] - totals["calls_with_tokens_in"]),
    }


def check_latency(at: AppTest, store: Store, f: Filters) -> None:
    if has(store, "llm_calls"):
        overall = queries.llm_latency(store, f).iloc[0]
        assert shown_metrics(at) == {
            "p50": fmt_number(overall["p50"], "ms"),
            "p95": fmt_number(overall["p95"], "ms"),
            "p99": fmt_number(overall["p99"], "ms"),
            "Calls with a duration": fmt_number(overall["calls_with_latency"]),
        }
        return
    series = queries.metric_series(store, f, bucket="day")
    if series.empty:
        assert any(t.startswith(f"{SOURCE_HAS_NONE} latency data") for t in infos(at))
    else:
        (picker,) = [m for m in at.multiselect if m.label == "Series"]
        assert picker.options == sorted(series["name"].unique())


def check_security(at: AppTest, store: Store, f: Filters) -> None:
    if not has(store, "alerts") and not has(store, "flagged_events"):
        assert any(t.startswith(f"{SOURCE_HAS_NONE} security alerts") for t in infos(at))
        return
    still_open = queries.open_alerts_by_severity(store, f).set_index("severity")["alerts"]
    flagged = queries.flagged_event_counts(store, f)["events"].sum()
    assert shown_metrics(at) == {
        **{f"Open {s}": fmt_number(still_open.get(s, 0)) for s in ["critical", "high", "medium", "low"]},
        "Flagged events": fmt_number(flagged),
    }


def check_sessions(at: AppTest, store: Store, f: Filters) -> None:
    if not (has(store, "llm_calls") or has(store, "tool_calls") or has(store, "sessions")):
        assert any(t.startswith(f"{SOURCE_HAS_NONE} sessions") for t in infos(at))
        return
    sessions = queries.session_summaries(store, f, limit=500)
    if sessions.empty:
        assert any(t.startswith(NO_MATCH) for t in infos(at))
        return
    assert sorted(at.dataframe[0].value["session"]) == sorted(sessions["session"])
    assert f"{len(sessions):,} sessions shown" in " ".join(c.value for c in at.caption)


def check_data(at: AppTest, store: Store, f: Filters) -> None:
    """The source's name and time span, and the rows loaded into each model table."""
    start, end = store.time_span()
    text = " ".join(m.value for m in at.markdown)
    assert md(store.info.label) in text
    assert f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC" in text
    (model_table,) = [d.value for d in at.dataframe if "from source" in d.value.columns]
    assert dict(zip(model_table["table"], model_table["rows"], strict=True)) == store.row_counts()
    texts = [t.value for t in at.text]
    assert f"• {store.info.report.sentences()[0]}" in texts, texts  # what was read, in plain words
    fields = store.info.report.fields
    if fields:  # the field mapping as a table: source field -> model column, every one
        (mapping,) = [d.value for d in at.dataframe if "source field" in d.value.columns]
        assert dict(zip(mapping["source field"], mapping["model column"], strict=True)) == fields


def check_explore(at: AppTest, store: Store, f: Filters) -> None:
    """The open notebook's SQL cells, each with as many rows as the cell runner gives."""
    from data_layer.filters import ALL
    from data_layer.notebook.runner import DuckDBCells
    from data_layer.notebook.state import NotebookStore

    notebook = NotebookStore().get(at.query_params["notebook"])
    expected = [
        f"{DuckDBCells(store).run(c.source, ALL if c.unfiltered else f).total_rows:,} rows ·"
        for c in notebook.cells
        if c.kind == "sql" and c.source.strip()
    ]
    shown = [c.value.split(" · ")[0] + " ·" for c in at.caption if " rows · " in c.value]
    assert shown == expected and expected


def check_dashboard(at: AppTest, store: Store, f: Filters) -> None:
    from data_layer.notebook.state import NotebookStore

    if not NotebookStore().pins():
        assert any(t.startswith("Nothing is pinned yet") for t in infos(at))


CHECKS: dict[str, Callable[[AppTest, Store, Filters], None]] = {
    "overview": check_overview,
    "velocity": check_velocity,
    "cost": check_cost,
    "tokens": check_tokens,
    "latency": check_latency,
    "security": check_security,
    "sessions": check_sessions,
    "explore": check_explore,
    "dashboard": check_dashboard,
    "data": check_data,
}


# --- every page on every source ---------------------------------------------------------------


@pytest.mark.parametrize("preset", [DEFAULT_RANGE, "All"], ids=["default-period", "all-time"])
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_the_data_layers_figures(source, page, preset):
    at = open_page(source, page) if preset == DEFAULT_RANGE else open_page(source, page, range=preset)
    assert_rendered(at)
    assert at.title[0].value == page.capitalize()
    CHECKS[page](at, source.store, period(source.store, preset))
    assert max(chart_points(at), default=0) <= MAX_POINTS  # aggregates, never rows (the demo has 23k calls)


@pytest.mark.parametrize("page", PAGES)
def test_page_says_there_is_nothing_to_show_on_an_empty_source(empty_source, page):
    at = open_page(empty_source, page)
    assert_rendered(at)
    assert any(t.startswith(SOURCE_HAS_NONE) for t in infos(at)), infos(at)


def test_app_uses_the_preset_period_counted_back_from_the_latest_data(cylestio_sqlite_source):
    at = open_page(cylestio_sqlite_source, "overview", range="24h")
    assert_rendered(at)
    assert at.session_state[CONTEXT_KEY].filters == period(cylestio_sqlite_source.store, "24h")


def test_sidebar_offers_the_demo_fleets_agents(demo_source):
    at = open_page(demo_source, "overview")
    assert_rendered(at)
    assert at.sidebar.multiselect(key="agents").options == sorted(a.name for a in demo.FLEET)


# --- filters change the figures -----------------------------------------------------------------


def llm_calls_shown(at: AppTest) -> str:
    return shown_metrics(at)["LLM calls"]


def llm_calls_expected(store: Store, f: Filters) -> str:
    return fmt_number(queries.llm_usage(store, f).iloc[0]["calls"])


def busiest_agent(store: Store, f: Filters) -> str:
    """An agent with calls in the period whose count differs from the total (so the filter shows)."""
    by_agent = queries.llm_usage(store, f, by="agent").dropna(subset=["agent"])
    by_agent = by_agent[by_agent["calls"] < by_agent["calls"].sum()]
    return str(by_agent.sort_values(["calls", "agent"], ascending=[False, True])["agent"].iloc[0])


@pytest.mark.parametrize("source_name", ["demo_source", "cylestio_sqlite_source"])
def test_agent_filter_in_the_url_narrows_the_overview_to_the_data_layers_figures(request, source_name):
    source = request.getfixturevalue(source_name)
    agent = busiest_agent(source.store, period(source.store))
    at = open_page(source, "overview", url={"agents": [agent]})
    assert_rendered(at)
    narrowed = period(source.store, agents=(agent,))
    assert llm_calls_shown(at) == llm_calls_expected(source.store, narrowed)
    assert llm_calls_shown(at) != llm_calls_expected(source.store, period(source.store))


@pytest.mark.parametrize("preset", ["24h", "7d", "30d", "All"])
def test_period_preset_in_the_url_sets_the_overviews_figures(demo_source, preset):
    at = open_page(demo_source, "overview", url={"range": preset})
    assert_rendered(at)
    assert llm_calls_shown(at) == llm_calls_expected(demo_source.store, period(demo_source.store, preset))


def test_last_24_hours_show_fewer_calls_than_all_time_on_the_demo(demo_source):
    shown = {}
    for preset in ("24h", "All"):
        at = open_page(demo_source, "overview", range=preset)
        assert_rendered(at)
        shown[preset] = llm_calls_shown(at)
    assert int(shown["24h"].replace(",", "")) < int(shown["All"].replace(",", ""))


def test_custom_period_covers_whole_utc_days(cylestio_sqlite_source):
    day = date(2025, 3, 4)
    at = open_page(cylestio_sqlite_source, "cost", range="Custom", **{"from": day, "to": day})
    assert_rendered(at)
    start = datetime.combine(day, time(0), tzinfo=UTC)
    check_cost(at, cylestio_sqlite_source.store, Filters(start=start, end=start + timedelta(days=1)))


@pytest.mark.parametrize("page", ["cost", "tokens", "security"])
def test_agent_filter_narrows_the_pages_figures(cylestio_sqlite_source, page):
    store = cylestio_sqlite_source.store
    agent = busiest_agent(store, Filters())
    at = open_page(cylestio_sqlite_source, page, range="All", agents=[agent])
    assert_rendered(at)
    CHECKS[page](at, store, Filters(agents=(agent,)))
    unfiltered = open_page(cylestio_sqlite_source, page, range="All")
    assert_rendered(unfiltered)
    assert shown_metrics(at) != shown_metrics(unfiltered)


# A rerun must go through app.py again, which renders the sidebar and builds the new Filters.
# AppTest resets Streamlit's folder-mode flag before every run, so a page that trusts the
# previous run's PageContext in session state shows the old figures (see ui.context.context).


@pytest.mark.parametrize("how", ["session state", "widget"])
def test_choosing_an_agent_reruns_the_overview_with_its_figures(demo_source, how):
    store = demo_source.store
    at = open_page(demo_source, "overview")
    assert_rendered(at)
    before = llm_calls_shown(at)
    agent = busiest_agent(store, period(store))
    if how == "widget":
        at.sidebar.multiselect(key="agents").set_value([agent])
    else:
        at.session_state["agents"] = [agent]
    at.run()
    assert_rendered(at)
    assert llm_calls_shown(at) != before
    assert llm_calls_shown(at) == llm_calls_expected(store, period(store, agents=(agent,)))


def test_choosing_another_period_reruns_the_overview_with_its_figures(demo_source):
    store = demo_source.store
    at = open_page(demo_source, "overview", range="All")
    assert_rendered(at)
    assert llm_calls_shown(at) == llm_calls_expected(store, Filters())
    at.session_state["range"] = "24h"
    at.run()
    assert_rendered(at)
    assert llm_calls_shown(at) == llm_calls_expected(store, period(store, "24h"))


# --- time axes of short series ------------------------------------------------------------------

ONE_DAY = ROOT / "tests" / "fixtures" / "real" / "langfuse" / "vercel-aisdk-2025-11-17.trace.json"
BUCKET_MS = {"hour": 3_600_000, "day": 86_400_000, "week": 604_800_000}


def time_charts(at: AppTest) -> list[dict]:
    """The Plotly specs (data and layout) of the page's charts titled "... per <bucket> ...":
    the time-bucketed ones, each with the bucket its title names."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    out = []
    for spec in specs:
        title = spec["layout"].get("title", {}).get("text", "")
        bucket = next((b for b in BUCKET_MS if f" per {b}" in title), None)
        if bucket:
            out.append({**spec, "bucket": bucket})
    return out


@pytest.mark.parametrize("preset", ["All", "24h", "7d"])
@pytest.mark.parametrize("page", ["cost", "overview", "tokens", "latency"])
def test_a_one_bucket_series_has_a_time_axis_in_whole_buckets(page, preset):
    """A one-day export (one LLM call) charts one bucket: the axis spans at least two buckets,
    ticks one bucket apart from a bucket's start, and the point lies inside (not sub-second ticks)."""
    at = open_page(Source("one-day", str(ONE_DAY), None), page, range=preset)
    assert_rendered(at)
    charts = time_charts(at)
    assert charts, "no time-bucketed chart on the page"
    for spec in charts:
        axis, width = spec["layout"]["xaxis"], BUCKET_MS[spec["bucket"]]
        lo, hi = (pd.Timestamp(t) for t in axis["range"])
        assert (hi - lo) / pd.Timedelta(milliseconds=width) >= 2
        assert axis["dtick"] == width
        xs = {pd.Timestamp(x).tz_localize(None) for t in spec["data"] for x in t["x"]}
        assert len(xs) == 1  # one bucket
        (x,) = xs
        assert lo < x < hi
        assert pd.Timestamp(axis["tick0"]) == x  # ticks on bucket starts
        assert "%S" not in axis["tickformat"] and "%L" not in axis["tickformat"]


# --- freshness ----------------------------------------------------------------------------------


def sidebar_captions(at: AppTest) -> list[str]:
    return [c.value for c in at.sidebar.caption]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_says_how_fresh_its_data_is(cylestio_sqlite_source, page):
    at = open_page(cylestio_sqlite_source, page)
    assert_rendered(at)
    assert any("Data as of" in c and "UTC, checked" in c for c in sidebar_captions(at)), sidebar_captions(at)


def test_rows_added_to_the_source_show_once_the_refresh_period_is_up(tmp_path, monkeypatch):
    from bench import generate
    from bench.refresh import append_calls

    path = generate.write_sqlite(generate.fleet(500, seed=3), tmp_path / "live.db")
    source = Source("live", str(path), None)
    monkeypatch.setenv(app_source.REFRESH_VAR, "0")
    monkeypatch.setenv(app_source.WAIT_VAR, "600")  # each run waits for its check, which shows it
    app_source._cache.clear()
    try:
        before = open_page(source, "overview")
        append_calls(path, 100, seed=4)
        after = open_page(source, "overview")
    finally:
        app_source._cache.clear()  # the next test's cache reads the period it sets
    assert_rendered(after)
    assert any("500 LLM calls" in c for c in sidebar_captions(before))
    assert any("600 LLM calls" in c for c in sidebar_captions(after)), sidebar_captions(after)
    assert shown_metrics(after)["LLM calls"] != shown_metrics(before)["LLM calls"]
