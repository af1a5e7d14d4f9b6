"""The Overview page's headline figures, each against the previous period of the same length."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from data_layer.filters import Filters
from data_layer.model import SEVERITIES
from data_layer.queries.llm import latency_sets, llm_usage_sets, tool_usage_sets
from data_layer.queries.security import alert_sets, only_open
from data_layer.queries.tasks import tasks_completed_sets

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


@dataclass(frozen=True)
class Overview:
    """Everything the Overview page shows, from one statement per model table (None: a table
    the source does not have, not read)."""

    kpis: pd.DataFrame  # overview_kpis, of the tables asked for
    trends: dict[str, list[float | None]]  # kpi_trends
    change: str | None  # what_changed
    usage_by_model: pd.DataFrame | None  # llm_usage(bucket=bucket, by="model", columns=USAGE)
    cost_by_source: pd.DataFrame | None  # llm_usage(bucket=bucket, by="cost_source", columns=USAGE)
    latency: pd.DataFrame | None  # llm_latency(bucket=bucket)
    tasks_by_agent: pd.DataFrame | None  # tasks_completed(bucket="day", by="agent")
    alerts_by_severity: pd.DataFrame | None  # alert_counts(bucket="day", by="severity")


def overview(
    backend: Backend, filters: Filters, *, bucket: str = "day", tables: Collection[str] | None = None
) -> Overview:
    """The Overview page's figures, each model table read once for both periods and every chart.

    ``tables`` are the model tables the source has (default: every one); the others are not
    queried and their KPIs are left out.
    """
    has = set(KPI_TABLES if tables is None else tables)
    before = filters.previous_period()
    day = "bucket" if bucket == "day" else "day"  # the daily charts share the trend's rows if they can
    periods = _Periods(backend, filters, before, bucket)
    llm_sets = [(), ("agent",), ("model",), ("bucket",), ("bucket", "model"), ("bucket", "cost_source")]
    llm = periods.read(llm_usage_sets, llm_sets, "llm_calls" in has, columns=USAGE)
    latency = periods.read(latency_sets, [(), ("bucket",)], "llm_calls" in has, table="llm_calls")
    tools = periods.read(tool_usage_sets, [(), ("bucket",)], "tool_calls" in has)
    tasks = periods.read(tasks_completed_sets, [("bucket",), (day, "agent")], "tasks" in has)
    alerts = periods.read(
        alert_sets, [("severity",), ("bucket", "severity"), (day, "severity")], "alerts" in has
    )
    figures = [_figures(p, llm, latency, tools, tasks, alerts) for p in (0, 1)]
    rows = [
        (key, label, figures[0][key], figures[1][key] if before else pd.NA, unit, rise_is_good, table)
        for key, (label, unit, rise_is_good, table) in KPIS.items()
        if table in has
    ]
    columns = ["kpi", "label", "current", "previous", "unit", "rise_is_good", "table"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["current"] = pd.to_numeric(frame["current"], errors="coerce").astype("Float64")
    frame["previous"] = pd.to_numeric(frame["previous"], errors="coerce").astype("Float64")
    open_trend = only_open(alerts[1][0]) if alerts else None
    return Overview(
        kpis=frame,
        trends=_trends(
            llm[3][0] if llm else None,
            latency[1][0] if latency else None,
            tools[1][0] if tools else None,
            tasks[0][0] if tasks else None,
            open_trend,
        ),
        change=_change(llm[1], llm[2]) if llm and before else None,
        usage_by_model=llm[4][0] if llm else None,
        cost_by_source=llm[5][0] if llm else None,
        latency=latency[1][0] if latency else None,
        tasks_by_agent=tasks[1][0].rename(columns={"day": "bucket"}) if tasks else None,
        alerts_by_severity=(
            alerts[2][0].drop(columns="open_alerts").rename(columns={"day": "bucket"}) if alerts else None
        ),
    )


KPI_TABLES = ("llm_calls", "tool_calls", "tasks", "alerts")
USAGE = ("calls", "tokens_in", "tokens_out", "cost_usd", "cost_recorded_usd", "cost_estimated_usd",
         "calls_cost_estimated")  # fmt: skip
"""The ``llm_usage`` measures the page shows: its cards, sparklines, charts and ``what_changed``."""


class _Periods:
    """Reads a table's sets for the filter and, when it is bounded, the period before it, in one
    statement; hands back per set a pair of frames (this period's, the previous one's), without
    the period key."""

    def __init__(self, backend: Backend, filters: Filters, before: Filters | None, bucket: str) -> None:
        self.backend, self.filters, self.before, self.bucket = backend, filters, before, bucket

    def read(
        self, sets_of: Callable[..., list[pd.DataFrame]], sets: list[tuple[str, ...]], wanted: bool, **kw
    ) -> list[tuple[pd.DataFrame, pd.DataFrame]] | None:
        """Per set, (this period's frame, the previous one's); None when not ``wanted``."""
        if not wanted:
            return None
        tag = ("period",) if self.before is not None else ()
        frames = sets_of(
            self.backend,
            self.filters,
            [(*tag, *s) for s in sets],
            bucket=self.bucket,
            previous=self.before,
            **kw,
        )
        if self.before is None:
            return [(f, f.iloc[0:0]) for f in frames]
        return [tuple(_period(f, p) for p in (0, 1)) for f in frames]


def _period(frame: pd.DataFrame, period: int) -> pd.DataFrame:
    """One period's rows, as a query of that period alone gives them."""
    return frame[frame["period"] == period].drop(columns="period").reset_index(drop=True)


# What a total over no rows at all reads: the figures of a period nothing happened in.
_NO_CALLS = {"calls": 0, "tokens_in": 0, "tokens_out": 0, "cost_recorded_usd": 0.0, "cost_estimated_usd": 0.0,
             "calls_cost_estimated": 0}  # fmt: skip


def _first(pair: tuple | None, period: int, default: dict) -> dict:
    """The one row of a total; ``default`` when the period had no rows to group at all."""
    if pair is None or pair[period].empty:
        return default
    return pair[period].iloc[0].to_dict()


def _figures(period: int, llm, latency, tools, tasks, alerts) -> dict[str, float | None]:
    """The KPI figures of one period (0 the filter's, 1 the one before) from the tables' sets."""
    usage = _first(llm and llm[0], period, _NO_CALLS)
    p95 = _first(latency and latency[0], period, {"p95": pd.NA})["p95"]
    tool = _first(tools and tools[0], period, {"failures": 0, "calls_with_outcome": 0})
    done = int(tasks[0][period]["completed"].sum()) if tasks else pd.NA
    by_severity = only_open(alerts[0][period]) if alerts else pd.DataFrame({"severity": [], "alerts": []})
    open_by_severity = dict(zip(by_severity["severity"], by_severity["alerts"], strict=True))
    outcome = tool["calls_with_outcome"]
    return {
        "llm_calls": usage["calls"],
        "tokens_in": usage["tokens_in"],
        "tokens_out": usage["tokens_out"],
        "cost_recorded_usd": usage["cost_recorded_usd"],
        # Nothing needed estimating is $0 of estimates, not an unknown amount.
        "cost_estimated_usd": usage["cost_estimated_usd"] if usage["calls_cost_estimated"] else 0.0,
        "latency_p95_ms": p95,
        "tool_failure_rate": (100.0 * tool["failures"] / outcome) if outcome else pd.NA,
        "tasks_completed": done,
        **{f"open_alerts_{s}": open_by_severity.get(s, 0) for s in SEVERITIES},
    }


def overview_kpis(backend: Backend, filters: Filters) -> pd.DataFrame:
    """One row per KPI: label, current value, previous-period value (NA when the period is
    unbounded), unit, whether a rise is good news, and the model table the KPI needs (a page
    shows a KPI only when the source has that table).
    """
    return overview(backend, filters).kpis


def what_changed(backend: Backend, filters: Filters) -> str | None:
    """One sentence naming the agent or model behind the biggest change against the previous
    period: in cost when the source has costs, else in LLM calls. None when there is nothing
    to compare (unbounded period, or no calls in either period).
    """
    before = filters.previous_period()
    if before is None:
        return None
    by_agent, by_model = _Periods(backend, filters, before, "day").read(
        llm_usage_sets, [("agent",), ("model",)], True, columns=USAGE
    )
    return _change(by_agent, by_model)


def _change(by_agent: tuple, by_model: tuple) -> str | None:
    """``what_changed`` from the usage by agent and by model of (this period, the one before)."""
    candidates = []
    for by, (now, then) in (("agent", by_agent), ("model", by_model)):
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
    return overview(backend, filters, bucket=bucket).trends


def _trends(usage, latency, tools, done, alerts) -> dict[str, list[float | None]]:
    """``kpi_trends`` from this period's frames per bucket (None for a table not read)."""
    present = [f["bucket"] for f in (usage, tools, done, alerts) if f is not None and not f.empty]
    buckets = pd.Index(sorted(pd.concat(present).unique())) if present else pd.Index([])
    trends: dict[str, list[float | None]] = {}

    def series(frame: pd.DataFrame, column: str, *, count: bool = False) -> list[float | None]:
        values = frame.set_index("bucket")[column].astype("Float64").reindex(buckets)
        if count:
            values = values.fillna(0)
        return [None if pd.isna(v) else float(v) for v in values]

    if usage is not None:
        usage = usage.assign(
            cost_estimated_usd=usage["cost_estimated_usd"].mask(usage["calls_cost_estimated"] == 0, 0.0)
        )
        trends["llm_calls"] = series(usage, "calls", count=True)
        for column in ("tokens_in", "tokens_out", "cost_recorded_usd", "cost_estimated_usd"):
            trends[column] = series(usage, column)
    if latency is not None:
        trends["latency_p95_ms"] = series(latency, "p95")
    if tools is not None:
        rate = 100.0 * tools["failures"] / tools["calls_with_outcome"].astype("Float64").replace(0, pd.NA)
        trends["tool_failure_rate"] = series(tools.assign(rate=rate), "rate")
    if done is not None:
        trends["tasks_completed"] = series(done, "completed", count=True)
    for severity in SEVERITIES if alerts is not None else ():
        trends[f"open_alerts_{severity}"] = series(
            alerts[alerts["severity"] == severity], "alerts", count=True
        )
    return trends
