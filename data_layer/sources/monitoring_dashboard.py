"""The Agent Monitoring Dashboard (seed 002): its SQLite history database and its task-board.json.

The database has no agents or tasks tables, only streams: ``agent_metrics`` samples,
``task_events`` (one row per change of a task), ``git_commits``, ``system_health``,
``rag_metrics`` and ``alerts``. Agents are the ids those streams name; a task is the fold of its
events; every numeric column of a sample table becomes a ``metrics`` series. Folding and
reshaping happen in DuckDB and pandas, never in a loop per task or per row.

The coordination file ``task-board.json`` (``TaskBoardCache { tasks; metrics; lastSynced;
version }``) is read too. Its Task fields are not documented, so the common spellings of each
are tried and the note says which ones were used.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import sqlalchemy as sa

from data_layer.errors import BadExport
from data_layer.model import Telemetry, to_utc
from data_layer.sources.database import Database, Progress

SYSTEM = "monitoring-dashboard"
TITLE = "Agent Monitoring Dashboard"
NEEDS = (
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

_UTC = "datetime64[us, UTC]"
_SEVERITIES = {"info": "low", "warning": "medium", "error": "high", "critical": "critical"}

# Task statuses as boards and task_events spell them -> the model's scale. Keys are lower-case
# with spaces and dashes made underscores.
_TASK_STATUSES = {
    **dict.fromkeys(
        ("pending", "todo", "to_do", "open", "new", "created", "backlog", "queued", "ready", "assigned",
         "not_started", "planned"),
        "pending",
    ),
    **dict.fromkeys(
        ("in_progress", "inprogress", "running", "active", "started", "doing", "working", "wip", "review",
         "in_review"),
        "running",
    ),
    **dict.fromkeys(("blocked", "on_hold", "waiting", "paused"), "blocked"),
    **dict.fromkeys(
        ("completed", "complete", "done", "finished", "closed", "resolved", "merged", "succeeded"),
        "completed",
    ),
    **dict.fromkeys(("failed", "failure", "error", "errored"), "failed"),
    **dict.fromkeys(("cancelled", "canceled", "abandoned", "rejected", "wontfix", "wont_do"), "cancelled"),
}  # fmt: skip
# Event types that say the status on their own, for events that leave new_status empty.
_EVENT_STATUSES = {
    "created": "pending",
    "started": "running",
    "blocked": "blocked",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}

_VELOCITY_NOTE = (
    "Tasks completed per day counts each task once, on the day of its last `completed` event; the"
    " dashboard's own velocity query counts `completed` events, so a task completed, reopened and"
    " completed again counts twice there and once here."
)


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
        tables["tasks"], unknown = _fold_tasks(events)
        tables["events"] = _task_stream(events)
        notes.append(_VELOCITY_NOTE)
        notes.extend(_unknown_statuses_note(unknown))
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
    )


def _read(db: Database, table: str, columns: dict[str, str], progress: Progress) -> pd.DataFrame:
    """Model-named columns of one source table; a column the source lacks comes back NULL."""
    t = db.table(table)
    stmt = sa.select(*(_col(t, source).label(label) for label, source in columns.items()))
    progress(f"Reading {table.replace('_', ' ')}", None)
    return db.read(stmt, progress, table.replace("_", " "))


def _col(table: sa.TableClause, name: str) -> sa.ColumnElement:
    """The column if the source has it, else NULL: databases written by older versions lack some."""
    return table.c[name] if name in table.c else sa.null()


def _read_agent_metrics(db: Database, progress: Progress) -> pd.DataFrame:
    frame = _read(
        db,
        "agent_metrics",
        {"agent": "agent_id", "ts": "timestamp", "status": "status", **{c: c for c in _AGENT_SERIES}},
        progress,
    )
    frame["ts"] = _times(frame["ts"])
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
    frame["ts"] = _times(frame["ts"])
    frame["task_id"] = frame["task_id"].astype("string")
    frame["type"] = frame["type"].astype("string")
    frame["state"] = _task_states(frame["new_status"]).fillna(
        frame["type"].str.strip().str.lower().map(_EVENT_STATUSES)
    )
    return frame


def _read_commits(db: Database, progress: Progress) -> pd.DataFrame:
    columns = {
        "agent": "agent_id",
        "ts": "commit_timestamp",
        **{c: c for c in _COMMIT_SERIES if c != "commits"},
    }
    frame = _read(db, "git_commits", columns, progress)
    frame["ts"] = _times(frame["ts"])
    frame["commits"] = 1
    return frame


def _system_series(db: Database, found: set[str], progress: Progress) -> list[pd.DataFrame]:
    """The system-wide sample tables (agent NULL) and the daily per-agent aggregates, as series."""
    parts = []
    for table, series in (("system_health", _HEALTH_SERIES), ("rag_metrics", _RAG_SERIES)):
        if table in found:
            frame = _read(db, table, {"ts": "timestamp", **{c: c for c in series}}, progress)
            frame["ts"] = _times(frame["ts"])
            frame["agent"] = None
            parts.append(_series(frame, series))
    if db.has("agent_metrics_daily", "agent_id", "date"):
        frame = _read(
            db,
            "agent_metrics_daily",
            {"agent": "agent_id", "ts": "date", **{c: c for c in _DAILY_SERIES}},
            progress,
        )
        frame["ts"] = _times(frame["ts"])
        parts.append(_series(frame, _DAILY_SERIES))
    return parts


def _series(frame: pd.DataFrame, columns: dict[str, tuple[str, str | None]]) -> pd.DataFrame:
    """Wide samples (one column per measure) to long metric rows; a NULL sample is no row, not 0."""
    present = [c for c in columns if c in frame.columns]
    long = frame.melt(id_vars=["ts", "agent"], value_vars=present, var_name="column", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    long = long[long["value"].notna()]
    long["name"] = long["column"].map({c: name for c, (name, _unit) in columns.items()})
    long["unit"] = long["column"].map({c: unit for c, (_name, unit) in columns.items()})
    return long.drop(columns="column")


# --- tasks from task_events --------------------------------------------------------------------

# One row per task. ``state`` is the status an event set (NULL if it set none), ``held`` the status
# the task had after it, and ``moved`` marks the events that changed it; the last move is the one
# to the final status, so its time is when a failed or cancelled task finished.
_FOLD_TASKS = """
with e as (
    select task_id, ts, seq, lower(trim(type)) as type, agent, state,
           case when json_valid(details) then coalesce(json_extract_string(details, '$.type'),
                                                       json_extract_string(details, '$.task_type')) end
               as task_type,
           case when json_valid(details) then json_extract_string(details, '$.title') end as title
    from task_events
), carried as (
    select *, last_value(state ignore nulls) over (
        partition by task_id order by ts, seq rows between unbounded preceding and current row) as held
    from e
), moves as (
    select *, state is not null
              and state is distinct from lag(held) over (partition by task_id order by ts, seq) as moved
    from carried
), tasks as (
    select task_id,
           last(agent order by ts, seq) filter (where agent is not null) as agent,
           last(task_type order by ts, seq) filter (where task_type is not null) as type,
           last(title order by ts, seq) filter (where title is not null) as title,
           last(held order by ts, seq) as status,
           coalesce(min(ts) filter (where type = 'created'), min(ts)) as created_at,
           min(ts) filter (where state = 'running') as started_at,
           max(ts) filter (where moved) as last_move_at,
           max(ts) filter (where type = 'completed') as last_completion
    from moves group by task_id
)
select task_id, agent, type, title, status, created_at, started_at,
       case when status = 'completed' and last_completion >= last_move_at then last_completion
            when status = 'completed' then last_move_at
            when status in ('failed', 'cancelled') then last_move_at
       end as completed_at
from tasks
"""


def _fold_tasks(events: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """One row per task from its events, and the statuses that are not on the model's scale."""
    frame = events[["task_id", "ts", "seq", "type", "agent", "state", "details"]].copy()
    frame["ts"] = _naive(frame["ts"])
    frame["seq"] = pd.to_numeric(frame["seq"], errors="coerce")
    for name in ("agent", "details", "state"):
        frame[name] = frame[name].astype("string")
    with duckdb.connect() as con:
        con.register("task_events", frame)
        tasks = con.sql(_FOLD_TASKS).df()
    return tasks, set(events["state"].dropna().unique()) - set(_TASK_STATUSES.values())


def _task_stream(events: pd.DataFrame) -> pd.DataFrame:
    """Every task_events row as a model event: the Activity views count and filter these."""
    return pd.DataFrame(
        {
            "event_id": events["seq"].astype("string"),
            "ts": events["ts"],
            "agent": events["agent"],
            "type": events["type"],
            "channel": "task",
            "level": "info",
        }
    )


def _task_states(values: pd.Series) -> pd.Series:
    """Statuses on the model's scale; one the scale does not know is kept, lower-cased.

    A source spells a handful of statuses over millions of events: clean each spelling once.
    """
    text = values.astype("string")
    spellings = pd.Series(text.dropna().unique(), dtype="string")
    lowered = spellings.str.strip().str.lower().replace("", pd.NA)
    key = lowered.str.replace(r"[\s\-]+", "_", regex=True)
    states = key.map(_TASK_STATUSES).astype("string").fillna(lowered)
    return text.map(dict(zip(spellings, states, strict=True))).astype("string")


def _unknown_statuses_note(unknown: set[str]) -> list[str]:
    if not unknown:
        return []
    return [
        f"Task statuses {', '.join(sorted(unknown))} are not pending, running, blocked, completed, failed"
        " or cancelled; those tasks keep the status as recorded."
    ]


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
    frame["ts"] = _times(frame["ts"])
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
        + [pd.DataFrame({"agent": mentioned, "ts": pd.Series(pd.NaT, index=mentioned.index, dtype=_UTC)})],
        ignore_index=True,
    )
    seen = seen[seen["agent"].notna()].astype({"agent": "string", "ts": _UTC})
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


# --- times -------------------------------------------------------------------------------------


def _times(values: pd.Series) -> pd.Series:
    """UTC times from ISO text or, as node-sqlite3 stores JS Dates, epoch milliseconds."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("integer", "floating", "mixed-integer-float"):
        number = pd.to_numeric(values, errors="coerce")
        unit = "ms" if number.abs().median() > 1e11 else "s"
        return pd.to_datetime(number, unit=unit, utc=True).astype(_UTC)
    if pd.api.types.infer_dtype(values, skipna=True) == "empty" and not isinstance(
        values.dtype, pd.DatetimeTZDtype
    ):
        return pd.Series(pd.NaT, index=values.index, dtype=_UTC)
    return to_utc(values)


def _naive(values: pd.Series) -> pd.Series:
    """UTC times without the zone, the form DuckDB compares fastest and the model reads as UTC."""
    return values.dt.tz_convert("UTC").dt.tz_localize(None)


# --- task-board.json ---------------------------------------------------------------------------

_MAX_BOARD_BYTES = 64 * 2**20  # a coordination file, edited by hand and by agents; never this big
_SAMPLE_TASKS = 100

# Model column -> the Task field spellings tried, first found wins (per task).
_BOARD_FIELDS: dict[str, tuple[str, ...]] = {
    "task_id": ("id", "task_id", "taskId"),
    "title": ("title", "name", "summary"),
    "status": ("status", "state"),
    "agent": (
        "assignee", "assigned_to", "assignedTo", "agent", "agent_id", "agentId", "owner",
        "assignee.id", "assignee.name",
    ),
    "type": ("type", "task_type", "taskType", "kind", "category"),
    "created_at": ("created_at", "createdAt", "created"),
    "started_at": ("started_at", "startedAt"),
    "completed_at": ("completed_at", "completedAt", "finished_at", "finishedAt", "done_at", "doneAt"),
    "updated_at": ("updated_at", "updatedAt", "lastUpdated"),
}  # fmt: skip


def recognises_file(path: Path, kind: str) -> bool:
    """A JSON document whose top level has a ``tasks`` array of objects with an id and a status.

    A board saved without indentation is one line, which ``sniff`` calls JSON lines: take it too.
    """
    if kind not in ("json", "jsonl") or path.stat().st_size > _MAX_BOARD_BYTES:
        return False
    try:
        doc = _read_board(path)
    except BadExport:
        return False
    tasks = doc.get("tasks") if isinstance(doc, dict) else None
    if not isinstance(tasks, list):
        return False
    if not tasks:  # an empty board still says what it is
        return {"lastSynced", "version"} <= set(doc)
    sample = tasks[:_SAMPLE_TASKS]
    if not all(isinstance(t, dict) for t in sample):
        return False
    keys = pd.json_normalize(sample).columns
    return _has_field(keys, "task_id") and _has_field(keys, "status")


def _has_field(keys: pd.Index, field: str) -> bool:
    return any(name in keys for name in _BOARD_FIELDS[field])


def _read_board(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, OSError) as err:
        raise BadExport(
            f"{path.name} is not a readable JSON task board ({err}). Copy coordination/task-board.json again."
        ) from err


def load_file(path: Path, kind: str, progress: Progress) -> Telemetry:
    progress(f"Reading the task board {path.name}", None)
    doc = _read_board(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("tasks"), list):
        raise BadExport(f"{path.name} has no tasks array. Point Agentwatch at coordination/task-board.json.")
    try:
        raw = pd.json_normalize(doc["tasks"])
    except (AttributeError, TypeError) as err:
        raise BadExport(
            f"{path.name} has tasks that are not objects ({err}). Check the file's tasks array."
        ) from err
    tasks, used = _board_tasks(raw)
    unknown = set(tasks["status"].dropna().unique()) - set(_TASK_STATUSES.values())
    agents = pd.DataFrame({"agent": sorted(tasks["agent"].dropna().astype(str).unique())})
    return Telemetry(
        system=SYSTEM,
        tables={"tasks": tasks, "agents": agents},
        source_tables={"tasks": len(raw)},
        notes=[_board_note(doc, used), *_unknown_statuses_note(unknown)],
    )


def _board_tasks(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The model's task columns from the board's, and which board fields each was read from."""
    picked, used = {}, {}
    for column, names in _BOARD_FIELDS.items():
        present = [n for n in names if n in raw.columns]
        used[column] = present
        picked[column] = (
            raw[present].bfill(axis=1).iloc[:, 0]
            if present
            else pd.Series(pd.NA, index=raw.index, dtype=object)
        )
    tasks = pd.DataFrame({c: picked[c] for c in ("task_id", "title", "agent", "type")})
    tasks["status"] = _task_states(picked["status"])
    for column in ("created_at", "started_at", "completed_at", "updated_at"):
        tasks[column] = _times(picked[column])
    finished = tasks["status"].isin(["completed", "failed", "cancelled"])
    # A board often only stamps the last update: for a finished task that is when it finished.
    tasks["completed_at"] = tasks["completed_at"].fillna(tasks["updated_at"]).where(finished)
    return tasks.drop(columns="updated_at"), used


def _board_note(doc: dict, used: dict[str, list[str]]) -> str:
    fields = "; ".join(f"{column} from {', '.join(names)}" for column, names in used.items() if names)
    synced = f" last synced {doc['lastSynced']}," if doc.get("lastSynced") else ""
    version = f" version {doc['version']}," if doc.get("version") else ""
    return (
        f"Task board{synced}{version} read from the tasks array: {fields or 'no known fields'}."
        " A finished task without a completion time is taken to have finished at its last update."
    )
