"""What a loaded source contains: its time span and row counts, filter choices, filtered rows for
download, data-quality findings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from data_layer import model
from data_layer.filters import Filters
from data_layer.queries._common import conditions
from data_layer.tables import MODEL

if TYPE_CHECKING:
    from data_layer.backend import Backend

# Filter field -> (table, column) its choices come from.
FILTER_SOURCES = {
    "agents": ("agents", "agent"),
    "models": ("llm_calls", "model"),
    "sessions": ("sessions_seen", "session"),
    "tools": ("tool_calls", "tool"),
    "severities": ("alerts", "severity"),
    "event_types": ("events", "type"),
}


def row_counts(backend: Backend) -> dict[str, int]:
    """Rows per model table, in the model's order."""
    stmt = sa.union_all(
        *(
            sa.select(sa.literal(name).label("t"), sa.func.count().label("n")).select_from(MODEL[name])
            for name in model.TABLES
        )
    )
    found = backend.run(stmt).set_index("t")["n"]
    return {name: int(found[name]) for name in model.TABLES}


def time_span(backend: Backend) -> tuple[datetime | None, datetime | None]:
    """Earliest and latest activity, as UTC-aware datetimes (None if there is none).

    Agent registration times are left out: they say when a record was written, not when
    anything happened, and a source's defaults often set them to the time of the insert.
    """
    times = [
        MODEL[name].c[c.name]
        for name, cols in model.TABLES.items()
        for c in cols
        if c.kind == "time" and name != "agents"
    ]
    parts = [sa.select(sa.func.min(t).label("lo"), sa.func.max(t).label("hi")) for t in times]
    each = sa.union_all(*parts).subquery()
    span = backend.run(sa.select(sa.func.min(each.c.lo).label("lo"), sa.func.max(each.c.hi).label("hi")))
    lo, hi = span.iloc[0]["lo"], span.iloc[0]["hi"]
    return (None if pd.isna(lo) else lo.to_pydatetime(), None if pd.isna(hi) else hi.to_pydatetime())


def filter_options(backend: Backend, *, max_sessions: int = 2000) -> dict[str, list[str]]:
    """The values each sidebar filter can take in this source (empty list: hide that filter).

    Sessions are the most recently active ``max_sessions``; the sidebar's search covers the rest
    through the Sessions page.
    """
    options: dict[str, list[str]] = {}
    for field, (table_name, column) in FILTER_SOURCES.items():
        if table_name == "sessions_seen":
            options[field] = _recent_sessions(backend, max_sessions)
            continue
        table = MODEL[table_name]
        stmt = sa.select(table.c[column]).where(table.c[column].is_not(None)).distinct()
        values = backend.run(stmt.order_by(table.c[column]))[column]
        options[field] = [str(v) for v in values]
    if options["severities"]:
        order = {s: i for i, s in enumerate(model.SEVERITIES)}
        options["severities"].sort(key=lambda s: (order.get(s, len(order)), s))
    return options


def metric_names(backend: Backend) -> frozenset[str]:
    """Every metric name in the source: a page asking for named series it lacks asks nothing."""
    names = MODEL["metrics"].c.name
    return frozenset(
        str(v) for v in backend.run(sa.select(names).where(names.is_not(None)).distinct())["name"]
    )


def _recent_sessions(backend: Backend, limit: int) -> list[str]:
    parts = [
        sa.select(t.c.session, t.c.ts.label("ts")).where(t.c.session.is_not(None))
        for t in (MODEL["llm_calls"], MODEL["tool_calls"], MODEL["events"])
    ]
    sessions = MODEL["sessions"]
    parts.append(
        sa.select(sessions.c.session, sessions.c.started_at.label("ts")).where(
            sessions.c.session.is_not(None)
        )
    )
    seen = sa.union_all(*parts).subquery()
    stmt = (
        sa.select(seen.c.session)
        .group_by(seen.c.session)
        .order_by(sa.func.max(seen.c.ts).desc().nulls_last(), seen.c.session)
        .limit(limit)
    )
    return [str(v) for v in backend.run(stmt)["session"]]


_TIME_COLUMN = {"tasks": "completed_at", "sessions": "started_at", "agents": None, "thresholds": None}


def filtered_rows(
    backend: Backend, table: str, filters: Filters, *, limit: int | None = None
) -> pd.DataFrame:
    """The model table's rows that the filter selects, in time order, with the model's dtypes.

    This is what the pages offer for download: the rows behind the charts, not the aggregates.
    """
    t = MODEL[table]
    time = _TIME_COLUMN.get(table, "ts")
    stmt = sa.select(t).where(*conditions(t, filters, time=time))
    if time:
        stmt = stmt.order_by(t.c[time])
    if limit is not None:
        stmt = stmt.limit(limit)
    return model.conform(table, backend.run(stmt))


_LONG_AGO = datetime(2000, 1, 1)


def _times(backend: Backend, finding: str, odd) -> tuple[str, int, str]:
    """A finding over every time column but agents' (registration times are not activity)."""
    found, total = [], 0
    for name, cols in model.TABLES.items():
        for col in cols:
            if col.kind == "time" and name != "agents":
                table = MODEL[name]
                stmt = sa.select(sa.func.count()).select_from(table).where(odd(table.c[col.name]))
                k = int(backend.run(stmt).iloc[0, 0])
                if k:
                    found.append(f"{name}.{col.name}: {k:,}")
                    total += k
    return finding, total, "; ".join(found)


def data_quality(backend: Backend, *, now: datetime | None = None) -> pd.DataFrame:
    """One row per finding about the whole loaded source: finding, rows affected, detail.

    Findings with no affected rows are kept (rows = 0) so the page can show what was checked.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    calls, sessions = MODEL["llm_calls"], MODEL["sessions"]
    findings: list[tuple[str, int, str]] = []

    def count(stmt: sa.Select) -> int:
        return int(backend.run(stmt).iloc[0, 0])

    n = sa.func.count()
    findings.append(
        (
            "LLM calls without a recorded cost",
            count(sa.select(n).select_from(calls).where(calls.c.cost_source != "recorded")),
            "estimated from genai-prices where the model and tokens are known, else unknown",
        )
    )
    unpriced = backend.run(
        sa.select(calls.c.model, n.label("calls"))
        .where(
            calls.c.cost_source == "unknown",
            calls.c.model.is_not(None),
            calls.c.tokens_in.is_not(None),
            calls.c.tokens_out.is_not(None),
        )
        .group_by(calls.c.model)
        .order_by(n.desc(), calls.c.model)
    )
    findings.append(
        (
            "Models without a known price (genai-prices)",
            len(unpriced),
            ", ".join(
                f"{m} ({c:,} calls)" for m, c in zip(unpriced["model"], unpriced["calls"], strict=True)
            ),
        )
    )
    findings.append(
        (
            "LLM calls without a model",
            count(sa.select(n).select_from(calls).where(calls.c.model.is_(None))),
            "cost cannot be estimated for these",
        )
    )
    findings.append(
        (
            "LLM calls without token counts",
            count(
                sa.select(n)
                .select_from(calls)
                .where(calls.c.tokens_in.is_(None) | calls.c.tokens_out.is_(None))
            ),
            "token totals leave these out",
        )
    )
    negative = calls.c.tokens_in < 0
    negative |= calls.c.tokens_out < 0
    negative |= calls.c.cost_usd < 0
    findings.append(
        (
            "LLM calls with negative tokens or cost",
            count(sa.select(n).select_from(calls).where(negative)),
            "shown as recorded; check the source",
        )
    )
    findings.append(_times(backend, "Timestamps in the future", lambda c: c > now))
    # Before 2000: an epoch zero (1970-01-01) or a clock that was never set, not real activity.
    findings.append(_times(backend, "Timestamps before 2000 (unset clocks?)", lambda c: c < _LONG_AGO))
    tools = MODEL["tool_calls"]
    negative_latency = count(sa.select(n).select_from(calls).where(calls.c.latency_ms < 0))
    negative_latency += count(sa.select(n).select_from(tools).where(tools.c.latency_ms < 0))
    findings.append(
        ("LLM or tool calls with a negative latency", negative_latency, "shown as recorded; check the source")
    )
    findings.append(
        (
            "Sessions never ended",
            count(sa.select(n).select_from(sessions).where(sessions.c.ended_at.is_(None))),
            "no end time recorded: still running, or the agent stopped without closing them",
        )
    )
    return pd.DataFrame(findings, columns=["finding", "rows", "detail"]).astype({"rows": "int64"})
