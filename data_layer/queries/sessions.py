"""Sessions: one row per session with its totals, and one session's timeline in order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from data_layer.filters import Filters
from data_layer.queries._common import conditions, sum_of
from data_layer.tables import MODEL

if TYPE_CHECKING:
    from data_layer.backend import Backend

SESSION_ORDERS = {
    "started_at": "started_at",
    "cost": "cost_usd",
    "tokens": "tokens",
    "calls": "llm_calls",
    "errors": "errors",
    "duration": "duration_s",
}


def _per_table(filters: Filters) -> sa.Subquery:
    """Per session, the LLM calls', tool calls' and alerts' counters, each table grouped by session
    on its own and the three put one under the other (a session has a row per table it is in).

    Grouped table by table, a table's rows are read in its own types (its agent an ENUM) and
    only the groups are put together. A union of the raw rows of all three, grouped after, made
    every agent text and grouped three million rows at once: at ten million calls it took half
    as long again (565 against 352-366 ms)."""
    calls, tools, alerts = MODEL["llm_calls"], MODEL["tool_calls"], MODEL["alerts"]
    zero, none_int = sa.literal(0, sa.BigInteger), sa.null().cast(sa.BigInteger)

    def counted(condition: sa.ColumnElement[bool]) -> sa.ColumnElement:
        return sa.cast(sa.func.count().filter(condition), sa.BigInteger)

    def part(table, **counters: sa.ColumnElement) -> sa.Select:
        empty = {"tokens_in": none_int, "tokens_out": none_int, "cost_usd": sa.null().cast(sa.Double)}
        measures = {name: counters.get(name, empty.get(name, zero)) for name in _COUNTERS}
        return (
            sa.select(
                table.c.session.label("session"),
                sa.cast(sa.func.min(table.c.agent), sa.String).label("agent"),
                sa.func.min(table.c.ts).label("first_at"),
                sa.func.max(table.c.ts).label("last_at"),
                *(expr.label(name) for name, expr in measures.items()),
            )
            .where(table.c.session.is_not(None), *conditions(table, filters))
            .group_by(table.c.session)
        )

    every = sa.cast(sa.func.count(), sa.BigInteger)
    return sa.union_all(
        part(
            calls,
            llm_calls=every,
            tokens_in=sum_of(calls.c.tokens_in, integer=True),
            tokens_out=sum_of(calls.c.tokens_out, integer=True),
            cost_usd=sum_of(calls.c.cost_usd, integer=False),
            calls_cost_unknown=counted(calls.c.cost_usd.is_(None)),
            llm_errors=counted(calls.c.status == "error"),
        ),
        part(tools, tool_calls=every, tool_failures=counted(tools.c.success.is_(False))),
        part(alerts, alerts=every),
    ).subquery("per_table")


_COUNTERS = ("llm_calls", "tokens_in", "tokens_out", "cost_usd", "calls_cost_unknown", "llm_errors",
             "tool_calls", "tool_failures", "alerts")  # fmt: skip
"""What ``_per_table`` counts per session, in its columns' order."""


def session_summaries(
    backend: Backend,
    filters: Filters,
    *,
    search: str = "",
    order_by: str = "started_at",
    limit: int = 500,
) -> pd.DataFrame:
    """One row per session with activity in the filter: agent, start, duration, calls, tokens,
    cost (recorded + estimated; NA when no call has a cost), errors (failed LLM and tool calls),
    alerts. ``search`` matches session or agent text; ``order_by`` a key of SESSION_ORDERS,
    largest (or latest) first.
    """
    if order_by not in SESSION_ORDERS:
        raise ValueError(f"order_by must be one of {sorted(SESSION_ORDERS)}")
    a = _per_table(filters)
    sessions = MODEL["sessions"]
    per = (
        sa.select(
            a.c.session,
            sa.func.min(a.c.agent).label("agent"),
            sa.func.min(a.c.first_at).label("first_at"),
            sa.func.max(a.c.last_at).label("last_at"),
            *(
                sum_of(a.c[m], integer=True).label(m)
                for m in ("llm_calls", "tokens_in", "tokens_out", "calls_cost_unknown")
            ),
            sum_of(a.c.cost_usd, integer=False).label("cost_usd"),
            sum_of(a.c.llm_errors + a.c.tool_failures, integer=True).label("errors"),
            *(sum_of(a.c[m], integer=True).label(m) for m in ("tool_calls", "alerts")),
        )
        .group_by(a.c.session)
        .subquery("per")
    )
    started = sa.func.coalesce(sessions.c.started_at, per.c.first_at)
    finished = sa.func.coalesce(sessions.c.ended_at, per.c.last_at)
    duration = sa.func.date_part(sa.literal_column("'epoch'"), finished - started)
    tokens = sa.func.coalesce(per.c.tokens_in, 0) + sa.func.coalesce(per.c.tokens_out, 0)
    columns = {
        "session": per.c.session,
        "agent": sa.func.coalesce(per.c.agent, sessions.c.agent),
        "started_at": started,
        "ended_at": sessions.c.ended_at,
        "duration_s": sa.cast(duration, sa.Double),
        "llm_calls": per.c.llm_calls,
        "tokens_in": per.c.tokens_in,
        "tokens_out": per.c.tokens_out,
        "tokens": sa.cast(
            sa.case((per.c.tokens_in.is_(None) & per.c.tokens_out.is_(None), None), else_=tokens),
            sa.BigInteger,
        ),
        "cost_usd": per.c.cost_usd,
        "calls_cost_unknown": per.c.calls_cost_unknown,
        "tool_calls": per.c.tool_calls,
        "errors": per.c.errors,
        "alerts": per.c.alerts,
    }
    stmt = sa.select(*(expr.label(name) for name, expr in columns.items())).select_from(
        per.outerjoin(sessions, sessions.c.session == per.c.session)
    )
    if search:
        stmt = stmt.where(
            sa.or_(
                per.c.session.icontains(search, autoescape=True),
                columns["agent"].icontains(search, autoescape=True),
            )
        )
    key = sa.literal_column(SESSION_ORDERS[order_by])
    return backend.run(stmt.order_by(key.desc().nulls_last(), per.c.session).limit(limit))


def session_timeline(backend: Backend, session: str, *, limit: int = 5000) -> pd.DataFrame:
    """Everything that happened in one session, in time order: LLM calls (model, tokens, cost,
    latency, status), tool calls (tool, latency, outcome), alerts, flagged events, and the
    session's other events (start, end, messages) that are not already an LLM or tool call.
    """
    calls, tools, alerts = MODEL["llm_calls"], MODEL["tool_calls"], MODEL["alerts"]
    flagged, events = MODEL["flagged_events"], MODEL["events"]
    text, num, dbl = sa.null().cast(sa.String), sa.null().cast(sa.BigInteger), sa.null().cast(sa.Double)

    def row(
        table, kind, name, *, tin=num, tout=num, cost=dbl, latency=dbl, outcome=text, detail=text, ident=text
    ):
        return sa.select(
            table.c.ts.label("ts"),
            sa.literal(kind).label("kind"),
            table.c.agent.label("agent"),
            name.label("name"),
            tin.label("tokens_in"),
            tout.label("tokens_out"),
            cost.label("cost_usd"),
            latency.label("latency_ms"),
            outcome.label("outcome"),
            detail.label("detail"),
            ident.label("id"),
        ).where(table.c.session == session)

    already = sa.union(
        sa.select(calls.c.call_id).where(calls.c.session == session, calls.c.call_id.is_not(None)),
        sa.select(tools.c.call_id).where(tools.c.session == session, tools.c.call_id.is_not(None)),
    )
    stmt = sa.union_all(
        row(
            calls,
            "llm call",
            calls.c.model,
            tin=calls.c.tokens_in,
            tout=calls.c.tokens_out,
            cost=calls.c.cost_usd,
            latency=calls.c.latency_ms,
            outcome=calls.c.status,
            detail=calls.c.error,
            ident=calls.c.call_id,
        ),
        row(
            tools,
            "tool call",
            tools.c.tool,
            latency=tools.c.latency_ms,
            outcome=sa.case((tools.c.success.is_(True), "ok"), (tools.c.success.is_(False), "failed")),
            detail=tools.c.error,
            ident=tools.c.call_id,
        ),
        row(
            alerts,
            "alert",
            alerts.c.type,
            outcome=alerts.c.severity,
            detail=alerts.c.description,
            ident=alerts.c.event_id,
        ),
        row(
            flagged,
            "flagged event",
            flagged.c.source_field,
            outcome=flagged.c.level,
            detail=flagged.c.reason,
            ident=flagged.c.event_id,
        ),
        row(
            events,
            "event",
            events.c.type,
            outcome=events.c.level,
            detail=events.c.channel,
            ident=events.c.event_id,
        ).where(sa.or_(events.c.event_id.is_(None), events.c.event_id.not_in(already))),
    ).subquery()
    return backend.run(sa.select(stmt).order_by(stmt.c.ts, stmt.c.kind).limit(limit))
