"""LLM and tool calls: usage (calls, tokens, cost, failures) and exact latency percentiles."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from data_layer.filters import Filters
from data_layer.queries._common import (
    additive_rows,
    bucket_expr,
    conditions,
    count_if,
    log_histogram,
    percentiles,
    raw_rows,
    run_sets,
    sum_of,
    tagged,
)
from data_layer.tables import MODEL

if TYPE_CHECKING:
    from data_layer.backend import Backend

LLM_DIMENSIONS = ("agent", "model", "cost_source", "status")


def llm_usage(
    backend: Backend,
    filters: Filters,
    *,
    bucket: str | None = None,
    by: str | None = None,
    columns: Collection[str] | None = None,
) -> pd.DataFrame:
    """One row per (bucket, by): calls, tokens, cost split by where it came from, errors.

    ``cost_usd`` is recorded plus estimated cost, the best figure for "what did this cost".

    ``cost_recorded_usd`` is what the source recorded; ``cost_estimated_usd`` what genai-prices
    estimates for calls without a recorded cost; ``calls_cost_unknown`` counts calls neither
    covers. Token sums are NA when no call in the group has a count.

    ``columns``: only these of ``USAGE_COLUMNS`` (default every one), for a figure that draws a few.
    """
    sets = [_one_set(bucket, by, LLM_DIMENSIONS)]
    return llm_usage_sets(backend, filters, sets, bucket=bucket or "day", columns=columns)[0]


def _one_set(bucket: str | None, by: str | None, dims: tuple[str, ...]) -> tuple[str, ...]:
    """The grouping keys of one (bucket, by) query, ``by`` checked against the table's dims."""
    if by is not None and by not in dims:
        raise ValueError(f"cannot group by {by!r}; choose one of {dims}")
    return tuple(k for k, on in (("bucket", bucket), (by, by)) if on)


def _keys(rows: sa.FromClause, bucket: str, dims: tuple[str, ...], time: str = "ts") -> dict:
    """Every grouping key a query of these rows offers: period (when present), bucket, dims."""
    keys = {"period": rows.c.period} if "period" in rows.c else {}
    return {**keys, "bucket": bucket_expr(rows.c[time], bucket), **{d: rows.c[d] for d in dims}}


def _grain(bucket: str, sets: list[tuple[str, ...]]) -> str:
    """The finest rollup the sets can read (``additive_rows``): hours only when one is bucketed
    by hour; by day, by week or not by time at all, whole days come from the daily rollup."""
    return "hour" if bucket == "hour" and any("bucket" in s for s in sets) else "day"


def llm_usage_sets(
    backend: Backend,
    filters: Filters,
    sets: list[tuple[str, ...]],
    *,
    bucket: str = "day",
    previous: Filters | None = None,
    columns: Collection[str] | None = None,
) -> list[pd.DataFrame]:
    """``llm_usage`` for several groupings at once, one statement: one frame per set of keys
    (``bucket`` and ``LLM_DIMENSIONS``; ``period`` too with ``previous``, the period before the
    filter's, 0 for the filter's own rows, 1 for the previous period's). A period without calls
    has no row in a set keyed by ``period`` alone, where ``llm_usage`` totals one row of 0.

    ``columns`` (default ``USAGE_COLUMNS``) are the measures computed: each aggregate costs
    planning and running time whether a page draws it or not (the Velocity page's one column of
    fifteen: 9.8 -> 3.5 ms of CPU at 100k calls)."""
    calls = MODEL["llm_calls"]
    measures = {
        "calls": sa.literal(1, sa.BigInteger),
        "tokens_in": calls.c.tokens_in,
        "calls_with_tokens_in": count_if(calls.c.tokens_in.is_not(None)),
        "tokens_out": calls.c.tokens_out,
        "calls_with_tokens_out": count_if(calls.c.tokens_out.is_not(None)),
        "cost_usd": calls.c.cost_usd,
        "calls_with_cost": count_if(calls.c.cost_usd.is_not(None)),
        "latency_ms_sum": calls.c.latency_ms,
        "calls_with_latency": count_if(calls.c.latency_ms.is_not(None)),
    }
    periods = [filters] if previous is None else [filters, previous]
    grain = _grain(bucket, sets)
    parts = [additive_rows(backend, calls, measures, LLM_DIMENSIONS, p, grain=grain) for p in periods]
    rows = parts[0] if previous is None else tagged(parts)
    source = rows.c.cost_source
    no_rows = sa.func.sum(rows.c.calls).is_(None)

    def total(column: sa.ColumnElement, *, integer: bool, where=None) -> sa.ColumnElement:
        """A sum that is 0 over no calls at all, and NA over calls that lack the measure."""
        zero = sa.literal(0, sa.BigInteger if integer else sa.Double)
        return sa.case((no_rows, zero), else_=sum_of(column, integer=integer, where=where))

    def count(where=None) -> sa.ColumnElement:
        return sa.func.coalesce(sum_of(rows.c.calls, integer=True, where=where), 0)

    aggregates = {
        "calls": count(),
        "tokens_in": total(rows.c.tokens_in, integer=True),
        "tokens_out": total(rows.c.tokens_out, integer=True),
        "calls_with_tokens_in": sa.func.coalesce(sum_of(rows.c.calls_with_tokens_in, integer=True), 0),
        "calls_with_tokens_out": sa.func.coalesce(sum_of(rows.c.calls_with_tokens_out, integer=True), 0),
        "cost_usd": total(rows.c.cost_usd, integer=False),
        "cost_recorded_usd": total(rows.c.cost_usd, integer=False, where=source == "recorded"),
        "cost_estimated_usd": total(rows.c.cost_usd, integer=False, where=source == "estimated"),
        "calls_cost_recorded": count(source == "recorded"),
        "calls_cost_estimated": count(source == "estimated"),
        "calls_cost_unknown": count(source == "unknown"),
        "errors": count(rows.c.status == "error"),
        "calls_with_status": count(rows.c.status.is_not(None)),
        "latency_ms_mean": (
            sum_of(rows.c.latency_ms_sum, integer=False)
            / sa.func.nullif(sum_of(rows.c.calls_with_latency, integer=True), 0)
        ),
    }
    chosen = [aggregates[c].label(c) for c in _columns(columns, USAGE_COLUMNS)]
    return run_sets(backend, _keys(rows, bucket, LLM_DIMENSIONS), chosen, sets, source=rows)


USAGE_COLUMNS = (
    "calls", "tokens_in", "tokens_out", "calls_with_tokens_in", "calls_with_tokens_out", "cost_usd",
    "cost_recorded_usd", "cost_estimated_usd", "calls_cost_recorded", "calls_cost_estimated",
    "calls_cost_unknown", "errors", "calls_with_status", "latency_ms_mean",
)  # fmt: skip
"""The measures of ``llm_usage``, in the order of its frame."""


def _columns(asked: Collection[str] | None, offered: tuple[str, ...]) -> list[str]:
    """The measures asked for, in the frame's order; every one when none are named."""
    if asked is None:
        return list(offered)
    unknown = set(asked) - set(offered)
    if unknown:
        raise ValueError(f"no such measure {sorted(unknown)}; choose from {offered}")
    return [c for c in offered if c in asked]


def llm_latency(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): p50/p95/p99 latency in ms over the calls that have one, exact."""
    sets = [_one_set(bucket, by, LLM_DIMENSIONS)]
    return latency_sets(backend, filters, sets, table="llm_calls", bucket=bucket or "day")[0]


def latency_sets(
    backend: Backend,
    filters: Filters,
    sets: list[tuple[str, ...]],
    *,
    table: str = "llm_calls",
    bucket: str = "day",
    previous: Filters | None = None,
) -> list[pd.DataFrame]:
    """Exact latency percentiles of ``llm_calls`` or ``tool_calls`` for several groupings in one
    statement (as ``llm_usage_sets``), over raw rows: percentiles do not add, so never rollups."""
    source, where = raw_rows(MODEL[table], filters, previous)
    measures = [
        sa.cast(sa.func.count(source.c.latency_ms), sa.BigInteger).label("calls_with_latency"),
        *percentiles(source.c.latency_ms),
    ]
    dims = LLM_DIMENSIONS if table == "llm_calls" else TOOL_DIMENSIONS
    return run_sets(backend, _keys(source, bucket, dims), measures, sets, source=source, where=where)


TOOL_DIMENSIONS = ("agent", "tool")


def tool_usage(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): tool calls, failures (success is false), calls with an outcome."""
    return tool_usage_sets(backend, filters, [_one_set(bucket, by, TOOL_DIMENSIONS)], bucket=bucket or "day")[
        0
    ]


def tool_usage_sets(
    backend: Backend,
    filters: Filters,
    sets: list[tuple[str, ...]],
    *,
    bucket: str = "day",
    previous: Filters | None = None,
) -> list[pd.DataFrame]:
    """``tool_usage`` for several groupings at once, one statement (as ``llm_usage_sets``)."""
    tools = MODEL["tool_calls"]
    measures = {
        "calls": sa.literal(1, sa.BigInteger),
        "failures": count_if(tools.c.success.is_(False)),
        "calls_with_outcome": count_if(tools.c.success.is_not(None)),
        "latency_ms_sum": tools.c.latency_ms,
        "calls_with_latency": count_if(tools.c.latency_ms.is_not(None)),
    }
    periods = [filters] if previous is None else [filters, previous]
    grain = _grain(bucket, sets)
    parts = [additive_rows(backend, tools, measures, TOOL_DIMENSIONS, p, grain=grain) for p in periods]
    rows = parts[0] if previous is None else tagged(parts)
    aggregates = [
        sa.func.coalesce(sum_of(rows.c[m], integer=True), 0).label(m)
        for m in ("calls", "failures", "calls_with_outcome")
    ]
    return run_sets(backend, _keys(rows, bucket, TOOL_DIMENSIONS), aggregates, sets, source=rows)


def tool_latency(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): exact p50/p95/p99 tool-call latency in ms."""
    sets = [_one_set(bucket, by, TOOL_DIMENSIONS)]
    return latency_sets(backend, filters, sets, table="tool_calls", bucket=bucket or "day")[0]


LLM_MEASURES = ("latency_ms", "tokens_in", "tokens_out")


def llm_histogram(
    backend: Backend, filters: Filters, *, measure: str = "latency_ms", bins_per_decade: int = 8
) -> pd.DataFrame:
    """One row per logarithmic bin of a per-call measure: bin_start, bin_end, count of calls."""
    if measure not in LLM_MEASURES:
        raise ValueError(f"measure must be one of {LLM_MEASURES}")
    calls = MODEL["llm_calls"]
    return backend.run(
        log_histogram(
            calls.c[measure],
            where=conditions(calls, filters),
            bins_per_decade=bins_per_decade,
            source=calls,
        )
    )


def cost_per_completed_task(backend: Backend, filters: Filters) -> pd.DataFrame:
    """One row per agent: LLM cost (recorded + estimated), tasks completed, and cost per task.

    Both sides use the same filter period: calls made and tasks completed in it. An agent with
    cost but no completed task has NA cost per task, not infinity.
    """
    calls, tasks = MODEL["llm_calls"], MODEL["tasks"]
    cost = (
        sa.select(calls.c.agent, sa.cast(sa.func.sum(calls.c.cost_usd), sa.Double).label("cost_usd"))
        .where(*conditions(calls, filters))
        .group_by(calls.c.agent)
        .subquery()
    )
    done = (
        sa.select(tasks.c.agent, sa.cast(sa.func.count(), sa.BigInteger).label("tasks_completed"))
        .where(tasks.c.status == "completed", *conditions(tasks, filters, time="completed_at"))
        .group_by(tasks.c.agent)
        .subquery()
    )
    agent = sa.func.coalesce(cost.c.agent, done.c.agent)
    stmt = sa.select(
        agent.label("agent"),
        cost.c.cost_usd,
        sa.func.coalesce(done.c.tasks_completed, 0).label("tasks_completed"),
        (cost.c.cost_usd / sa.func.nullif(done.c.tasks_completed, 0)).label("cost_per_task_usd"),
    ).select_from(cost.join(done, cost.c.agent == done.c.agent, full=True))
    return backend.run(stmt.where(agent.is_not(None)).order_by(agent))
