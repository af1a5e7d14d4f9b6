"""The Overview page's headline figures, each against the previous period of the same length."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from data_layer.filters import Filters
from data_layer.model import SEVERITIES
from data_layer.queries.llm import llm_latency, llm_usage, tool_usage
from data_layer.queries.security import alert_counts, open_alerts_by_severity
from data_layer.queries.tasks import tasks_completed

if TYPE_CHECKING:
    from data_layer.backend import Backend

# kpi -> (label, unit, whether a rise is good news (None: neither), the model table it needs)
KPIS: dict[str, tuple[str, str, bool | None, str]] = {
    "llm_calls": ("LLM calls", "calls", None, "llm_calls"),
    "tokens_in": ("Tokens in", "tokens", None, "llm_calls"),
    "tokens_out": ("Tokens out", "tokens", None, "llm_calls"),
    "cost_recorded_usd": ("Cost recorded", "USD", False, "llm_calls"),
    "cost_estimated_usd": ("Cost estimated", "USD", False, "llm_calls"),
    "latency_p95_ms": ("p95 latency", "ms", False, "llm_calls"),
    "tool_failure_rate": ("Tool failure rate", "%", False, "tool_calls"),
    "tasks_completed": ("Tasks completed", "tasks", True, "tasks"),
    **{f"open_alerts_{s}": (f"Open {s} alerts", "alerts", False, "alerts") for s in SEVERITIES},
}


def _figures(backend: Backend, filters: Filters) -> dict[str, float | None]:
    usage = llm_usage(backend, filters).iloc[0]
    latency = llm_latency(backend, filters).iloc[0]
    tools = tool_usage(backend, filters).iloc[0]
    done = tasks_completed(backend, filters, bucket="day")
    still_open = open_alerts_by_severity(backend, filters)
    open_by_severity = dict(zip(still_open["severity"], still_open["alerts"], strict=True))
    outcome = tools["calls_with_outcome"]
    return {
        "llm_calls": usage["calls"],
        "tokens_in": usage["tokens_in"],
        "tokens_out": usage["tokens_out"],
        "cost_recorded_usd": usage["cost_recorded_usd"],
        # Nothing needed estimating is $0 of estimates, not an unknown amount.
        "cost_estimated_usd": usage["cost_estimated_usd"] if usage["calls_cost_estimated"] else 0.0,
        "latency_p95_ms": latency["p95"],
        "tool_failure_rate": (100.0 * tools["failures"] / outcome) if outcome else pd.NA,
        "tasks_completed": int(done["completed"].sum()),
        **{f"open_alerts_{s}": open_by_severity.get(s, 0) for s in SEVERITIES},
    }


def overview_kpis(backend: Backend, filters: Filters) -> pd.DataFrame:
    """One row per KPI: label, current value, previous-period value (NA when the period is
    unbounded), unit, whether a rise is good news, and the model table the KPI needs (a page
    shows a KPI only when the source has that table).
    """
    current = _figures(backend, filters)
    before = filters.previous_period()
    previous = _figures(backend, before) if before is not None else dict.fromkeys(current, pd.NA)
    rows = [
        (key, label, current[key], previous[key], unit, rise_is_good, table)
        for key, (label, unit, rise_is_good, table) in KPIS.items()
    ]
    columns = ["kpi", "label", "current", "previous", "unit", "rise_is_good", "table"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["current"] = pd.to_numeric(frame["current"], errors="coerce").astype("Float64")
    frame["previous"] = pd.to_numeric(frame["previous"], errors="coerce").astype("Float64")
    return frame


def what_changed(backend: Backend, filters: Filters) -> str | None:
    """One sentence naming the agent or model behind the biggest change against the previous
    period: in cost when the source has costs, else in LLM calls. None when there is nothing
    to compare (unbounded period, or no calls in either period).
    """
    before = filters.previous_period()
    if before is None:
        return None
    candidates = []
    for by in ("agent", "model"):
        now = llm_usage(backend, filters, by=by)
        then = llm_usage(backend, before, by=by)
        both = now.merge(then, on=by, how="outer", suffixes=("", "_before"))
        if both.empty:
            continue
        cost = both[["cost_recorded_usd", "cost_estimated_usd"]].sum(axis=1, min_count=1)
        cost_before = both[["cost_recorded_usd_before", "cost_estimated_usd_before"]].sum(axis=1, min_count=1)
        has_cost = cost.notna().any() or cost_before.notna().any()
        if has_cost:
            delta = cost.fillna(0) - cost_before.fillna(0)
            total, total_before = cost.sum(), cost_before.sum()
        else:
            delta = both["calls"].fillna(0) - both["calls_before"].fillna(0)
            total, total_before = both["calls"].sum(), both["calls_before"].sum()
        i = delta.abs().idxmax()
        candidates.append(
            (abs(float(delta[i])), by, str(both.loc[i, by]), float(delta[i]), has_cost, total, total_before)
        )
    if not candidates:
        return None
    _size, by, name, delta, has_cost, total, total_before = max(candidates)
    if delta == 0:
        return "No change against the previous period of the same length."
    what = "Cost" if has_cost else "LLM calls"
    change = float(total) - float(total_before)
    rel = f" ({change / float(total_before):+.0%})" if float(total_before) else ""
    fmt = (lambda v: f"{'+' if v >= 0 else '−'}${abs(v):,.2f}") if has_cost else (lambda v: f"{v:+,.0f}")
    direction = "up" if change >= 0 else "down"
    size = f"${abs(change):,.2f}" if has_cost else f"{abs(change):,.0f}"
    return (
        f"{what} {direction} {size}{rel} on the previous period of the same length; "
        f"the biggest change is {by} {name} ({fmt(delta)})."
    )


def kpi_trends(backend: Backend, filters: Filters, *, bucket: str = "day") -> dict[str, list[float | None]]:
    """Per KPI, its value per bucket over the period, oldest first (the cards' sparklines). Every
    list has one value per bucket with any activity, so the cards' sparklines line up.

    Counts (calls, tasks, alerts) read 0 in a bucket without any. A measure (tokens, cost,
    latency, failure rate) is None where nothing measured it: a bucket without calls, or whose
    calls have no token counts, is unknown, not 0 tokens; the sparkline shows a gap there.
    Estimated cost follows the card: calls of which none needed an estimate are $0 of estimates.
    """
    usage = llm_usage(backend, filters, bucket=bucket)
    latency = llm_latency(backend, filters, bucket=bucket)
    tools = tool_usage(backend, filters, bucket=bucket)
    done = tasks_completed(backend, filters, bucket=bucket)
    alerts = alert_counts(backend, filters, bucket=bucket, by="severity", open_only=True)
    present = [f["bucket"] for f in (usage, tools, done, alerts) if not f.empty]
    buckets = pd.Index(sorted(pd.concat(present).unique())) if present else pd.Index([])

    def series(frame: pd.DataFrame, column: str, *, count: bool = False) -> list[float | None]:
        values = frame.set_index("bucket")[column].astype("Float64").reindex(buckets)
        if count:
            values = values.fillna(0)
        return [None if pd.isna(v) else float(v) for v in values]

    usage = usage.assign(
        cost_estimated_usd=usage["cost_estimated_usd"].mask(usage["calls_cost_estimated"] == 0, 0.0)
    )
    tools = tools.assign(
        rate=100.0 * tools["failures"] / tools["calls_with_outcome"].astype("Float64").replace(0, pd.NA)
    )
    trends = {
        "llm_calls": series(usage, "calls", count=True),
        "tokens_in": series(usage, "tokens_in"),
        "tokens_out": series(usage, "tokens_out"),
        "cost_recorded_usd": series(usage, "cost_recorded_usd"),
        "cost_estimated_usd": series(usage, "cost_estimated_usd"),
        "latency_p95_ms": series(latency, "p95"),
        "tool_failure_rate": series(tools, "rate"),
        "tasks_completed": series(done, "completed", count=True),
    }
    for severity in SEVERITIES:
        trends[f"open_alerts_{severity}"] = series(
            alerts[alerts["severity"] == severity], "alerts", count=True
        )
    return trends
