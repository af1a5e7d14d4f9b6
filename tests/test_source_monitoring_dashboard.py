"""Agent Monitoring Dashboard databases (seed 002) and task-board.json files load exactly."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from data_layer.sources import monitoring_dashboard, open_source
from data_layer.sources.database import Database
from data_layer.summary import summarize
from tests.builders.dashboard_db import COMMIT_ONLY, DashboardData
from tests.conftest import ROOT
from tests.seed_sql import seed_sql
from tests.summary_check import assert_same_summary

# The dashboard's getTaskVelocity query (seed 002), without its rolling window.
VELOCITY_SQL = (
    "SELECT DATE(timestamp), COUNT(*) FROM task_events"
    " WHERE event_type = 'completed' GROUP BY DATE(timestamp)"
)
ONE_SAMPLE = (
    "insert into agent_metrics (agent_id, timestamp, status) values ('builder', '2025-06-01 09:00', 'idle');"
)


@pytest.fixture(scope="module")
def data() -> DashboardData:
    return DashboardData.generate(seed=3)


@pytest.fixture(scope="module")
def db_path(data, tmp_path_factory) -> Path:
    return data.write_sqlite(tmp_path_factory.mktemp("dashboard") / "dashboard.db")


@pytest.fixture(scope="module")
def store(db_path):
    return open_source(db_path)


def _utc(t: datetime | None) -> pd.Timestamp | None:
    return None if t is None else pd.Timestamp(t.replace(tzinfo=UTC))


def _value(v: object) -> object:
    return None if pd.isna(v) else v


def _seed_db(path: Path, statements: str = "") -> Path:
    """A database made with seed 002's SQL, plus whatever rows a test adds."""
    con = sqlite3.connect(path)
    con.executescript(seed_sql("002") + statements)
    con.commit()
    con.close()
    return path


# --- the database ------------------------------------------------------------------------------


def test_summary_of_the_dashboard_database_matches_inserted_rows(data, store):
    assert_same_summary(summarize(store), data.expected_summary())


def test_cli_prints_the_dashboard_summary_as_json(data, db_path):
    out = subprocess.run(
        [sys.executable, "-m", "data_layer", "summarize", str(db_path), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert_same_summary(json.loads(out.stdout), data.expected_summary())


def test_each_task_is_folded_from_its_events_into_status_owner_and_lifecycle_times(data, store):
    tasks = store.frame("tasks").set_index("task_id")
    assert sorted(tasks.index) == sorted(t.task_id for t in data.tasks)
    for truth in data.tasks:
        row = tasks.loc[truth.task_id]
        got = {
            k: _value(row[k]) for k in ("agent", "type", "status", "created_at", "started_at", "completed_at")
        }
        want = {
            "agent": truth.agent,
            "type": truth.type,
            "status": truth.status,
            "created_at": _utc(truth.created_at),
            "started_at": _utc(truth.started_at),
            "completed_at": _utc(truth.completed_at),
        }
        assert got == want, truth.task_id


def test_the_fixture_covers_every_task_status_and_iso_written_times(data):
    assert {t.status for t in data.tasks} == {
        "pending",
        "running",
        "blocked",
        "completed",
        "failed",
        "cancelled",
    }
    assert data.iso_times and len(data.iso_times) < len(data.task_events)


def test_every_task_event_row_is_an_event_on_the_task_channel(data, store):
    events = store.frame("events")
    assert len(events) == len(data.task_events)
    assert set(events["channel"]) == {"task"} and set(events["level"]) == {"info"}
    by_type = events.groupby("type").size().to_dict()
    want: dict[str, int] = {}
    for e in data.task_events:
        want[e[1]] = want.get(e[1], 0) + 1
    assert by_type == want
    assert events["agent"].isna().sum() == sum(1 for e in data.task_events if e[4] is None)


def test_agents_are_the_ids_the_streams_name_with_latest_status_and_last_seen(data, store):
    agents = store.frame("agents").set_index("agent")
    truth = data.agents()
    assert sorted(agents.index) == sorted(truth)
    for name, want in truth.items():
        assert _value(agents.loc[name, "status"]) == want["status"], name
        assert _value(agents.loc[name, "last_seen_at"]) == _utc(want["last_seen_at"]), name


def test_alerts_keep_their_state_and_find_their_agent(data, store):
    alerts = store.frame("alerts").set_index("alert_id")
    assert len(alerts) == len(data.alert_truth)
    for truth in data.alert_truth:
        assert alerts.loc[truth.alert_id, "status"] == truth.status, truth.alert_id
        assert _value(alerts.loc[truth.alert_id, "agent"]) == truth.agent, truth.alert_id
    states = {t.status for t in data.alert_truth}
    assert states == {"open", "acknowledged", "resolved"}


def test_alert_description_is_the_title_and_the_message_when_there_is_one(data, store):
    alerts = store.frame("alerts").set_index("alert_id")
    for alert_id, _type, _sev, title, message, *_ in data.alerts:
        want = f"{title}: {message}" if message else title
        assert alerts.loc[alert_id, "description"] == want


def test_metric_series_carry_the_documented_units_and_only_agent_series_name_an_agent(store):
    metrics = store.frame("metrics")
    units = {name: set(map(_value, unit)) for name, unit in metrics.groupby("name", dropna=False)["unit"]}
    assert units == {
        "cpu_usage": {"%"},
        "memory_usage": {None},
        "memory_percent": {"%"},
        "uncommitted_changes": {"changes"},
        "uptime_seconds": {"s"},
        "commits": {"commits"},
        "lines_added": {"lines"},
        "lines_deleted": {"lines"},
        "files_changed": {"files"},
        "system.api_latency": {"ms"},
        "system.websocket_connections": {"connections"},
        "system.file_watch_events": {"events"},
        "system.error_count": {"errors"},
        "system.cpu_usage": {"%"},
        "system.memory_usage": {None},
        "system.disk_usage": {None},
        "rag.total_patterns": {"patterns"},
        "rag.total_queries": {"queries"},
        "rag.average_response_time": {"ms"},
        "rag.hit_rate": {None},
        "rag.memory_usage": {None},
        "rag.query_volume_last_hour": {"queries"},
        "daily.cpu_usage": {"%"},
        "daily.memory_percent": {"%"},
    }
    system_wide = metrics["name"].str.startswith(("system.", "rag."))
    assert metrics.loc[system_wide, "agent"].isna().all()
    assert metrics.loc[~system_wide, "agent"].notna().all()


def test_commit_series_total_per_day_counts_commits_and_lines(data, store):
    from data_layer import queries
    from data_layer.filters import ALL

    daily = queries.metric_series(store, ALL, bucket="day", names=("commits", "lines_added"))
    got = {(r.bucket.strftime("%Y-%m-%d"), r.name): r.total for r in daily.itertuples()}
    want: dict[tuple[str, str], float] = {}
    for _hash, _agent, _files, added, _deleted, ts in data.commits:
        day = ts.strftime("%Y-%m-%d")
        want[(day, "commits")] = want.get((day, "commits"), 0) + 1.0
        if added is not None:
            want[(day, "lines_added")] = want.get((day, "lines_added"), 0) + float(added)
    assert got == want
    assert COMMIT_ONLY in set(store.frame("metrics")["agent"].dropna())


def test_source_tables_are_the_row_counts_of_the_seed_tables(data, store):
    assert store.info.source_tables == {
        "agent_metrics": len(data.samples),
        "task_events": len(data.task_events),
        "git_commits": len(data.commits),
        "system_health": len(data.health),
        "rag_metrics": len(data.rag),
        "alerts": len(data.alerts),
        "agent_metrics_daily": len(data.daily),
        "schema_version": 1,
    }


def test_notes_explain_velocity_and_the_unknown_severity(store):
    notes = " ".join(store.info.notes)
    assert "counts each task once" in notes
    assert "severities notice" in notes


# --- velocity ------------------------------------------------------------------------------------


def test_completed_per_day_equals_the_dashboards_velocity_query_when_each_task_completes_once(tmp_path):
    data = DashboardData.generate(seed=11, tasks=80, reopen=False)
    path = data.write_sqlite(tmp_path / "once.db")
    with sqlite3.connect(path) as con:
        velocity = dict(con.execute(VELOCITY_SQL).fetchall())
    assert sum(velocity.values()) > 20
    assert summarize(open_source(path))["tasks"]["completed_per_day"] == dict(sorted(velocity.items()))


def test_a_task_completed_reopened_and_completed_again_counts_once_on_its_last_day(tmp_path):
    rows = [
        ("T-1", "created", None, "pending", "builder", "2025-06-01 09:00:00"),
        ("T-1", "updated", "pending", "in_progress", None, "2025-06-01 10:00:00"),
        ("T-1", "completed", "in_progress", "completed", None, "2025-06-02 10:00:00"),
        ("T-1", "updated", "completed", "in_progress", None, "2025-06-03 10:00:00"),
        ("T-1", "completed", "in_progress", "completed", None, "2025-06-04 10:00:00"),
    ]
    values = ",".join(
        f"('{t}', '{e}', {_sql(p)}, {_sql(n)}, {_sql(a)}, '{ts}')" for t, e, p, n, a, ts in rows
    )
    path = _seed_db(
        tmp_path / "reopened.db",
        "insert into task_events (task_id, event_type, previous_status, new_status, assigned_to, timestamp)"
        f" values {values};" + ONE_SAMPLE,
    )
    with sqlite3.connect(path) as con:
        assert dict(con.execute(VELOCITY_SQL).fetchall()) == {"2025-06-02": 1, "2025-06-04": 1}
    tasks = summarize(open_source(path))["tasks"]
    assert tasks == {"completed": 1, "failed": 0, "completed_per_day": {"2025-06-04": 1}}


def _sql(value: str | None) -> str:
    return "null" if value is None else f"'{value}'"


# --- alerts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "severity"),
    [
        ("info", "low"),
        ("warning", "medium"),
        ("error", "high"),
        ("critical", "critical"),
        ("INFO", "low"),
        ("Warning", "medium"),
        ("ERROR", "high"),
        ("Critical", "critical"),
    ],
)
def test_dashboard_severities_map_onto_the_low_to_critical_scale(tmp_path, written, severity):
    path = _seed_db(
        tmp_path / "severity.db",
        ONE_SAMPLE + "insert into alerts (alert_id, type, severity, title, created_at)"
        f" values ('a-1', 'agent', '{written}', 'CPU high', '2025-06-01 09:05');",
    )
    store = open_source(path)
    assert list(store.frame("alerts")["severity"]) == [severity]
    assert summarize(store)["alerts"]["by_severity"][severity] == 1
    assert not any("severities" in note for note in store.info.notes)


def test_an_unknown_severity_is_kept_lower_cased_with_a_note(tmp_path):
    path = _seed_db(
        tmp_path / "notice.db",
        ONE_SAMPLE + "insert into alerts (alert_id, type, severity, title, created_at)"
        " values ('a-1', 'agent', 'Notice', 'Disk filling', '2025-06-01 09:05');",
    )
    store = open_source(path)
    assert list(store.frame("alerts")["severity"]) == ["notice"]
    assert summarize(store)["alerts"] == {
        "total": 1,
        "by_severity": {"low": 0, "medium": 0, "high": 0, "critical": 0},
    }
    assert any("severities notice" in note for note in store.info.notes)


# --- recognition -------------------------------------------------------------------------------------

_AGENT_METRICS = (
    "create table agent_metrics (id integer primary key, agent_id text, timestamp text, status text);"
)
_TASK_EVENTS = (
    "create table task_events (id integer primary key, task_id text, event_type text, new_status text,"
    " assigned_to text, timestamp text);"
)
_GIT_COMMITS = (
    "create table git_commits (commit_hash text, agent_id text, commit_timestamp text, lines_added int);"
)
_ALERTS = (
    "create table alerts (alert_id text, type text, severity text, title text, message text, source text,"
    " metadata text, acknowledged boolean, resolved boolean, created_at text);"
)
_PLATFORM = (  # seed 004's multi-agent platform, as SQLite
    "create table agents (id text primary key, name text, status text, created_at text);"
    "create table tasks (id text primary key, agent_id text, status text, created_at text);"
    "create table metrics (id integer primary key, agent_id text, metric_name text, value real,"
    " timestamp text);"
)


@pytest.mark.parametrize(
    ("ddl", "claimed"),
    [
        (seed_sql("002"), True),
        (_AGENT_METRICS + _ALERTS, True),
        (_TASK_EVENTS + _GIT_COMMITS, True),
        (_TASK_EVENTS, False),
        (_AGENT_METRICS, False),
        (_GIT_COMMITS + _ALERTS, False),
        (seed_sql("000"), False),
        (_PLATFORM, False),
        (_PLATFORM + "create table alerts (id integer primary key, severity text, message text);", False),
    ],
    ids=[
        "seed-002",
        "metrics-and-alerts",
        "events-and-commits",
        "events-alone",
        "metrics-alone",
        "no-anchor-table",
        "cylestio",
        "agent-platform",
        "platform-with-plain-alerts",
    ],
)
def test_recognises_only_databases_with_the_dashboards_tables(tmp_path, ddl, claimed):
    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as con:
        con.executescript(ddl)
    assert monitoring_dashboard.recognises(Database.sqlite_file(path)) is claimed


def test_a_database_with_only_task_events_and_commits_has_no_alert_or_health_sections(tmp_path):
    path = tmp_path / "partial.db"
    with sqlite3.connect(path) as con:
        con.executescript(
            _TASK_EVENTS
            + _GIT_COMMITS
            + "insert into task_events (task_id, event_type, new_status, assigned_to, timestamp) values"
            " ('T-1', 'created', 'todo', 'coder', '2025-06-01 08:00:00'),"
            " ('T-1', 'completed', 'done', 'coder', '2025-06-01 12:00:00');"
            "insert into git_commits values ('abc', 'coder', '2025-06-01 11:00:00', 12),"
            " ('def', 'coder', '2025-06-02 11:00:00', null);"
        )
    summary = summarize(open_source(path))
    assert summary["alerts"] is None
    assert summary["tasks"] == {"completed": 1, "failed": 0, "completed_per_day": {"2025-06-01": 1}}
    assert {name: m["points"] for name, m in summary["metrics"].items()} == {"commits": 2, "lines_added": 1}
    assert summary["agents"] == 1 and summary["events"] == 2


def test_epoch_millisecond_timestamps_are_read_as_utc(tmp_path):
    # node-sqlite3, which the dashboard runs on, binds a JS Date as milliseconds since the epoch.
    at = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
    ms = int(at.timestamp() * 1000)
    path = _seed_db(
        tmp_path / "epoch.db",
        f"insert into agent_metrics (agent_id, timestamp, status, cpu_usage) values ('a', {ms}, 'idle', 5);"
        "insert into task_events (task_id, event_type, new_status, timestamp)"
        f" values ('T', 'created', 'todo', {ms});",
    )
    summary = summarize(open_source(path))
    assert summary["time_range"] == {"start": at.isoformat(), "end": at.isoformat()}


# --- task-board.json ---------------------------------------------------------------------------------

BOARD = {
    "tasks": [
        {
            "id": "T-1",
            "title": "Build the API",
            "status": "done",
            "assignee": "builder",
            "type": "feature",
            "createdAt": "2025-06-02T09:00:00Z",
            "startedAt": "2025-06-02T10:00:00Z",
            "completedAt": "2025-06-03T15:30:00Z",
        },
        {
            "task_id": "T-2",
            "name": "Review the API",
            "status": "In Progress",
            "assigned_to": "reviewer",
            "created_at": "2025-06-03 08:00:00",
            "started_at": "2025-06-03 09:00:00",
        },
        {
            "id": "T-3",
            "title": "Plan release",
            "status": "completed",
            "agent": "planner",
            "createdAt": "2025-06-01T07:00:00+02:00",
            "updatedAt": "2025-06-04T18:00:00Z",
        },
        {
            "id": "T-4",
            "title": "Flaky test",
            "status": "failed",
            "assignee": "builder",
            "updatedAt": "2025-06-05T11:00:00Z",
        },
        {
            "id": "T-5",
            "title": "Write docs",
            "status": "blocked",
            "assignee": {"id": "writer", "name": "Writer"},
        },
        {"id": "T-6", "title": "Someday", "status": "todo", "createdAt": "2025-06-06T12:00:00Z"},
        {"id": 7, "status": "completed", "assignee": "builder", "completed_at": "2025-06-03T23:59:00Z"},
    ],
    "metrics": {"completed": 3, "total": 7},
    "lastSynced": "2025-06-06T12:30:00Z",
    "version": "1.4.0",
}


def _write(path: Path, doc: object, indent: int | None = 2) -> Path:
    path.write_text(json.dumps(doc, indent=indent))
    return path


def test_task_board_json_loads_as_tasks_and_agents(tmp_path):
    store = open_source(_write(tmp_path / "task-board.json", BOARD))
    assert_same_summary(
        summarize(store),
        {
            "schema": "monitoring-dashboard",
            "agents": 4,  # builder, reviewer, planner, writer
            "events": None,
            "time_range": {"start": "2025-06-01T05:00:00+00:00", "end": "2025-06-06T12:00:00+00:00"},
            "llm": None,
            "tools": None,
            "tasks": {
                "completed": 3,
                "failed": 1,
                "completed_per_day": {"2025-06-03": 2, "2025-06-04": 1},
            },
            "alerts": None,
            "flagged_events": None,
            "metrics": None,
        },
    )
    tasks = store.frame("tasks").set_index("task_id")
    assert tasks["status"].to_dict() == {
        "T-1": "completed",
        "T-2": "running",
        "T-3": "completed",
        "T-4": "failed",
        "T-5": "blocked",
        "T-6": "pending",
        "7": "completed",
    }
    assert {k: _value(v) for k, v in tasks["agent"].to_dict().items()} == {
        "T-1": "builder",
        "T-2": "reviewer",
        "T-3": "planner",
        "T-4": "builder",
        "T-5": "writer",
        "T-6": None,
        "7": "builder",
    }
    assert tasks.loc["T-2", "title"] == "Review the API" and tasks.loc["T-1", "type"] == "feature"
    assert tasks.loc["T-4", "completed_at"] == pd.Timestamp("2025-06-05T11:00:00Z")
    assert pd.isna(tasks.loc["T-2", "completed_at"])
    assert any("last synced 2025-06-06T12:30:00Z" in note for note in store.info.notes)


def test_a_task_board_saved_on_one_line_is_recognised(tmp_path):
    path = _write(tmp_path / "task-board.json", BOARD, indent=None)
    summary = summarize(open_source(path))
    assert summary["schema"] == "monitoring-dashboard" and summary["tasks"]["completed"] == 3


def test_an_empty_task_board_loads_with_no_tasks(tmp_path):
    path = _write(
        tmp_path / "task-board.json", {"tasks": [], "metrics": {}, "lastSynced": "x", "version": "1"}
    )
    summary = summarize(open_source(path))
    assert summary["tasks"] == {"completed": 0, "failed": 0, "completed_per_day": {}}
    assert summary["agents"] == 0


@pytest.mark.parametrize(
    "doc",
    [
        [{"id": "T-1", "status": "done"}],
        {"items": [{"id": "T-1", "status": "done"}]},
        {"tasks": [{"id": "T-1", "title": "no status"}]},
        {"tasks": [{"status": "done", "title": "no id"}]},
        {"tasks": ["T-1", "T-2"]},
        {"tasks": []},
    ],
    ids=["top-level-array", "no-tasks-key", "no-status", "no-id", "not-objects", "empty-without-board-keys"],
)
def test_json_that_is_not_a_task_board_is_not_claimed(tmp_path, doc):
    assert not monitoring_dashboard.ADAPTER.recognises_file(_write(tmp_path / "x.json", doc), "json")
