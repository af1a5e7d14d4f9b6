"""The demo generator: four databases the adapters recognise, one fleet, and a story worth seeing."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg import sql

from data_layer import demo, queries
from data_layer.__main__ import main
from data_layer.errors import SourceUnavailable
from data_layer.filters import Filters
from data_layer.sources import open_source
from data_layer.summary import summarize
from tests.seed_sql import seed_sql

NOW = datetime(2026, 1, 14, 15, tzinfo=UTC)  # a Wednesday afternoon
STORY = demo.Story.anchored(NOW, 35)
LAST_WEEK = Filters(start=NOW - timedelta(days=7), end=NOW)
WEEK_BEFORE = LAST_WEEK.previous_period()
SYSTEMS = list(demo.FILES)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """The default-sized demo, anchored at NOW. Its generation time is reported, not asserted."""
    outdir = tmp_path_factory.mktemp("demo")
    started = time.perf_counter()
    paths = demo.write_demo(outdir, now=NOW)
    seconds = time.perf_counter() - started
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\ndemo: 4 databases, {megabytes:.1f} MB, generated in {seconds:.2f} s")
    assert paths == [outdir / name for name in demo.FILES.values()]
    return outdir


@pytest.fixture(scope="module")
def stores(demo_dir: Path) -> dict:
    return {system: open_source(demo_dir / name) for system, name in demo.FILES.items()}


# -- each file is its system -----------------------------------------------------------------------


@pytest.mark.parametrize("system", SYSTEMS)
def test_write_demo_writes_a_database_its_systems_adapter_recognises(stores: dict, system: str) -> None:
    assert stores[system].info.system == system


@pytest.mark.parametrize("system", SYSTEMS)
def test_demo_has_the_same_five_agents_in_every_system(stores: dict, system: str) -> None:
    assert set(stores[system].frame("agents")["agent"]) == set(demo.AGENT_NAMES)


def test_demo_databases_stay_small(demo_dir: Path) -> None:
    # The target is about 30 MB for the four; this guards against a change that doubles them.
    assert sum(p.stat().st_size for p in demo_dir.iterdir()) < 36e6


def test_generator_runs_seed_000s_sql_as_written() -> None:
    assert _statements((demo.SCHEMAS / "cylestio_sqlite.sql").read_text()) == _statements(seed_sql("000"))


def test_generator_runs_seed_002s_create_statements_without_the_documents_examples() -> None:
    examples = ("agent_metrics_daily", "idx_agent_metrics_hour")  # aggregation and query-plan examples
    wanted = [s for s in _statements(seed_sql("002")) if not any(e in s for e in examples)]
    assert _statements((demo.SCHEMAS / "monitoring_dashboard_sqlite.sql").read_text()) == wanted


def test_platform_postgres_schema_is_seed_004s_sql() -> None:
    ours = (demo.SCHEMAS / "agent_platform_postgres.sql").read_text()
    assert _statements(ours) == _statements(seed_sql("004", only_create=False))


@pytest.mark.parametrize(
    ("sqlite_schema", "postgres_schema"),
    [
        ("sentinel_sqlite.sql", "sentinel_postgres.sql"),
        ("agent_platform_sqlite.sql", "agent_platform_postgres.sql"),
    ],
)
def test_sqlite_schemas_have_the_postgres_schemas_tables_and_columns(
    sqlite_schema: str, postgres_schema: str
) -> None:
    assert _sqlite_catalog(sqlite_schema) == _postgres_tables(postgres_schema)


def _statements(text: str) -> list[str]:
    """SQL statements with comments dropped and whitespace collapsed, for comparing scripts."""
    text = re.sub(r"--[^\n]*", "", text)
    return [" ".join(s.split()) for s in re.split(r";\s*(?=\n|$)", text) if s.strip()]


def _sqlite_catalog(schema: str) -> dict[str, set[str]]:
    with closing(sqlite3.connect(":memory:")) as con:
        con.executescript((demo.SCHEMAS / schema).read_text())
        tables = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'")]
        return {
            t: {r[1] for r in con.execute(f'pragma table_info("{t}")')}
            for t in tables
            if not t.startswith("sqlite_")
        }


_NOT_COLUMNS = ("PRIMARY", "CONSTRAINT", "CHECK", "UNIQUE", "FOREIGN")


def _postgres_tables(schema: str) -> dict[str, set[str]]:
    """Table -> columns of the CREATE TABLE statements of a PostgreSQL script (no server needed):
    a column line starts with a name and a type; constraint lines start with a keyword."""
    script = re.sub(r"--[^\n]*", "", (demo.SCHEMAS / schema).read_text())
    found = {}
    for name, body in re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+) \((.*?)\n\)", script, re.S):
        starts = (re.match(r'\s*"?(\w+)"?\s+[A-Za-z]', line) for line in body.splitlines())
        found[name] = {m.group(1) for m in starts if m and m.group(1).upper() not in _NOT_COLUMNS}
    return found


# -- deterministic ---------------------------------------------------------------------------------


def test_write_demo_is_deterministic_for_a_seed_and_now(tmp_path: Path) -> None:
    first = demo.write_demo(tmp_path / "a", days=3, seed=3, now=NOW)
    second = demo.write_demo(tmp_path / "b", days=3, seed=3, now=NOW)
    for a, b in zip(first, second, strict=True):
        assert _dump(a) == _dump(b), a.name


def test_write_demo_draws_other_rows_for_another_seed() -> None:
    one = demo.demo_tables(days=3, seed=3, now=NOW, systems=("cylestio",))["cylestio"]["llm_calls"]
    other = demo.demo_tables(days=3, seed=4, now=NOW, systems=("cylestio",))["cylestio"]["llm_calls"]
    assert not one.equals(other)


def _dump(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as con:
        return list(con.iterdump())


# -- what the Cylestio demo holds ------------------------------------------------------------------


def test_cylestio_demo_has_calls_with_recorded_estimated_and_unknown_cost(stores: dict) -> None:
    calls = stores["cylestio"].frame("llm_calls")
    share = calls["cost_source"].value_counts(normalize=True)
    assert set(share.index) == {"recorded", "estimated", "unknown"}
    assert 0.78 < share["recorded"] < 0.9  # missing on about 15%
    assert demo.SELF_HOSTED in set(calls.loc[calls["cost_source"] == "unknown", "model"])


def test_cylestio_demo_has_between_20_and_40_thousand_calls_over_five_models(stores: dict) -> None:
    calls = stores["cylestio"].frame("llm_calls")
    assert 20_000 <= len(calls) <= 40_000
    assert set(calls["model"]) == {m.name for m in demo.MODELS}
    assert 0 < calls["tokens_in"].isna().mean() < 0.03  # a few calls lost their usage


def test_cylestio_demo_has_every_severity_and_both_flag_levels(stores: dict) -> None:
    store = stores["cylestio"]
    assert set(store.frame("alerts")["severity"]) == {"low", "medium", "high", "critical"}
    assert set(store.frame("flagged_events")["level"]) == {"suspicious", "dangerous"}
    tools = store.frame("tool_calls")
    assert {"search", "web_fetch", "sql_query", "shell"} <= set(tools["tool"])
    assert 0 < (~tools["success"].astype(bool)).mean() < 0.1


def test_cylestio_demo_has_open_sessions(stores: dict) -> None:
    sessions = stores["cylestio"].frame("sessions")
    assert 0 < sessions["ended_at"].isna().mean() < 0.1


@pytest.mark.parametrize(
    ("system", "tables"),
    [
        ("cylestio", ("llm_calls", "tool_calls", "alerts", "flagged_events", "metrics")),
        ("monitoring-dashboard", ("tasks", "metrics", "alerts", "events")),
        ("sentinel", ("metrics",)),
        ("agent-platform", ("llm_calls", "tasks", "metrics", "events")),
    ],
)
def test_demo_last_seven_days_hold_data(stores: dict, system: str, tables: tuple[str, ...]) -> None:
    for table in tables:
        assert len(queries.filtered_rows(stores[system], table, LAST_WEEK)), table


# -- the story -------------------------------------------------------------------------------------


def test_code_reviewer_costs_jump_after_its_model_switch(stores: dict) -> None:
    calls = _calls(stores["cylestio"], demo.SWITCH_AGENT)
    switch = _utc(STORY.switch_ms)
    before = calls.loc[calls["ts"] < switch, "cost_usd"].mean()
    after = calls.loc[calls["ts"] >= switch, "cost_usd"].mean()
    assert after > 2.5 * before
    assert "claude-3-5-sonnet" in queries.what_changed(stores["cylestio"], LAST_WEEK)


def test_triage_agent_latency_regresses_in_the_last_days(stores: dict) -> None:
    calls = _calls(stores["cylestio"], demo.SLOW_AGENT)
    slow = _utc(STORY.slow_ms)
    assert (
        calls.loc[calls["ts"] >= slow, "latency_ms"].median()
        > 2 * calls.loc[calls["ts"] < slow, "latency_ms"].median()
    )


def test_errors_burst_on_the_outage_day(stores: dict) -> None:
    calls = stores["cylestio"].frame("llm_calls")
    daily = (
        calls.assign(day=calls["ts"].dt.floor("D"), failed=calls["status"] == "error")
        .groupby("day")["failed"]
        .mean()
    )
    assert 0.015 < (calls["status"] == "error").mean() < 0.04
    assert daily.idxmax() == _utc(STORY.outage_ms[0]).floor("D")
    assert daily.max() > 3 * daily.median()


def test_sentinel_thresholds_are_breached_by_some_samples_and_the_slowdown(stores: dict) -> None:
    store = stores["sentinel"]
    now = queries.threshold_breaches(store, LAST_WEEK).set_index(["metric", "level", "agent"], drop=False)
    before = queries.threshold_breaches(store, WEEK_BEFORE).set_index(
        ["metric", "level", "agent"], drop=False
    )
    key = ("latency_ms", "warning", demo.SLOW_AGENT)
    assert now.loc[key, "breaches"] > 5 * max(before.loc[key, "breaches"], 1)
    assert ((now["breaches"] > 0) & (now["breaches"] < now["samples"])).sum() >= 3


def test_platform_demo_has_tasks_in_every_status(stores: dict) -> None:
    statuses = set(stores["agent-platform"].frame("tasks")["status"])
    assert statuses == {"pending", "running", "completed", "failed", "cancelled"}


def test_platform_demo_records_the_model_switch_in_calls_and_configuration(stores: dict) -> None:
    calls = _calls(stores["agent-platform"], demo.SWITCH_AGENT)
    late = calls.loc[calls["ts"] >= _utc(STORY.switch_ms) + timedelta(hours=1), "model"]
    assert len(late) and set(late) <= {demo.SWITCH_TO, "gpt-4o-mini"}
    assert any(f"llm_model={demo.SWITCH_TO}" in note for note in stores["agent-platform"].info.notes)


def _calls(store, agent: str):
    calls = store.frame("llm_calls")
    return calls[(calls["agent"] == agent) & (calls["status"] == "ok")]


def _utc(ms: int):
    import pandas as pd

    return pd.Timestamp(ms, unit="ms", tz="UTC")


# -- how the rows are written ----------------------------------------------------------------------


def test_demo_json_text_is_strict_json(demo_dir: Path) -> None:
    """No NaN or Infinity inside JSON: PostgreSQL's jsonb and DuckDB refuse them."""

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    for path in demo_dir.iterdir():
        with closing(sqlite3.connect(path)) as con:
            for (table,) in con.execute("select name from sqlite_master where type = 'table'").fetchall():
                columns = [r[1] for r in con.execute(f'pragma table_info("{table}")')]
                for column in columns:
                    rows = con.execute(
                        f'select distinct "{column}" from "{table}" where typeof("{column}") = \'text\''
                        f" and (\"{column}\" like '{{%' or \"{column}\" like '[%') limit 2000"
                    )
                    for (text,) in rows:
                        json.loads(text, parse_constant=refuse)


def test_platform_demo_api_keys_are_obviously_fake(demo_dir: Path) -> None:
    with closing(sqlite3.connect(demo_dir / "agent-platform.db")) as con:
        keys = [r[0] for r in con.execute("select api_key from api_keys")]
    assert keys and all("FAKE" in k and "not-a-secret" in k for k in keys)


def test_sentinel_demo_ids_are_uuids_and_times_carry_an_offset(demo_dir: Path) -> None:
    with closing(sqlite3.connect(demo_dir / "sentinel.db")) as con:
        metric_id, agent_id, ts = con.execute(
            'select metric_id, agent_id, "timestamp" from performance_metrics limit 1'
        ).fetchone()
    assert uuid.UUID(metric_id).version == 4 and uuid.UUID(agent_id).version == 4
    assert ts.endswith("+00:00")


# -- the app's default dataset ---------------------------------------------------------------------


@pytest.fixture
def quick_demo(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """demo_sources with two days of data, slow enough that two callers overlap; counts the writes."""
    writes = []
    real = demo.write_demo

    def write(outdir: Path, **kwargs) -> list[Path]:
        writes.append(1)
        paths = real(outdir, days=2, now=kwargs.get("now"))
        time.sleep(0.3)
        return paths

    monkeypatch.setattr(demo, "write_demo", write)
    return writes


def test_demo_sources_writes_todays_demo_once_and_then_reuses_it(
    tmp_path: Path, quick_demo: list[int]
) -> None:
    first = demo.demo_sources(tmp_path)
    mtimes = [p.stat().st_mtime_ns for p in first]
    second = demo.demo_sources(tmp_path)
    assert first == second and len(quick_demo) == 1
    assert [p.stat().st_mtime_ns for p in second] == mtimes
    assert first[0].parent.name == f"demo-{demo.generator_version()}-{datetime.now(UTC):%Y-%m-%d}"
    assert [p.name for p in tmp_path.iterdir()] == [first[0].parent.name]  # no temporary folder left


def test_demo_sources_data_reaches_the_current_hour(tmp_path: Path, quick_demo: list[int]) -> None:
    store = open_source(demo.demo_sources(tmp_path)[0])
    _start, end = store.time_span()
    assert datetime.now(UTC) - end < timedelta(hours=1, minutes=5)


def test_demo_sources_started_twice_at_once_gives_both_complete_files(
    tmp_path: Path, quick_demo: list[int]
) -> None:
    results: list[list[Path]] = []
    threads = [threading.Thread(target=lambda: results.append(demo.demo_sources(tmp_path))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1]
    for path in results[0]:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
            assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert len(list(tmp_path.iterdir())) == 1


def test_demo_sources_uses_agentwatch_demo_dir_and_drops_older_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quick_demo: list[int]
) -> None:
    monkeypatch.setenv(demo.DEMO_DIR_VAR, str(tmp_path))
    for name in ("demo-0123abcdef-2020-01-01", "demo-0123abcdef-2020-01-02", "my-notes"):
        (tmp_path / name).mkdir()
    paths = demo.demo_sources()
    assert paths[0].parent.parent == tmp_path
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([paths[0].parent.name, "demo-0123abcdef-2020-01-02", "my-notes"])


# -- the command line and PostgreSQL ---------------------------------------------------------------


def test_demo_command_prints_the_written_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", str(tmp_path), "--days", "2"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / name) for name in demo.FILES.values()]


@pytest.mark.postgres
def test_postgres_demo_reads_the_same_as_the_sqlite_files(pg_server: str, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    names = {
        "sentinel": f"agentwatch_demo_sentinel_{suffix}",
        "agent-platform": f"agentwatch_demo_platform_{suffix}",
    }
    try:
        urls = demo.write_postgres_demo(pg_server, days=4, seed=5, now=NOW, databases=names)
        files = dict(zip(demo.FILES, demo.write_demo(tmp_path, days=4, seed=5, now=NOW), strict=True))
        for system, url in zip(names, urls, strict=True):
            assert url.endswith("/" + names[system])
            assert summarize(open_source(url)) == summarize(open_source(files[system]))
    finally:
        with psycopg.connect(pg_server, autocommit=True) as con:
            for name in names.values():
                con.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def test_postgres_demo_explains_an_unreachable_server() -> None:
    with pytest.raises(SourceUnavailable, match="may create databases"):
        demo.write_postgres_demo("postgresql://nobody@127.0.0.1:1/postgres", days=1, now=NOW)


def test_fleet_rhythm_is_busier_on_weekday_afternoons() -> None:
    monday_2pm, sunday_2pm, monday_3am = (
        int(datetime(2026, 1, d, h, tzinfo=UTC).timestamp() * 1000) for d, h in ((12, 14), (11, 14), (12, 3))
    )
    office = demo.activity(np.array([monday_2pm, sunday_2pm, monday_3am]), "office")
    assert office[0] > 3 * office[1] and office[0] > 5 * office[2]
    batch = demo.activity(np.array([monday_3am, monday_2pm]), "batch")
    assert batch[0] > 2 * batch[1]
