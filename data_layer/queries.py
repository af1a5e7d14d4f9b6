"""Query functions: a filter in, a small aggregated frame out, computed by the database.

Every function takes a *backend* (a ``Store`` holding the loaded model in DuckDB, or a pushdown
connection to a PostgreSQL source) and a ``Filters``. Statements are SQLAlchemy Core over the
model tables in ``data_layer.tables``; the backend compiles and runs them and returns pandas
frames whose times are UTC-aware and whose counts are integers.

Additive measures (calls, tokens, cost, failures) read the hourly rollups for whole hours and the
raw rows only for the partial hours at the edges of the time range, so a result is exact while
scanning a small fraction of the rows. Percentiles always read raw rows (``percentile_cont``,
linear interpolation, as DuckDB's ``quantile_cont``), so they are exact too.

Missing stays missing: a sum over rows that have no value is NULL (NA), never 0, and each
measure comes with a ``calls_with_*`` count saying how many rows it covers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pandas as pd
import sqlalchemy as sa

from data_layer.filters import Filters
from data_layer.tables import MODEL, ROLLUPS

BUCKETS = ("hour", "day", "week")


class Backend(Protocol):
    has_rollups: bool

    def run(self, stmt: sa.Executable) -> pd.DataFrame: ...


# --- filters ---------------------------------------------------------------------------------

# Filter field -> (column, the only tables it applies to; None for every table with the column).
_FILTER_COLUMNS: dict[str, tuple[str, frozenset[str] | None]] = {
    "agents": ("agent", None),
    "models": ("model", None),
    "sessions": ("session", None),
    "tools": ("tool", None),
    "severities": ("severity", frozenset({"alerts"})),
    "event_types": ("type", frozenset({"events"})),
}


def _applies(field: str, table: sa.TableClause) -> bool:
    column, only = _FILTER_COLUMNS[field]
    base = table.name.removesuffix("_hourly")
    return column in table.c and (only is None or base in only)


def _conditions(
    table: sa.TableClause, filters: Filters, time: str | None = "ts", skip: tuple[str, ...] = ()
) -> list[sa.ColumnElement[bool]]:
    """WHERE terms for every filter field whose column this table has."""
    terms: list[sa.ColumnElement[bool]] = []
    for field, (column, _only) in _FILTER_COLUMNS.items():
        values = getattr(filters, field)
        if values and field not in skip and _applies(field, table):
            terms.append(table.c[column].in_(values))
    if time is not None:
        start, end = filters.naive_bounds()
        if start is not None:
            terms.append(table.c[time] >= start)
        if end is not None:
            terms.append(table.c[time] < end)
    return terms


def _bucket(column: sa.ColumnElement, bucket: str) -> sa.ColumnElement:
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}, got {bucket!r}")
    return sa.func.date_trunc(sa.literal_column(f"'{bucket}'"), column, type_=sa.DateTime)


def _dimension(table: sa.TableClause | sa.Subquery, by: str | None, allowed: tuple[str, ...]) -> list:
    if by is None:
        return []
    if by not in allowed:
        raise ValueError(f"cannot group by {by!r}; choose one of {allowed}")
    return [table.c[by]]


# --- rollups ---------------------------------------------------------------------------------


def _hour_floor(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _hour_ceil(t: datetime) -> datetime:
    floor = _hour_floor(t)
    return floor if floor == t else floor + timedelta(hours=1)


def _additive_rows(
    backend: Backend,
    raw: sa.TableClause,
    rollup_name: str,
    measures: dict[str, sa.ColumnElement],
    dims: tuple[str, ...],
    filters: Filters,
) -> sa.Subquery:
    """Rows shaped like the rollup (ts, dims..., measures...) covering exactly the filtered range.

    Whole hours come from the rollup; the partial hours at either edge, and everything when a
    filter names a column the rollup does not keep (sessions), come from the raw rows.
    """
    raw_cols = [raw.c.ts.label("ts"), *(raw.c[d].label(d) for d in dims)]
    raw_cols += [expr.label(name) for name, expr in measures.items()]
    rollup = ROLLUPS[rollup_name]
    uses_rollup = backend.has_rollups and not any(
        getattr(filters, field) and _applies(field, raw) and not _applies(field, rollup)
        for field in _FILTER_COLUMNS
    )
    if not uses_rollup:
        return sa.select(*raw_cols).where(*_conditions(raw, filters)).subquery()

    start, end = filters.naive_bounds()
    first = None if start is None else _hour_ceil(start)
    last = None if end is None else _hour_floor(end)
    if first is not None and last is not None and first >= last:  # inside one hour: raw only
        return sa.select(*raw_cols).where(*_conditions(raw, filters)).subquery()

    whole = sa.select(
        rollup.c.hour.label("ts"),
        *(rollup.c[d].label(d) for d in dims),
        *(rollup.c[name].label(name) for name in measures),
    ).where(*_conditions(rollup, filters, time=None))
    if first is not None:
        whole = whole.where(rollup.c.hour >= first)
    if last is not None:
        whole = whole.where(rollup.c.hour < last)
    parts = [whole]
    if start is not None and start < first:
        edge = Filters(start=filters.start, end=_aware(first))
        parts.append(sa.select(*raw_cols).where(*_conditions(raw, _narrow(filters, edge))))
    if end is not None and last < end:
        edge = Filters(start=_aware(last), end=filters.end)
        parts.append(sa.select(*raw_cols).where(*_conditions(raw, _narrow(filters, edge))))
    return sa.union_all(*parts).subquery() if len(parts) > 1 else whole.subquery()


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC)


def _narrow(filters: Filters, period: Filters) -> Filters:
    return replace(filters, start=period.start, end=period.end)


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement:
    return sa.case((condition, 1), else_=0)


def _sum(
    column: sa.ColumnElement, *, integer: bool, where: sa.ColumnElement[bool] | None = None
) -> sa.ColumnElement:
    total = sa.func.sum(column)
    if where is not None:
        total = total.filter(where)
    return sa.cast(total, sa.BigInteger if integer else sa.Double)


def _group(stmt: sa.Select, keys: list) -> sa.Select:
    return stmt.group_by(*keys).order_by(*keys) if keys else stmt


# --- LLM calls -------------------------------------------------------------------------------

LLM_DIMENSIONS = ("agent", "model", "cost_source", "status")


def llm_usage(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): calls, tokens, cost split by where it came from, errors.

    ``cost_recorded_usd`` is what the source recorded; ``cost_estimated_usd`` what genai-prices
    estimates for calls without a recorded cost; ``calls_cost_unknown`` counts calls neither
    covers. Token sums are NA when no call in the group has a count.
    """
    calls = MODEL["llm_calls"]
    measures = {
        "calls": sa.literal(1, sa.BigInteger),
        "tokens_in": calls.c.tokens_in,
        "calls_with_tokens_in": _count_if(calls.c.tokens_in.is_not(None)),
        "tokens_out": calls.c.tokens_out,
        "calls_with_tokens_out": _count_if(calls.c.tokens_out.is_not(None)),
        "cost_usd": calls.c.cost_usd,
        "calls_with_cost": _count_if(calls.c.cost_usd.is_not(None)),
        "latency_ms_sum": calls.c.latency_ms,
        "calls_with_latency": _count_if(calls.c.latency_ms.is_not(None)),
    }
    rows = _additive_rows(backend, calls, "llm_calls_hourly", measures, LLM_DIMENSIONS, filters)
    keys = ([_bucket(rows.c.ts, bucket).label("bucket")] if bucket else []) + _dimension(
        rows, by, LLM_DIMENSIONS
    )
    source = rows.c.cost_source
    stmt = sa.select(
        *keys,
        sa.func.coalesce(_sum(rows.c.calls, integer=True), 0).label("calls"),
        _sum(rows.c.tokens_in, integer=True).label("tokens_in"),
        _sum(rows.c.tokens_out, integer=True).label("tokens_out"),
        sa.func.coalesce(_sum(rows.c.calls_with_tokens_in, integer=True), 0).label("calls_with_tokens_in"),
        sa.func.coalesce(_sum(rows.c.calls_with_tokens_out, integer=True), 0).label("calls_with_tokens_out"),
        _sum(rows.c.cost_usd, integer=False, where=source == "recorded").label("cost_recorded_usd"),
        _sum(rows.c.cost_usd, integer=False, where=source == "estimated").label("cost_estimated_usd"),
        sa.func.coalesce(_sum(rows.c.calls, integer=True, where=source == "recorded"), 0).label(
            "calls_cost_recorded"
        ),
        sa.func.coalesce(_sum(rows.c.calls, integer=True, where=source == "estimated"), 0).label(
            "calls_cost_estimated"
        ),
        sa.func.coalesce(_sum(rows.c.calls, integer=True, where=source == "unknown"), 0).label(
            "calls_cost_unknown"
        ),
        sa.func.coalesce(_sum(rows.c.calls, integer=True, where=rows.c.status == "error"), 0).label("errors"),
        (
            _sum(rows.c.latency_ms_sum, integer=False)
            / sa.func.nullif(_sum(rows.c.calls_with_latency, integer=True), 0)
        ).label("latency_ms_mean"),
    ).select_from(rows)
    return backend.run(_group(stmt, keys))


PERCENTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


def _percentiles(column: sa.ColumnElement) -> list:
    return [
        sa.func.percentile_cont(sa.literal(q, literal_execute=True)).within_group(column).label(name)
        for name, q in PERCENTILES.items()
    ]


def llm_latency(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): p50/p95/p99 latency in ms over the calls that have one, exact."""
    calls = MODEL["llm_calls"]
    keys = ([_bucket(calls.c.ts, bucket).label("bucket")] if bucket else []) + _dimension(
        calls, by, LLM_DIMENSIONS
    )
    stmt = sa.select(
        *keys,
        sa.cast(sa.func.count(calls.c.latency_ms), sa.BigInteger).label("calls_with_latency"),
        *_percentiles(calls.c.latency_ms),
    ).where(*_conditions(calls, filters))
    return backend.run(_group(stmt, keys))


# --- tool calls ------------------------------------------------------------------------------

TOOL_DIMENSIONS = ("agent", "tool")


def tool_usage(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): tool calls, failures (success is false), calls with an outcome."""
    tools = MODEL["tool_calls"]
    measures = {
        "calls": sa.literal(1, sa.BigInteger),
        "failures": _count_if(tools.c.success.is_(False)),
        "calls_with_outcome": _count_if(tools.c.success.is_not(None)),
        "latency_ms_sum": tools.c.latency_ms,
        "calls_with_latency": _count_if(tools.c.latency_ms.is_not(None)),
    }
    rows = _additive_rows(backend, tools, "tool_calls_hourly", measures, TOOL_DIMENSIONS, filters)
    keys = ([_bucket(rows.c.ts, bucket).label("bucket")] if bucket else []) + _dimension(
        rows, by, TOOL_DIMENSIONS
    )
    stmt = sa.select(
        *keys,
        *(
            sa.func.coalesce(_sum(rows.c[m], integer=True), 0).label(m)
            for m in ("calls", "failures", "calls_with_outcome")
        ),
    ).select_from(rows)
    return backend.run(_group(stmt, keys))


def tool_latency(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): exact p50/p95/p99 tool-call latency in ms."""
    tools = MODEL["tool_calls"]
    keys = ([_bucket(tools.c.ts, bucket).label("bucket")] if bucket else []) + _dimension(
        tools, by, TOOL_DIMENSIONS
    )
    stmt = sa.select(
        *keys,
        sa.cast(sa.func.count(tools.c.latency_ms), sa.BigInteger).label("calls_with_latency"),
        *_percentiles(tools.c.latency_ms),
    ).where(*_conditions(tools, filters))
    return backend.run(_group(stmt, keys))


# --- tasks -----------------------------------------------------------------------------------


def tasks_completed(
    backend: Backend, filters: Filters, *, bucket: str = "day", by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by) with a completion: tasks whose status is completed, by completed_at."""
    tasks = MODEL["tasks"]
    keys = [_bucket(tasks.c.completed_at, bucket).label("bucket"), *_dimension(tasks, by, ("agent", "type"))]
    stmt = (
        sa.select(*keys, sa.cast(sa.func.count(), sa.BigInteger).label("completed"))
        .select_from(tasks)
        .where(
            tasks.c.status == "completed",
            tasks.c.completed_at.is_not(None),
            *_conditions(tasks, filters, time="completed_at"),
        )
    )
    return backend.run(_group(stmt, keys))


def task_statuses(backend: Backend, filters: Filters, *, by: str | None = None) -> pd.DataFrame:
    """One row per (by, status): tasks first seen in the period, and how many of them started.

    A task is "in the period" by its creation time, or its start or finish when the source did
    not record a creation time.
    """
    tasks = MODEL["tasks"]
    seen = sa.func.coalesce(tasks.c.created_at, tasks.c.started_at, tasks.c.completed_at)
    keys = [*_dimension(tasks, by, ("agent", "type")), tasks.c.status]
    stmt = (
        sa.select(
            *keys,
            sa.cast(sa.func.count(), sa.BigInteger).label("tasks"),
            sa.cast(sa.func.count(tasks.c.started_at), sa.BigInteger).label("started"),
        )
        .select_from(tasks)
        .where(*_conditions(tasks, filters, time=None), *_time_terms(seen, filters))
    )
    return backend.run(_group(stmt, keys))


def _time_terms(column: sa.ColumnElement, filters: Filters) -> list:
    start, end = filters.naive_bounds()
    return [t for t in (column >= start if start else None, column < end if end else None) if t is not None]


def cycle_times(backend: Backend, filters: Filters, *, by: str | None = None) -> pd.DataFrame:
    """One row per (by): completed tasks with a start, and p50/p95/p99 cycle time in hours.

    Cycle time runs from started_at (else created_at) to completed_at.
    """
    tasks = MODEL["tasks"]
    begin = sa.func.coalesce(tasks.c.started_at, tasks.c.created_at)
    hours = sa.func.extract(sa.literal_column("'epoch'"), tasks.c.completed_at - begin) / 3600.0
    keys = _dimension(tasks, by, ("agent", "type"))
    stmt = (
        sa.select(
            *keys,
            sa.cast(sa.func.count(), sa.BigInteger).label("tasks"),
            *_percentiles(hours),
        )
        .select_from(tasks)
        .where(
            tasks.c.status == "completed",
            begin.is_not(None),
            *_conditions(tasks, filters, time="completed_at"),
        )
    )
    return backend.run(_group(stmt, keys))


# --- alerts and flagged events ---------------------------------------------------------------

ALERT_DIMENSIONS = ("severity", "type", "status", "agent", "source")


def alert_counts(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = "severity"
) -> pd.DataFrame:
    """One row per (bucket, by): alerts raised."""
    alerts = MODEL["alerts"]
    keys = ([_bucket(alerts.c.ts, bucket).label("bucket")] if bucket else []) + _dimension(
        alerts, by, ALERT_DIMENSIONS
    )
    stmt = (
        sa.select(*keys, sa.cast(sa.func.count(), sa.BigInteger).label("alerts"))
        .select_from(alerts)
        .where(*_conditions(alerts, filters))
    )
    return backend.run(_group(stmt, keys))


def flagged_event_counts(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): events the source flagged suspicious or dangerous (not alerts)."""
    flagged = MODEL["flagged_events"]
    keys = ([_bucket(flagged.c.ts, bucket).label("bucket")] if bucket else []) + _dimension(
        flagged, by, ("level", "agent")
    )
    stmt = (
        sa.select(*keys, sa.cast(sa.func.count(), sa.BigInteger).label("events"))
        .select_from(flagged)
        .where(*_conditions(flagged, filters))
    )
    return backend.run(_group(stmt, keys))


# --- metrics and events ----------------------------------------------------------------------


def metric_series(
    backend: Backend,
    filters: Filters,
    *,
    bucket: str = "hour",
    names: tuple[str, ...] = (),
    by_agent: bool = False,
) -> pd.DataFrame:
    """One row per (bucket, name[, agent]): mean, min, max and total of the samples, and their number.

    ``total`` is the right reading for count-like series (commits, lines added); ``mean`` for
    gauges (CPU, memory).
    """
    metrics = MODEL["metrics"]
    keys = [_bucket(metrics.c.ts, bucket).label("bucket"), metrics.c.name]
    if by_agent:
        keys.append(metrics.c.agent)
    stmt = sa.select(
        *keys,
        sa.func.min(metrics.c.unit).label("unit"),
        sa.cast(sa.func.count(metrics.c.value), sa.BigInteger).label("points"),
        sa.func.avg(metrics.c.value).label("mean"),
        sa.func.min(metrics.c.value).label("min"),
        sa.func.max(metrics.c.value).label("max"),
        sa.cast(sa.func.sum(metrics.c.value), sa.Double).label("total"),
    ).where(*_conditions(metrics, filters))
    if names:
        stmt = stmt.where(metrics.c.name.in_(names))
    return backend.run(_group(stmt, keys))


def metric_stats(backend: Backend, filters: Filters) -> pd.DataFrame:
    """One row per series name: points, mean and exact p50/p95/p99 of its samples."""
    metrics = MODEL["metrics"]
    stmt = sa.select(
        metrics.c.name,
        sa.func.min(metrics.c.unit).label("unit"),
        sa.cast(sa.func.count(metrics.c.value), sa.BigInteger).label("points"),
        sa.func.avg(metrics.c.value).label("mean"),
        *_percentiles(metrics.c.value),
    ).where(*_conditions(metrics, filters), metrics.c.value.is_not(None))
    return backend.run(_group(stmt, [metrics.c.name]))


def event_counts(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = "type"
) -> pd.DataFrame:
    """One row per (bucket, by): events of the source's event stream."""
    events = MODEL["events"]
    keys = ([_bucket(events.c.ts, bucket).label("bucket")] if bucket else []) + _dimension(
        events, by, ("type", "channel", "level", "agent")
    )
    stmt = (
        sa.select(*keys, sa.cast(sa.func.count(), sa.BigInteger).label("events"))
        .select_from(events)
        .where(*_conditions(events, filters))
    )
    return backend.run(_group(stmt, keys))


def thresholds(backend: Backend, filters: Filters) -> pd.DataFrame:
    """The source's configured alert thresholds that apply to the filtered agents."""
    table = MODEL["thresholds"]
    stmt = sa.select(table.c.agent, table.c.metric, table.c.level, table.c.value)
    if filters.agents:
        stmt = stmt.where(sa.or_(table.c.agent.is_(None), table.c.agent.in_(filters.agents)))
    return backend.run(stmt.order_by(table.c.metric, table.c.level, table.c.agent))
