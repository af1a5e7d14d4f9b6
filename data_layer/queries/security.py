"""Security: alerts by severity, type and status, and events the source flagged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from data_layer.filters import Filters
from data_layer.queries._common import (
    additive_rows,
    bucket_expr,
    conditions,
    dimension,
    grouped,
    raw_rows,
    run_sets,
)
from data_layer.tables import MODEL

if TYPE_CHECKING:
    from data_layer.backend import Backend

ALERT_DIMENSIONS = ("severity", "type", "status", "agent", "source")


def alert_counts(
    backend: Backend,
    filters: Filters,
    *,
    bucket: str | None = None,
    by: str | None = "severity",
    open_only: bool = False,
) -> pd.DataFrame:
    """One row per (bucket, by): alerts raised (only those still open, with ``open_only``)."""
    alerts = MODEL["alerts"]
    keys = ([bucket_expr(alerts.c.ts, bucket).label("bucket")] if bucket else []) + dimension(
        alerts, by, ALERT_DIMENSIONS
    )
    stmt = (
        sa.select(*keys, sa.cast(sa.func.count(), sa.BigInteger).label("alerts"))
        .select_from(alerts)
        .where(*conditions(alerts, filters))
    )
    if open_only:
        stmt = stmt.where(alerts.c.status == "open")
    return backend.run(grouped(stmt, keys))


def alert_sets(
    backend: Backend,
    filters: Filters,
    sets: list[tuple[str, ...]],
    *,
    bucket: str = "day",
    previous: Filters | None = None,
) -> list[pd.DataFrame]:
    """Alerts raised (``alerts``) and of them still open (``open_alerts``) for several groupings
    in one statement: one frame per set of keys (``bucket``, ``day``, ``ALERT_DIMENSIONS``;
    ``period`` too with ``previous``, 0 for the filter's own period, 1 for the one before).
    A set's frame without ``open_alerts`` is ``alert_counts`` of those keys; ``only_open`` of it
    is ``alert_counts(..., open_only=True)``."""
    source, where = raw_rows(MODEL["alerts"], filters, previous)
    keys = {"period": source.c.period} if previous is not None else {}
    keys |= {
        "bucket": bucket_expr(source.c.ts, bucket),
        "day": bucket_expr(source.c.ts, "day"),
        **{d: source.c[d] for d in ALERT_DIMENSIONS},
    }
    count = sa.func.count()
    measures = [
        sa.cast(count, sa.BigInteger).label("alerts"),
        sa.cast(count.filter(source.c.status == "open"), sa.BigInteger).label("open_alerts"),
    ]
    return run_sets(backend, keys, measures, sets, source=source, where=where)


def only_open(frame: pd.DataFrame) -> pd.DataFrame:
    """The groups of an ``alert_sets`` frame (with keys) that have open alerts, their number as
    ``alerts``: groups without any are absent, as when counting only open alerts."""
    keys = [c for c in frame.columns if c not in ("alerts", "open_alerts")]
    kept = frame.loc[frame["open_alerts"] > 0, [*keys, "open_alerts"]]
    return kept.rename(columns={"open_alerts": "alerts"}).reset_index(drop=True)


def flagged_event_counts(
    backend: Backend, filters: Filters, *, bucket: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by): events the source flagged suspicious or dangerous (not alerts)."""
    flagged = MODEL["flagged_events"]
    keys = ([bucket_expr(flagged.c.ts, bucket).label("bucket")] if bucket else []) + dimension(
        flagged, by, ("level", "agent")
    )
    stmt = (
        sa.select(*keys, sa.cast(sa.func.count(), sa.BigInteger).label("events"))
        .select_from(flagged)
        .where(*conditions(flagged, filters))
    )
    return backend.run(grouped(stmt, keys))


def matched_terms(backend: Backend, filters: Filters, *, limit: int = 25) -> pd.DataFrame:
    """The terms that triggered alerts and flagged events most often: term, alerts, flagged."""
    alerts, flagged = MODEL["alerts"], MODEL["flagged_events"]
    terms = sa.union_all(
        sa.select(
            sa.func.unnest(alerts.c.matched_terms).label("term"),
            sa.literal(1).label("alert"),
            sa.literal(0).label("flag"),
        ).where(*conditions(alerts, filters)),
        sa.select(
            sa.func.unnest(flagged.c.matched_terms).label("term"),
            sa.literal(0).label("alert"),
            sa.literal(1).label("flag"),
        ).where(*conditions(flagged, filters)),
    ).subquery()
    stmt = (
        sa.select(
            terms.c.term,
            sa.cast(sa.func.sum(terms.c.alert), sa.BigInteger).label("alerts"),
            sa.cast(sa.func.sum(terms.c.flag), sa.BigInteger).label("flagged_events"),
        )
        .where(terms.c.term.is_not(None))
        .group_by(terms.c.term)
        .order_by(sa.func.count().desc(), terms.c.term)
        .limit(limit)
    )
    return backend.run(stmt)


def alerts_per_thousand_calls(backend: Backend, filters: Filters) -> pd.DataFrame:
    """One row per agent: alerts, LLM calls and alerts per 1,000 calls (NA without calls)."""
    alerts, calls = MODEL["alerts"], MODEL["llm_calls"]
    raised = (
        sa.select(alerts.c.agent, sa.cast(sa.func.count(), sa.BigInteger).label("alerts"))
        .where(*conditions(alerts, filters))
        .group_by(alerts.c.agent)
        .subquery()
    )
    # Calls per agent from the rollups (and the raw rows of the period's partial hours).
    calls_of = {"calls": sa.literal(1, sa.BigInteger)}
    rows = additive_rows(backend, calls, calls_of, ("agent",), filters, grain="day")
    made = (
        sa.select(rows.c.agent, sa.cast(sa.func.sum(rows.c.calls), sa.BigInteger).label("llm_calls"))
        .group_by(rows.c.agent)
        .subquery()
    )
    agent = sa.func.coalesce(raised.c.agent, made.c.agent)
    n_alerts = sa.func.coalesce(raised.c.alerts, 0)
    n_calls = sa.func.coalesce(made.c.llm_calls, 0)
    stmt = sa.select(
        agent.label("agent"),
        n_alerts.label("alerts"),
        n_calls.label("llm_calls"),
        (n_alerts * 1000.0 / sa.func.nullif(n_calls, 0)).label("alerts_per_1k_calls"),
    ).select_from(raised.join(made, raised.c.agent == made.c.agent, full=True))
    return backend.run(stmt.where(agent.is_not(None)).order_by(agent))


def alert_list(backend: Backend, filters: Filters, *, limit: int = 500) -> pd.DataFrame:
    """The latest alerts matching the filter, newest first, with what a drill-down needs."""
    alerts = MODEL["alerts"]
    stmt = (
        sa.select(alerts)
        .where(*conditions(alerts, filters))
        .order_by(alerts.c.ts.desc().nulls_last(), alerts.c.alert_id)
        .limit(limit)
    )
    return backend.run(stmt)


def event_detail(backend: Backend, event_id: str) -> pd.DataFrame:
    """The LLM call behind a source event, with its prompt and response (empty if none)."""
    calls = MODEL["llm_calls"]
    stmt = sa.select(calls).where(calls.c.call_id == event_id).limit(1)
    return backend.run(stmt)


def open_alerts_by_severity(backend: Backend, filters: Filters) -> pd.DataFrame:
    """One row per severity: alerts raised in the filter that are still open (not acknowledged)."""
    alerts = MODEL["alerts"]
    stmt = (
        sa.select(alerts.c.severity, sa.cast(sa.func.count(), sa.BigInteger).label("alerts"))
        .where(alerts.c.status == "open", *conditions(alerts, filters))
        .group_by(alerts.c.severity)
        .order_by(alerts.c.severity)
    )
    return backend.run(stmt)
