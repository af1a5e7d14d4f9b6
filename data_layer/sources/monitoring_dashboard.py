"""The Agent Monitoring Dashboard (seed 002): its SQLite history database and its task-board.json.

The database has no agents or tasks tables, only streams: ``agent_metrics`` samples,
``task_events`` (one row per change of a task), ``git_commits``, ``system_health``,
``rag_metrics`` and ``alerts``. Agents are the ids those streams name; a task is the fold of its
events; every numeric column of a sample table becomes a ``metrics`` series. Folding and
reshaping happen in DuckDB and pandas, never in a loop per task or per row.

The coordination file ``task-board.json`` is read too (``task_board.py``); the task statuses,
the fold of task events and the times both use are in ``dashboard_tasks.py``.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import sqlalchemy as sa

from data_layer.model import Telemetry
from data_layer.report import ReadingReport
from data_layer.sources import task_board
from data_layer.sources.adapter import Adapter, optional_column
from data_layer.sources.dashboard_tasks import (
    ASSUMPTIONS,
    EVENT_STATUSES,
    SYSTEM,
    UTC,
    VELOCITY_NOTE,
    fold_tasks,
    task_states,
    task_stream,
    times,
    unknown_statuses_note,
)
from data_layer.sources.database import Database, Progress

_NEEDS = (
    "tables task_events or agent_metrics plus git_commits, system_health, rag_metrics or alerts;"
    " or a task-board.json whose tasks have an id and a status"
)

# Columns that make each table the dashboard's own, not a same-named table of another system.
_SIGNATURES: dict[str, tuple[str, ...]] = {
    "agent_metrics": ("agent_id", "timestamp", "status"),
    "task_events": ("task_id", "event_type", "timestamp"),
    "git_commits": ("commit_hash", "agent_id", "commit_timestamp"),
    "system_health": ("overall_status", "timestamp"),
    "rag_metrics": ("total_queries", "timestamp"),
    "alerts": ("alert_id", "severity", "title", "acknowledged", "resolved"),
}
_ANCHORS = ("agent_metrics", "task_events")
_SEED_TABLES = (*_SIGNATURES, "agent_metrics_daily", "schema_version")

# Source column -> (series name, unit). A unit the document does not give stays None.
_AGENT_SERIES = {
    "cpu_usage": ("cpu_usage", "%"),
    "memory_usage": ("memory_usage", None),
    "memory_percent": ("memory_percent", "%"),
    "uncommitted_changes": ("uncommitted_changes", "changes"),
    "uptime_seconds": ("uptime_seconds", "s"),
}
_COMMIT_SERIES = {
    "commits": ("commits", "commits"),
    "lines_added": ("lines_added", "lines"),
    "lines_deleted": ("lines_deleted", "lines"),
    "files_changed": ("files_changed", "files"),
}
# system_health shares cpu_usage and memory_usage with agent_metrics: the prefix keeps the
# system-wide samples out of the agents' series, as rag. does for the RAG service's.
_HEALTH_SERIES = {
    "api_latency": ("system.api_latency", "ms"),
    "websocket_connections": ("system.websocket_connections", "connections"),
    "file_watch_events": ("system.file_watch_events", "events"),
    "error_count": ("system.error_count", "errors"),
    "cpu_usage": ("system.cpu_usage", "%"),
    "memory_usage": ("system.memory_usage", None),
    "disk_usage": ("system.disk_usage", None),
}
_RAG_SERIES = {
    "total_patterns": ("rag.total_patterns", "patterns"),
    "total_queries": ("rag.total_queries", "queries"),
    "average_response_time": ("rag.average_response_time", "ms"),
    "hit_rate": ("rag.hit_rate", None),
    "memory_usage": ("rag.memory_usage", None),
    "query_volume_last_hour": ("rag.query_volume_last_hour", "queries"),
}
_DAILY_SERIES = {
    "avg_cpu": ("daily.cpu_usage", "%"),
    "avg_memory": ("daily.memory_percent", "%"),
}

_SEVERITIES = {"info": "low", "warning": "medium", "error": "high", "critical": "critical"}

# --- the database ------------------------------------------------------------------------------


def recognises(db: Database) -> bool:
    """task_events or agent_metrics, and at least one more of the dashboard's tables."""
    found = _present(db)
    return bool(found & set(_ANCHORS)) and len(found) >= 2


def _present(db: Database) -> set[str]:
    return {table for table, columns in _SIGNATURES.items() if db.has(table, *columns)}


def load(db: Database, progress: Progress) -> Telemetry:
    found = _present(db)
    notes: list[str] = []
    samples = _read_agent_metrics(db, progress) if "agent_metrics" in found else None
    events = _read_task_events(db, progress) if "task_events" in found else None
    commits = _read_commits(db, progress) if "git_commits" in found else None
    series = [
        *([] if samples is None else [_series(samples, _AGENT_SERIES)]),
        *([] if commits is None else [_series(commits, _COMMIT_SERIES)]),
        *_system_series(db, found, progress),
    ]
    known = _agent_names(samples, events, commits)
    tables: dict[str, pd.DataFrame | None] = {
        "metrics": pd.concat(series, ignore_index=True) if series else None
    }
    if events is not None:
        progress("Folding task events into tasks", None)
        tables["tasks"], unknown = fold_tasks(events)
        tables["events"] = task_stream(events)
        notes.append(VELOCITY_NOTE)
        notes.extend(unknown_statuses_note(unknown))
    mentioned = pd.Series(dtype="string")
    if "alerts" in found:
        tables["alerts"], odd = _read_alerts(db, known, progress)
        mentioned = tables["alerts"]["agent"]
        notes.extend(_unknown_severities_note(odd))
    tables["agents"] = _agents(samples, events, commits, mentioned)
    counts = {t: db.count(t) for t in _SEED_TABLES if t in db.catalog()}
    return Telemetry(
        system=SYSTEM,
        tables=tables,
        source_tables=counts,
        source_events=counts.get("task_events"),
        notes=notes + _db_notes(db, found),
        report=_report(counts, series),
    )


def _report(counts: dict[str, int], series: list[pd.DataFrame]) -> ReadingReport:
    """The tables read (schema_version is no telemetry), and sample values that are not numbers."""
    report = ReadingReport(read={t: n for t, n in counts.items() if t != "schema_version"})
    report.skip(
        "metric sample value that is not a number", sum(p.attrs.get("not_numbers", 0) for p in series)
    )
    return report.assume(*ASSUMPTIONS)


def _read(db: Database, table: str, columns: dict[str, str], progress: Progress) -> pd.DataFrame:
    """Model-named columns of one source table; a column the source lacks comes back NULL."""
    t = db.table(table)
    stmt = sa.select(*(optional_column(t, source).label(label) for label, source in columns.items()))
    progress(f"Reading {table.replace('_', ' ')}", None)
    return db.read(stmt, progress, table.replace("_", " "))


def _read_agent_metrics(db: Database, progress: Progress) -> pd.DataFrame:
    frame = _read(
        db,
        "agent_metrics",
        {"agent": "agent_id", "ts": "timestamp", "status": "status", **{c: c for c in _AGENT_SERIES}},
        progress,
    )
    frame["ts"] = times(frame["ts"])
    return frame


def _read_task_events(db: Database, progress: Progress) -> pd.DataFrame:
    frame = _read(
        db,
        "task_events",
        {
            "seq": "id",
            "task_id": "task_id",
            "type": "event_type",
            "new_status": "new_status",
            "agent": "assigned_to",
            "details": "details",
            "ts": "timestamp",
        },
        progress,
    )
    frame["ts"] = times(frame["ts"])
    frame["task_id"] = frame["task_id"].astype("string")
    frame["type"] = frame["type"].astype("string")
    frame["state"] = task_states(frame["new_status"]).fillna(
        frame["type"].str.strip().str.lower().map(EVENT_STATUSES)
    )
    return frame


def _read_commits(db: Database, progress: Progress) -> pd.DataFrame:
    columns = {
        "agent": "agent_id",
        "ts": "commit_timestamp",
        **{c: c for c in _COMMIT_SERIES if c != "commits"},
    }
    frame = _read(db, "git_commits", columns, progress)
    frame["ts"] = times(frame["ts"])
    frame["commits"] = 1
    return frame


def _system_series(db: Database, found: set[str], progress: Progress) -> list[pd.DataFrame]:
    """The system-wide sample tables (agent NULL) and the daily per-agent aggregates, as series."""
    parts = []
    for table, series in (("system_health", _HEALTH_SERIES), ("rag_metrics", _RAG_SERIES)):
        if table in found:
            frame = _read(db, table, {"ts": "timestamp", **{c: c for c in series}}, progress)
            frame["ts"] = times(frame["ts"])
            frame["agent"] = None
            parts.append(_series(frame, series))
    if db.has("agent_metrics_daily", "agent_id", "date"):
        frame = _read(
            db,
            "agent_metrics_daily",
            {"agent": "agent_id", "ts": "date", **{c: c for c in _DAILY_SERIES}},
            progress,
        )
        frame["ts"] = times(frame["ts"])
        parts.append(_series(frame, _DAILY_SERIES))
    return parts


def _series(frame: pd.DataFrame, columns: dict[str, tuple[str, str | None]]) -> pd.DataFrame:
    """Wide samples (one column per measure) to long metric rows; a NULL sample is no row, not 0."""
    present = [c for c in columns if c in frame.columns]
    long = frame.melt(id_vars=["ts", "agent"], value_vars=present, var_name="column", value_name="value")
    recorded = long["value"].notna()
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    not_numbers = int((recorded & long["value"].isna()).sum())
    long = long[long["value"].notna()]
    long.attrs["not_numbers"] = not_numbers  # counted in the reading report
    long["name"] = long["column"].map({c: name for c, (name, _unit) in columns.items()})
    long["unit"] = long["column"].map({c: unit for c, (_name, unit) in columns.items()})
    return long.drop(columns="column")


# --- alerts ------------------------------------------------------------------------------------

# The agent an alert concerns: named in its metadata JSON, else its source when that is an agent.
_ALERT_AGENTS = """
select coalesce(
    case when json_valid(metadata) then coalesce(json_extract_string(metadata, '$.agent_id'),
                                                 json_extract_string(metadata, '$.agent')) end,
    case when list_contains($known::varchar[], source) then source end) as agent
from alerts order by row
"""


def _read_alerts(db: Database, known: list[str], progress: Progress) -> tuple[pd.DataFrame, set[str]]:
    """Alerts on the model's severity scale, and the severities that were not on the dashboard's."""
    frame = _read(
        db,
        "alerts",
        {
            "alert_id": "alert_id",
            "ts": "created_at",
            "source": "source",
            "type": "type",
            "severity": "severity",
            "title": "title",
            "message": "message",
            "metadata": "metadata",
            "acknowledged": "acknowledged",
            "resolved": "resolved",
            "resolved_at": "resolved_at",
        },
        progress,
    )
    frame["ts"] = times(frame["ts"])
    severity = frame["severity"].astype("string").str.strip().str.lower()
    frame["severity"] = severity.map(_SEVERITIES).astype("string").fillna(severity)
    odd = set(severity[severity.notna() & ~severity.isin(list(_SEVERITIES))].unique())
    resolved = _flag(frame["resolved"]) | frame["resolved_at"].notna()
    frame["status"] = "open"
    frame.loc[_flag(frame["acknowledged"]), "status"] = "acknowledged"
    frame.loc[resolved, "status"] = "resolved"
    message = frame["message"].astype("string").str.strip().replace("", pd.NA)
    frame["description"] = (frame["title"].astype("string") + ": " + message).fillna(
        frame["title"].astype("string")
    )
    frame["agent"] = _alert_agents(frame, known)
    return frame, odd


def _alert_agents(frame: pd.DataFrame, known: list[str]) -> pd.Series:
    source = pd.DataFrame(
        {
            "row": range(len(frame)),
            "metadata": frame["metadata"].astype("string").to_numpy(),
            "source": frame["source"].astype("string").to_numpy(),
        }
    )
    with duckdb.connect() as con:
        con.register("alerts", source)
        found = con.execute(_ALERT_AGENTS, {"known": known}).df()
    return pd.Series(found["agent"].to_numpy(), index=frame.index, dtype="string")


_TRUE = ("1", "true", "t", "yes", "y")


def _flag(values: pd.Series) -> pd.Series:
    """SQLite booleans as written by any client: 1/0, or the text true/false."""
    number = pd.to_numeric(values, errors="coerce")
    text = values.astype("string").str.strip().str.lower()
    return (number.fillna(0) != 0) | text.isin(_TRUE).fillna(False).astype(bool)


def _unknown_severities_note(odd: set[str]) -> list[str]:
    if not odd:
        return []
    return [
        f"Alert severities {', '.join(sorted(odd))} are not info, warning, error or critical; they are"
        " kept as recorded, outside the low-to-critical scale."
    ]


# --- agents ------------------------------------------------------------------------------------


def _agent_names(*frames: pd.DataFrame | None) -> list[str]:
    """Agent ids the streams name: the dashboard has no agents table to list them."""
    names = pd.concat([pd.Series(dtype=object)] + [f["agent"] for f in frames if f is not None])
    return sorted(names.dropna().astype(str).unique())


def _agents(
    samples: pd.DataFrame | None,
    events: pd.DataFrame | None,
    commits: pd.DataFrame | None,
    mentioned: pd.Series,
) -> pd.DataFrame:
    """One row per agent named anywhere; last seen is its latest sample, commit or task event.

    An alert about an agent names it but is not news from it, so alerts add agents without a time.
    """
    seen = pd.concat(
        [f[["agent", "ts"]] for f in (samples, events, commits) if f is not None]
        + [pd.DataFrame({"agent": mentioned, "ts": pd.Series(pd.NaT, index=mentioned.index, dtype=UTC)})],
        ignore_index=True,
    )
    seen = seen[seen["agent"].notna()].astype({"agent": "string", "ts": UTC})
    agents = seen.groupby("agent", sort=True)["ts"].max().rename("last_seen_at").reset_index()
    if samples is not None and len(samples):
        latest = (
            samples.dropna(subset=["agent"])
            .sort_values("ts", kind="stable")
            .groupby("agent")["status"]
            .last()
        )
        agents["status"] = agents["agent"].map(latest.rename(index=str))
    return agents


def _db_notes(db: Database, found: set[str]) -> list[str]:
    notes = []
    if {"agent_metrics", "system_health", "rag_metrics"} & found:
        notes.append(
            "memory_usage, disk_usage and rag hit_rate have no documented unit in the dashboard's schema;"
            " they are shown as recorded."
        )
    if {"system_health", "rag_metrics"} & found:
        notes.append(
            "system_health and rag_metrics samples are system-wide series named system.* and rag.*"
            " (no agent)."
        )
    if db.has("agent_metrics_daily", "agent_id", "date"):
        notes.append(
            "agent_metrics_daily averages are the series daily.cpu_usage and daily.memory_percent,"
            " one point per agent and day, beside the detailed samples."
        )
    return notes


ADAPTER = Adapter(
    system=SYSTEM,
    title="Agent Monitoring Dashboard",
    needs=_NEEDS,
    provides=frozenset({"agents", "tasks", "events", "alerts", "metrics"}),
    formats="its database or task-board.json",
    recognises=recognises,
    load=load,
    recognises_file=task_board.recognises_file,
    load_file=task_board.load_file,
)
