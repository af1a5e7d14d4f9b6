"""Tasks as the Agent Monitoring Dashboard records them: statuses, the fold of task events, times.

Shared by its database (``task_events``, folded into one row per task) and its ``task-board.json``
(``task_board.py``): both spell statuses their own ways and store times as ISO text or epochs.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from data_layer.model import to_utc

SYSTEM = "monitoring-dashboard"
UTC = "datetime64[us, UTC]"
# What reading the dashboard's times and tasks takes for granted, for the reading report.
ASSUMPTIONS = (
    "Times as numbers are epoch milliseconds when their median is above 1e11, else seconds; text"
    " without a time zone is UTC.",
    "A task's status is the last one its events (or the board) set; a status named only by the"
    " event type (created, started, completed...) counts too.",
)

# Task statuses as boards and task_events spell them -> the model's scale. Keys are lower-case
# with spaces and dashes made underscores.
TASK_STATUSES = {
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
EVENT_STATUSES = {
    "created": "pending",
    "started": "running",
    "blocked": "blocked",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}

VELOCITY_NOTE = (
    "Tasks completed per day counts each task once, on the day of its last `completed` event; the"
    " dashboard's own velocity query counts `completed` events, so a task completed, reopened and"
    " completed again counts twice there and once here."
)


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


def fold_tasks(events: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """One row per task from its events, and the statuses that are not on the model's scale."""
    frame = events[["task_id", "ts", "seq", "type", "agent", "state", "details"]].copy()
    frame["ts"] = naive(frame["ts"])
    frame["seq"] = pd.to_numeric(frame["seq"], errors="coerce")
    for name in ("agent", "details", "state"):
        frame[name] = frame[name].astype("string")
    with duckdb.connect() as con:
        con.register("task_events", frame)
        tasks = con.sql(_FOLD_TASKS).df()
    return tasks, set(events["state"].dropna().unique()) - set(TASK_STATUSES.values())


def task_stream(events: pd.DataFrame) -> pd.DataFrame:
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


def task_states(values: pd.Series) -> pd.Series:
    """Statuses on the model's scale; one the scale does not know is kept, lower-cased.

    A source spells a handful of statuses over millions of events: clean each spelling once.
    """
    text = values.astype("string")
    spellings = pd.Series(text.dropna().unique(), dtype="string")
    lowered = spellings.str.strip().str.lower().replace("", pd.NA)
    key = lowered.str.replace(r"[\s\-]+", "_", regex=True)
    states = key.map(TASK_STATUSES).astype("string").fillna(lowered)
    return text.map(dict(zip(spellings, states, strict=True))).astype("string")


def unknown_statuses_note(unknown: set[str]) -> list[str]:
    if not unknown:
        return []
    return [
        f"Task statuses {', '.join(sorted(unknown))} are not pending, running, blocked, completed, failed"
        " or cancelled; those tasks keep the status as recorded."
    ]


def times(values: pd.Series) -> pd.Series:
    """UTC times from ISO text or, as node-sqlite3 stores JS Dates, epoch milliseconds."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("integer", "floating", "mixed-integer-float"):
        number = pd.to_numeric(values, errors="coerce")
        unit = "ms" if number.abs().median() > 1e11 else "s"
        return pd.to_datetime(number, unit=unit, utc=True).astype(UTC)
    if pd.api.types.infer_dtype(values, skipna=True) == "empty" and not isinstance(
        values.dtype, pd.DatetimeTZDtype
    ):
        return pd.Series(pd.NaT, index=values.index, dtype=UTC)
    return to_utc(values)


def naive(values: pd.Series) -> pd.Series:
    """UTC times without the zone, the form DuckDB compares fastest and the model reads as UTC."""
    return values.dt.tz_convert("UTC").dt.tz_localize(None)
