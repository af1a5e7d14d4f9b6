"""The one-object summary of a loaded source that ``python -m data_layer summarize`` prints.

Every key is always present. A section is null when the source has no such data at all (Sentinel
records no LLM calls), and a figure is null when the source has the data but not that measure
(cylestio-monitor records calls without tokens or cost). Zero means zero.

``read`` is the load's reading report (``data_layer.report``): records read, records left out by
reason, and the assumptions made, so a figure can be traced to what was and was not read.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from data_layer import model, queries
from data_layer.filters import ALL
from data_layer.model import SEVERITIES
from data_layer.store import Store

_MEASURES = {
    "llm_calls": ("model", "tokens_in", "tokens_out", "cost_usd", "cost_source", "latency_ms", "status"),
    "tool_calls": ("tool", "success", "latency_ms"),
    "tasks": ("status",),
    "alerts": ("severity",),
    "metrics": ("name", "value", "unit"),
}
COLUMNS: dict[str, frozenset[str]] = {
    name: frozenset(
        [c.name for c in cols if (c.kind == "time" and name != "agents") or c.name == "agent"]
        + list(_MEASURES.get(name, ()))
    )
    for name, cols in model.TABLES.items()
}
"""The model columns ``summarize`` reads: every time (the time span), every agent (a source
without an agent table lists the agents its rows name) and the measures above. A store of
these alone (``sources.open_lean``) gives the same summary as the whole load."""


def summarize(store: Store) -> dict[str, Any]:
    provided = store.info.provided
    start, end = store.time_span()
    return {
        "schema": store.info.system,
        "agents": int(store.row_counts()["agents"]),
        "events": store.info.source_events,
        "time_range": {"start": _iso(start), "end": _iso(end)},
        "llm": _llm(store) if "llm_calls" in provided else None,
        "tools": _tools(store) if "tool_calls" in provided else None,
        "tasks": _tasks(store) if "tasks" in provided else None,
        "alerts": _alerts(store) if "alerts" in provided else None,
        "flagged_events": (
            int(queries.flagged_event_counts(store, ALL)["events"].sum())
            if "flagged_events" in provided
            else None
        ),
        "metrics": _metrics(store) if "metrics" in provided else None,
        "read": store.info.report.summary(),
    }


def _llm(store: Store) -> dict[str, Any]:
    usage = queries.llm_usage(store, ALL).iloc[0]
    latency = queries.llm_latency(store, ALL).iloc[0]
    # No call, no recorded tokens or cost: missing, not 0 (a log of other events says nothing of
    # them); but no call has failed.
    calls = _int(usage["calls"])
    none = calls == 0
    return {
        "calls": calls,
        "failures": _int(usage["errors"]) if usage["calls_with_status"] or none else None,
        "tokens_in": None if none else _int(usage["tokens_in"]),
        "tokens_out": None if none else _int(usage["tokens_out"]),
        "cost_usd": None if none else _usd(usage["cost_recorded_usd"]),
        "calls_without_cost": _int(usage["calls"] - usage["calls_cost_recorded"]),
        "cost_usd_estimated": None if none else _usd(usage["cost_estimated_usd"]),
        "latency_ms": {name: _float(latency[name]) for name in queries.PERCENTILES},
    }


def _tools(store: Store) -> dict[str, Any]:
    usage = queries.tool_usage(store, ALL).iloc[0]
    return {"calls": _int(usage["calls"]), "failures": _int(usage["failures"])}


def _tasks(store: Store) -> dict[str, Any]:
    statuses = queries.task_statuses(store, ALL)
    by_status = statuses.groupby("status")["tasks"].sum()
    per_day = queries.tasks_completed(store, ALL, bucket="day")
    return {
        "completed": int(by_status.get("completed", 0)),
        "failed": int(by_status.get("failed", 0)),
        "completed_per_day": {
            row.bucket.strftime("%Y-%m-%d"): int(row.completed) for row in per_day.itertuples()
        },
    }


def _alerts(store: Store) -> dict[str, Any]:
    counts = queries.alert_counts(store, ALL, by="severity")
    by_severity = dict(zip(counts["severity"], counts["alerts"], strict=True))
    return {
        "total": int(counts["alerts"].sum()),
        "by_severity": {s: int(by_severity.get(s, 0)) for s in SEVERITIES},
    }


def _metrics(store: Store) -> dict[str, Any]:
    stats = queries.metric_stats(store, ALL)
    return {
        row.name: {
            "points": int(row.points),
            "mean": _float(row.mean),
            **{p: _float(getattr(row, p)) for p in queries.PERCENTILES},
        }
        for row in stats.itertuples()
    }


def _iso(t: Any) -> str | None:
    return None if t is None else pd.Timestamp(t).isoformat()


def _int(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def _usd(value: Any) -> float | None:
    """Dollars to 1e-10: far below a cent, and free of the float noise of summing millions."""
    return None if pd.isna(value) else round(float(value), 10)


def _float(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)
