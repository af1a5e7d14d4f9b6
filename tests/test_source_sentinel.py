"""Sentinel AI databases (seed 003) load exactly: PostgreSQL with monthly partitions, and SQLite."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pandas as pd
import psycopg
import pytest

from data_layer import queries
from data_layer.filters import ALL
from data_layer.sources import open_source, sentinel
from data_layer.sources.database import Database
from data_layer.store import Store
from data_layer.summary import summarize
from tests.builders.cylestio_db import CylestioData
from tests.builders.sentinel_db import BOUNDARY_TEXT, DDL, MEASURES, SentinelData
from tests.summary_check import assert_same_summary


@pytest.fixture(scope="module")
def data() -> SentinelData:
    return SentinelData.generate(seed=5)


@pytest.fixture(scope="module")
def pg_url(data, make_pg_database) -> str:
    return data.write_postgres(make_pg_database("sentinel"))


@pytest.fixture(scope="module")
def pg_store(pg_url):
    return open_source(pg_url)


@pytest.fixture(scope="module")
def sqlite_db(data, tmp_path_factory):
    return data.write_sqlite(tmp_path_factory.mktemp("sentinel") / "sentinel.db")


@pytest.mark.postgres
def test_summary_of_postgres_database_matches_inserted_rows(data, pg_store):
    assert_same_summary(summarize(pg_store), data.expected_summary())


def test_summary_of_sqlite_copy_matches_the_same_rows(data, sqlite_db):
    assert_same_summary(summarize(open_source(sqlite_db)), data.expected_summary())


@pytest.mark.postgres
def test_rows_fill_several_monthly_partitions_and_are_read_once(data, pg_url, pg_store):
    with psycopg.connect(pg_url) as con:
        per_partition = dict(
            con.execute(
                "select tableoid::regclass::text, count(*) from performance_metrics group by 1"
            ).fetchall()
        )
    assert per_partition == {
        "performance_metrics_2025_09": sum(1 for s in data.samples if s.ts < _utc(2025, 10, 1)),
        "performance_metrics_2025_10": sum(
            1 for s in data.samples if _utc(2025, 10, 1) <= s.ts < _utc(2025, 11, 1)
        ),
        "performance_metrics_2025_11": sum(1 for s in data.samples if s.ts >= _utc(2025, 11, 1)),
    }
    assert pg_store.info.source_tables == {
        "ai_agents": len(data.agents),
        "performance_metrics": len(data.samples),
        "user_sessions": len(data.sessions),
        "monitoring_configuration": len(data.configs),
    }
    assert len(pg_store.frame("metrics")) == len(data.points())


@pytest.mark.postgres
def test_a_time_written_with_an_offset_lands_at_its_utc_instant(pg_url, pg_store):
    with psycopg.connect(pg_url) as con:
        (partition,) = con.execute(
            "select tableoid::regclass::text from performance_metrics where latency_ms = 777.5"
        ).fetchone()
    assert partition == "performance_metrics_2025_10"  # September 30th at UTC-5 is October in UTC
    assert _boundary_times(pg_store) == [_utc(2025, 10, 1, 4, 30)]


def test_a_time_written_with_an_offset_in_sqlite_lands_at_its_utc_instant(sqlite_db):
    with sqlite3.connect(sqlite_db) as con:
        (text,) = con.execute("select timestamp from performance_metrics where latency_ms = 777.5").fetchone()
    assert text == BOUNDARY_TEXT
    assert _boundary_times(open_source(sqlite_db)) == [_utc(2025, 10, 1, 4, 30)]


@pytest.mark.postgres
def test_thresholds_come_from_enabled_configurations_in_both_shapes(data, pg_store):
    found = _thresholds(pg_store)
    assert found == data.expected_thresholds()
    assert (None, "latency_ms", "critical", 1000.0) in found  # global, one row per level
    assert ("support-bot", "latency_ms", "threshold", 300.0) in found  # per agent, a bare number
    assert all(row[3] != 9999.0 for row in found)  # the disabled configuration's


def test_sqlite_copy_gives_the_same_thresholds_and_notes(data, sqlite_db):
    store = open_source(sqlite_db)
    assert _thresholds(store) == data.expected_thresholds()
    assert f"skipped: {data.skipped_custom_values():,}." in " ".join(store.info.notes)


@pytest.mark.postgres
def test_series_carry_their_units_and_agent_names(data, pg_store):
    metrics = pg_store.frame("metrics")
    units = metrics.groupby("name", dropna=False)["unit"].unique().to_dict()
    assert {name: list(u) for name, u in units.items() if not name.startswith("custom.")} == {
        "latency_ms": ["ms"],
        "throughput_req_per_min": ["req/min"],
        "cost_per_request": ["USD"],
        "cpu_usage_percent": ["%"],
        "gpu_usage_percent": ["%"],
        "memory_usage_mb": ["MB"],
    }
    assert metrics.loc[metrics["name"].str.startswith("custom."), "unit"].isna().all()
    assert set(metrics["agent"]) == {data.agents[s.agent].name for s in data.samples}
    assert set(pg_store.frame("agents")["agent"]) == {a.name for a in data.agents}


@pytest.mark.postgres
def test_null_measures_are_skipped_not_zero(data, pg_store):
    metrics = pg_store.frame("metrics")
    points = metrics.groupby("name").size().to_dict()
    for measure in MEASURES:
        values = [s.measures[measure] for s in data.samples]
        assert None in values
        assert points[measure] == sum(1 for v in values if v is not None)
    assert int((metrics["value"] == 0).sum()) == sum(1 for p in data.points() if p[3] == 0)


@pytest.mark.postgres
def test_a_numeric_cost_column_reads_as_dollars(data, make_pg_database):
    url = make_pg_database("sentinel_numeric")
    with psycopg.connect(url) as con:
        con.execute(DDL.read_text())
        con.execute("alter table performance_metrics alter column cost_per_request type numeric(12, 6)")
    data.write_postgres(url, create_schema=False)
    summary = summarize(open_source(url))
    assert_same_summary(
        summary["metrics"]["cost_per_request"], data.expected_summary()["metrics"]["cost_per_request"]
    )


@pytest.mark.postgres
def test_user_sessions_are_dashboard_events_and_no_event_total_is_claimed(data, pg_store):
    events = pg_store.frame("events")
    assert len(events) == len(data.sessions)
    assert set(events["type"]) == {"user_session"} and set(events["channel"]) == {"dashboard"}
    assert events["agent"].isna().all()
    assert sorted(events["session"]) == sorted(s.session_id for s in data.sessions)
    assert sorted(events["ts"]) == sorted(s.created_at.astimezone(UTC) for s in data.sessions)
    assert pg_store.info.source_events is None
    assert any("no event log" in note for note in pg_store.info.notes)


@pytest.mark.postgres
def test_skipped_custom_values_and_disabled_configurations_are_counted_in_notes(data, pg_store):
    notes = pg_store.info.notes
    skipped = data.skipped_custom_values()
    expected = f"custom_metrics values that are not numbers (text, true/false, lists), skipped: {skipped:,}."
    assert any(note.startswith(expected) for note in notes), notes
    disabled = sum(1 for c in data.configs if not c.enabled)
    assert f"Disabled monitoring configurations, left out of the thresholds: {disabled}." in notes
    assert f"Alert thresholds that are not numbers, skipped: {data.skipped_thresholds()}." in notes


def test_sentinel_is_recognised_and_claims_no_cylestio_database(sqlite_db, tmp_path):
    assert sentinel.recognises(Database.sqlite_file(sqlite_db))
    cylestio = CylestioData.generate(seed=1, calls=12).write_sqlite(tmp_path / "cylestio.db")
    assert not sentinel.recognises(Database.sqlite_file(cylestio))


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _boundary_times(store: Store) -> list[datetime]:
    """When the latency sample the builder wrote as BOUNDARY_TEXT was taken, as loaded."""
    metrics = store.frame("metrics")
    return metrics.loc[(metrics["name"] == "latency_ms") & (metrics["value"] == 777.5), "ts"].tolist()


def _thresholds(store: Store) -> list[tuple[str | None, str, str, float]]:
    """The thresholds query's rows as (agent, metric, level, value), a global one's agent None."""
    rows = queries.thresholds(store, ALL)
    found = [
        (None if pd.isna(r.agent) else r.agent, r.metric, r.level, float(r.value)) for r in rows.itertuples()
    ]
    return sorted(found, key=lambda r: (r[1], r[2], r[0] or ""))
