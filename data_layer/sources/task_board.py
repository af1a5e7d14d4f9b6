"""The Agent Monitoring Dashboard's coordination file ``task-board.json``, read as tasks.

``TaskBoardCache { tasks; metrics; lastSynced; version }``: its Task fields are not documented,
so the common spellings of each are tried and the note says which ones were used.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from data_layer.errors import BadExport
from data_layer.model import Telemetry
from data_layer.report import ReadingReport
from data_layer.sources.dashboard_tasks import (
    ASSUMPTIONS,
    SYSTEM,
    TASK_STATUSES,
    task_states,
    times,
    unknown_statuses_note,
)
from data_layer.sources.database import Progress

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
    unknown = set(tasks["status"].dropna().unique()) - set(TASK_STATUSES.values())
    agents = pd.DataFrame({"agent": sorted(tasks["agent"].dropna().astype(str).unique())})
    return Telemetry(
        system=SYSTEM,
        tables={"tasks": tasks, "agents": agents},
        source_tables={"tasks": len(raw)},
        notes=[_board_note(doc, used), *unknown_statuses_note(unknown)],
        report=ReadingReport(read={"tasks": len(raw)})
        .map({name: column for column, names in used.items() for name in names})
        .assume(
            *ASSUMPTIONS,
            "A finished task without a completion time finished at its last update.",
        ),
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
    tasks["status"] = task_states(picked["status"])
    for column in ("created_at", "started_at", "completed_at", "updated_at"):
        tasks[column] = times(picked[column])
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
