"""Metric series, the source event stream, and configured alert thresholds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from data_layer.filters import Filters
from data_layer.frames import no_rows
from data_layer.queries._common import (
    bucket_expr,
    conditions,
    dimension,
    grouped,
    percentiles,
)
from data_layer.tables import MODEL

if TYPE_CHECKING:
    from data_layer.backend import Backend


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
    keys = [bucket_expr(metrics.c.ts, bucket).label("bucket"), metrics.c.name]
    if by_agent:
        keys.append(metrics.c.agent)
    stmt = sa.select(
        *keys,
        sa.func.min(metrics.c.unit).label("unit"),
        sa.cast(sa.func.count(metrics.c.value), sa.BigInteger).label("points"),
        sa.cast(sa.func.avg(metrics.c.value), sa.Double).label("mean"),
        sa.func.min(metrics.c.value).label("min"),
        sa.func.max(metrics.c.value).label("max"),
        sa.cast(sa.func.sum(metrics.c.value), sa.Double).label("total"),
    ).where(*conditions(metrics, filters))
    if names:
        stmt = stmt.where(metrics.c.name.in_(names))
        if not set(names) & backend.metric_names():  # the source records none of them
            return no_rows(grouped(stmt, keys))
    return backend.run(grouped(stmt, keys))


def metric_stats(backend: Backend, filters: Filters) -> pd.DataFrame:
    """One row per series name: points, mean and exact p50/p95/p99 of its samples."""
    metrics = MODEL["metrics"]
    stmt = sa.select(
        metrics.c.name,
        sa.func.min(metrics.c.unit).label("unit"),
        sa.cast(sa.func.count(metrics.c.value), sa.BigInteger).label("points"),
        sa.func.avg(metrics.c.value).label("mean"),
        *percentiles(metrics.c.value),
    ).where(*conditions(metrics, filters), metrics.c.value.is_not(None))
    return backend.run(grouped(stmt, [metrics.c.name]))


def event_counts(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = "type"
) -> pd.DataFrame:
    """One row per (bucket, by): events of the source's event stream."""
    events = MODEL["events"]
    keys = ([bucket_expr(events.c.ts, bucket).label("bucket")] if bucket else []) + dimension(
        events, by, ("type", "channel", "level", "agent")
    )
    stmt = (
        sa.select(*keys, sa.cast(sa.func.count(), sa.BigInteger).label("events"))
        .select_from(events)
        .where(*conditions(events, filters))
    )
    return backend.run(grouped(stmt, keys))


def thresholds(backend: Backend, filters: Filters) -> pd.DataFrame:
    """The source's configured alert thresholds that apply to the filtered agents."""
    table = MODEL["thresholds"]
    stmt = sa.select(table.c.agent, table.c.metric, table.c.level, table.c.value)
    if filters.agents:
        stmt = stmt.where(sa.or_(table.c.agent.is_(None), table.c.agent.in_(filters.agents)))
    return backend.run(stmt.order_by(table.c.metric, table.c.level, table.c.agent))


def threshold_breaches(backend: Backend, filters: Filters) -> pd.DataFrame:
    """One row per configured threshold: samples of its series in the filter and how many exceed it.

    A global threshold (agent NA) applies to every agent's samples of the series; an agent's own
    threshold only to that agent's.
    """
    metrics, limits = MODEL["metrics"], MODEL["thresholds"]
    applies = sa.and_(
        metrics.c.name == limits.c.metric,
        sa.or_(limits.c.agent.is_(None), limits.c.agent == metrics.c.agent),
    )
    stmt = (
        sa.select(
            limits.c.metric,
            limits.c.level,
            limits.c.agent,
            limits.c.value.label("threshold"),
            sa.cast(sa.func.count(metrics.c.value), sa.BigInteger).label("samples"),
            sa.cast(
                sa.func.count(metrics.c.value).filter(metrics.c.value > limits.c.value), sa.BigInteger
            ).label("breaches"),
        )
        .select_from(limits.outerjoin(metrics, sa.and_(applies, *conditions(metrics, filters))))
        .group_by(limits.c.metric, limits.c.level, limits.c.agent, limits.c.value)
        .order_by(limits.c.metric, limits.c.value, limits.c.agent)
    )
    if filters.agents:
        stmt = stmt.where(sa.or_(limits.c.agent.is_(None), limits.c.agent.in_(filters.agents)))
    return backend.run(stmt)


def no_breaches() -> pd.DataFrame:
    """``threshold_breaches`` of a source without thresholds, without asking the database."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in ("metric", "level", "agent")}).assign(
        threshold=pd.Series(dtype="float64"),
        samples=pd.Series(dtype="Int64"),
        breaches=pd.Series(dtype="Int64"),
    )
