"""Cylestio Monitor databases (seed 000) load exactly, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys

import pytest

from data_layer import model
from data_layer.sources import cylestio, open_source
from data_layer.sources.database import Database
from data_layer.summary import summarize
from tests.builders.cylestio_db import CylestioData, postgres_ddl
from tests.conftest import ROOT
from tests.summary_check import assert_same_summary


@pytest.fixture(scope="module")
def data() -> CylestioData:
    return CylestioData.generate(seed=3)


@pytest.fixture(scope="module")
def sqlite_db(data, tmp_path_factory):
    return data.write_sqlite(tmp_path_factory.mktemp("cylestio") / "cylestio.db")


def test_summary_of_sqlite_database_matches_inserted_rows(data, sqlite_db):
    assert_same_summary(summarize(open_source(sqlite_db)), data.expected_summary())


@pytest.mark.postgres
def test_summary_of_postgres_database_matches_inserted_rows(data, make_pg_database):
    url = data.write_postgres(make_pg_database("cylestio"))
    assert_same_summary(summarize(open_source(url)), data.expected_summary())


def test_cli_prints_the_summary_as_json(data, sqlite_db):
    out = subprocess.run(
        [sys.executable, "-m", "data_layer", "summarize", str(sqlite_db), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert_same_summary(json.loads(out.stdout), data.expected_summary())


def test_cli_prints_a_readable_table_without_json(sqlite_db):
    out = subprocess.run(
        [sys.executable, "-m", "data_layer", "summarize", str(sqlite_db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert "cylestio" in out.stdout.splitlines()[0]
    assert "calls_without_cost" in out.stdout and "{" not in out.stdout


def test_missing_costs_stay_missing_in_the_model(sqlite_db):
    calls = open_source(sqlite_db).frame("llm_calls")
    unknown = calls[calls["cost_source"] == "unknown"]
    assert len(unknown) > 0 and unknown["cost_usd"].isna().all()
    assert calls.loc[calls["latency_ms"].isna()].shape[0] > 0  # NULL duration_ms is not 0


def test_severities_and_flag_levels_are_lower_case_on_one_scale(sqlite_db):
    store = open_source(sqlite_db)
    assert set(store.frame("alerts")["severity"]) <= {"low", "medium", "high", "critical"}
    assert set(store.frame("flagged_events")["level"]) == {"suspicious", "dangerous"}


def test_prompts_and_responses_stay_available(sqlite_db):
    calls = open_source(sqlite_db).frame("llm_calls")
    assert (calls["prompt"] == "prompt").all() and (calls["response"] == "response").all()


def test_wide_performance_metrics_become_one_series_per_column(tmp_path):
    path = tmp_path / "wide.db"
    con = sqlite3.connect(path)
    con.executescript(
        "create table agents (id integer primary key, agent_id text, name text);"
        "create table events (id integer primary key, agent_id int, session_id int, conversation_id int,"
        " event_type text, channel text, level text, timestamp timestamp);"
        "create table llm_calls (id integer primary key, event_id int, model text, tokens_in int);"
        "create table performance_metrics (id integer primary key, event_id int, memory_usage float,"
        " cpu_usage float, duration_ms int, tokens_processed int, cost float);"
        "insert into agents values (1, 'a', null);"
        "insert into events values (1, 1, null, null, 'perf', 'performance', 'info', '2025-01-01 00:00');"
        "insert into events values (2, 1, null, null, 'perf', 'performance', 'info', '2025-01-01 01:00');"
        "insert into performance_metrics values (1, 1, 100.5, 20, 1500, 300, 0.25);"
        "insert into performance_metrics values (2, 2, 110.5, null, 500, null, null);"
    )
    con.commit()
    con.close()
    metrics = summarize(open_source(path))["metrics"]
    assert {name: m["points"] for name, m in metrics.items()} == {
        "memory_usage": 2,
        "cpu_usage": 1,
        "duration_ms": 2,
        "tokens_processed": 1,
        "cost": 1,
    }
    assert metrics["duration_ms"]["mean"] == 1000.0


def test_sqlite_read_a_range_of_event_ids_at_a_time_gives_the_one_range_model(
    sqlite_db, tmp_path, monkeypatch
):
    """SQLite is read one range of event ids at a time, so that one range is in memory, not the
    source. Many ranges, some empty, and costs missing from the first range's calls (typed as text
    there, numbers later) give the same model, with the same types, as one range."""
    path = tmp_path / "sparse.db"
    shutil.copy(sqlite_db, path)
    with sqlite3.connect(path) as con:
        low = con.execute("select min(event_id) from llm_calls").fetchone()[0]
        con.execute("update llm_calls set cost = null where event_id < ?", [low + 10])
        con.execute("delete from events where id % 11 = 0 or id between ? and ?", [low + 20, low + 60])
    reads: list[int] = []
    read_ranges = Database.read_ranges
    monkeypatch.setattr(
        Database, "read_ranges", lambda db, stmt, r: reads.append(len(r)) or read_ranges(db, stmt, r)
    )

    def stored(range_ids: int) -> dict[str, tuple[list, list]]:
        monkeypatch.setattr(cylestio, "_RANGE_IDS", range_ids)
        store = open_source(path)
        with store.cursor() as cur:
            return {
                name: (
                    cur.execute(f"select column_name, column_type from (describe _{name})").fetchall(),
                    cur.execute(f"select * from _{name} order by all").fetchall(),
                )
                for name in model.TABLES
            }

    ranged = stored(7)
    assert max(reads) > 10  # read in many ranges
    assert ranged == stored(10**9)
    with sqlite3.connect(path) as con:  # without an index each range would read the whole table
        con.execute("drop index idx_llm_calls_event_id")
    reads.clear()
    assert stored(7) == ranged
    assert reads[2] == 1  # agents, sessions, then the LLM calls: in one piece


def test_naive_timestamps_are_read_as_utc(sqlite_db, data):
    first = open_source(sqlite_db).frame("events")["ts"].min()
    assert str(first.tz) == "UTC"
    assert first.to_pydatetime().replace(tzinfo=None) == min(e[5] for e in data.events)


@pytest.mark.postgres
def test_postgres_ddl_is_the_seed_schema(make_pg_database):
    import psycopg

    url = make_pg_database("ddl")
    with psycopg.connect(url) as con:
        con.execute(postgres_ddl())
        tables = {r[0] for r in con.execute("select tablename from pg_tables where schemaname = 'public'")}
    assert {"agents", "events", "llm_calls", "security_alerts", "performance_metrics"} <= tables
