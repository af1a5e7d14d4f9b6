"""LLM and tool calls: usage (calls, tokens, cost, failures) and exact latency percentiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from data_layer.filters import Filters
from data_layer.queries._common import (
    additive_rows,
    bucket_expr,
    conditions,
    count_if,
    dimension,
    grouped,
    log_histogram,
    percentiles,
    sum_of,
)
from data_layer.tables import MODEL

if TYPE_CHECKING:
    from data_layer.backend import Backend

LLM_DIMENSIONS = ("agent", "model", "cost_source", "status")


def llm_usage(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): calls, tokens, cost split by where it came from, errors.

    ``cost_usd`` is recorded plus estimated cost, the best figure for "what did this cost".

    ``cost_recorded_usd`` is what the source recorded; ``cost_estimated_usd`` what genai-prices
    estimates for calls without a recorded cost; ``calls_cost_unknown`` counts calls neither
    covers. Token sums are NA when no call in the group has a count.
    """
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
    rows = additive_rows(backend, calls, "llm_calls_hourly", measures, LLM_DIMENSIONS, filters)
    keys = ([bucket_expr(rows.c.ts, bucket).label("bucket")] if bucket else []) + dimension(
        rows, by, LLM_DIMENSIONS
    )
    source = rows.c.cost_source
    no_rows = sa.func.sum(rows.c.calls).is_(None)

    def total(column: sa.ColumnElement, *, integer: bool, where=None) -> sa.ColumnElement:
        """A sum that is 0 over no calls at all, and NA over calls that lack the measure."""
        zero = sa.literal(0, sa.BigInteger if integer else sa.Double)
        return sa.case((no_rows, zero), else_=sum_of(column, integer=integer, where=where))

    def count(where=None) -> sa.ColumnElement:
        return sa.func.coalesce(sum_of(rows.c.calls, integer=True, where=where), 0)

    stmt = sa.select(
        *keys,
        count().label("calls"),
        total(rows.c.tokens_in, integer=True).label("tokens_in"),
        total(rows.c.tokens_out, integer=True).label("tokens_out"),
        sa.func.coalesce(sum_of(rows.c.calls_with_tokens_in, integer=True), 0).label("calls_with_tokens_in"),
        sa.func.coalesce(sum_of(rows.c.calls_with_tokens_out, integer=True), 0).label(
            "calls_with_tokens_out"
        ),
        total(rows.c.cost_usd, integer=False).label("cost_usd"),
        total(rows.c.cost_usd, integer=False, where=source == "recorded").label("cost_recorded_usd"),
        total(rows.c.cost_usd, integer=False, where=source == "estimated").label("cost_estimated_usd"),
        count(source == "recorded").label("calls_cost_recorded"),
        count(source == "estimated").label("calls_cost_estimated"),
        count(source == "unknown").label("calls_cost_unknown"),
        count(rows.c.status == "error").label("errors"),
        count(rows.c.status.is_not(None)).label("calls_with_status"),
        (
            sum_of(rows.c.latency_ms_sum, integer=False)
            / sa.func.nullif(sum_of(rows.c.calls_with_latency, integer=True), 0)
        ).label("latency_ms_mean"),
    ).select_from(rows)
    return backend.run(grouped(stmt, keys))


def llm_latency(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): p50/p95/p99 latency in ms over the calls that have one, exact."""
    return _latency(backend, MODEL["llm_calls"], LLM_DIMENSIONS, filters, bucket, by)


def _latency(
    backend: Backend,
    table: sa.TableClause,
    dims: tuple[str, ...],
    filters: Filters,
    bucket: str | None,
    by: str | None,
) -> pd.DataFrame:
    """Exact latency percentiles over a table's raw rows (never rollups: percentiles do not add)."""
    keys = ([bucket_expr(table.c.ts, bucket).label("bucket")] if bucket else []) + dimension(table, by, dims)
    stmt = sa.select(
        *keys,
        sa.cast(sa.func.count(table.c.latency_ms), sa.BigInteger).label("calls_with_latency"),
        *percentiles(table.c.latency_ms),
    ).where(*conditions(table, filters))
    return backend.run(grouped(stmt, keys))


TOOL_DIMENSIONS = ("agent", "tool")


def tool_usage(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): tool calls, failures (success is false), calls with an outcome."""
    tools = MODEL["tool_calls"]
    measures = {
        "calls": sa.literal(1, sa.BigInteger),
        "failures": count_if(tools.c.success.is_(False)),
        "calls_with_outcome": count_if(tools.c.success.is_not(None)),
        "latency_ms_sum": tools.c.latency_ms,
        "calls_with_latency": count_if(tools.c.latency_ms.is_not(None)),
    }
    rows = additive_rows(backend, tools, "tool_calls_hourly", measures, TOOL_DIMENSIONS, filters)
    keys = ([bucket_expr(rows.c.ts, bucket).label("bucket")] if bucket else []) + dimension(
        rows, by, TOOL_DIMENSIONS
    )
    stmt = sa.select(
        *keys,
        *(
            sa.func.coalesce(sum_of(rows.c[m], integer=True), 0).label(m)
            for m in ("calls", "failures", "calls_with_outcome")
        ),
    ).select_from(rows)
    return backend.run(grouped(stmt, keys))


def tool_latency(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): exact p50/p95/p99 tool-call latency in ms."""
    return _latency(backend, MODEL["tool_calls"], TOOL_DIMENSIONS, filters, bucket, by)


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
