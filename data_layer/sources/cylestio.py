"""Cylestio Monitor's database (seeds 000 and 001), on SQLite or PostgreSQL.

Every detail row (llm_calls, tool_calls, security_alerts, event_security, performance_metrics)
hangs off an ``events`` row, which carries the time, agent, session and conversation; the
selects below join each detail table to its event once, in the source database.

``performance_metrics`` comes in two shapes: the schema's long one (metric_type, value, unit)
and the ORM models' wide one (memory_usage, cpu_usage, duration_ms, tokens_processed, cost).
Both become series of the long ``metrics`` table; a database may even have columns of both.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import pyarrow as pa
import sqlalchemy as sa

from data_layer.model import Telemetry
from data_layer.report import ReadingReport
from data_layer.sources.adapter import Adapter, only_columns, optional_column, select_fields
from data_layer.sources.database import Database, Progress
from data_layer.sources.watermarks import Delta, Marks, id_range

SYSTEM = "cylestio"

# Wide performance_metrics columns -> (series name, unit). Units are the ones the models document.
_WIDE_METRICS = {
    "memory_usage": ("memory_usage", None),
    "cpu_usage": ("cpu_usage", "%"),
    "duration_ms": ("duration_ms", "ms"),
    "tokens_processed": ("tokens_processed", "tokens"),
    "cost": ("cost", "USD"),
}
_FLAG_LEVELS = ("suspicious", "dangerous")  # event_security levels that flag an event
_TABLES = (
    "agents",
    "sessions",
    "conversations",
    "events",
    "llm_calls",
    "tool_calls",
    "security_alerts",
    "event_security",
    "performance_metrics",
)


def recognises(db: Database) -> bool:
    return (
        db.has("agents", "id", "agent_id")
        and db.has("events", "id", "agent_id", "event_type", "timestamp")
        and db.has("llm_calls", "event_id", "model")
    )


# The source tables whose rows become model rows (conversations only name an event's).
_READ = ("agents", "sessions", "events", "llm_calls", "tool_calls", "security_alerts", "event_security",
         "performance_metrics")  # fmt: skip
# Model table -> the source tables its SELECT reads, in the order the store builds the model.
_SOURCES_OF = {
    "agents": ("agents",),
    "sessions": ("sessions",),
    "llm_calls": ("llm_calls",),
    "tool_calls": ("tool_calls",),
    "alerts": ("security_alerts",),
    "flagged_events": ("event_security",),
    "metrics": ("performance_metrics",),
    "events": ("events", "agents"),
}


def load(db: Database, progress: Progress, columns: Mapping[str, Collection[str]] | None = None) -> Telemetry:
    """Map the database's tables into the model; with ``columns``, only those model columns
    (the rest stay missing, and source columns no SELECT then reads are not read at all).

    The joins run in the source, and each model table is read when the store reaches it, as a
    stream: on PostgreSQL in the server (parallel, indexed), on SQLite a range of event ids at
    a time (``_in_event_ranges``).
    """
    selects = model_selects(db) if columns is None else only_columns(model_selects(db), columns)
    if db.dialect == "sqlite":
        tables = _in_event_ranges(db, progress, columns)
    else:

        def reader(stmt: sa.Select, what: str):
            return lambda: db.read_batches(stmt, progress, what)  # streamed into the store

        tables = {name: reader(stmt, name.replace("_", " ")) for name, stmt in selects.items()}
    counts = {t: db.count(t) for t in _TABLES if t in db.catalog()}
    return Telemetry(
        system=SYSTEM,
        tables=tables,
        source_tables=counts,
        source_events=counts.get("events"),
        notes=_notes(db),
        report=reading_report(db, counts),
    )


_ORPHAN = "{} row whose {} points at no {}"


def reading_report(db: Database, counts: dict[str, int]) -> ReadingReport:
    """Rows read per table; the model tables are counted against them once built (``settle``).

    Each detail row is one model row when its event, and the event's agent, exist: the SELECTs
    join them, so a row pointing nowhere is left out, and counted here.
    """
    report = ReadingReport(read={t: n for t, n in counts.items() if t in _READ})
    report.expect("events", counts["events"], _ORPHAN.format("events", "agent_id", "agent"))
    for model_table, source in (
        ("llm_calls", "llm_calls"),
        ("tool_calls", "tool_calls"),
        ("alerts", "security_alerts"),
    ):
        if source in counts:
            report.expect(model_table, counts[source], _ORPHAN.format(source, "event_id", "event (or agent)"))
    if "sessions" in counts:
        report.expect("sessions", counts["sessions"], _ORPHAN.format("sessions", "agent_id", "agent"))
    perf = db.columns("performance_metrics")
    if "performance_metrics" in counts and {"metric_type", "value"} <= perf and not perf & set(_WIDE_METRICS):
        # The long shape only: one metric row per row (the wide shape has one per filled column).
        orphan = _ORPHAN.format("performance_metrics", "event_id", "event (or agent)")
        report.expect("metrics", counts["performance_metrics"], orphan)
    if "event_security" in counts:
        flagged = db.table("event_security")
        level = sa.func.lower(flagged.c.alert_level)
        kept = int(db.read(sa.select(sa.func.count()).where(level.in_(_FLAG_LEVELS))).iloc[0, 0])
        report.skip(
            "event_security row rated neither suspicious nor dangerous", counts["event_security"] - kept
        )
        report.expect(
            "flagged_events", kept, _ORPHAN.format("event_security", "event_id", "event (or agent)")
        )
    report.map(select_fields(model_selects(db)))
    return report.assume("Times without a time zone are UTC.")


def _in_event_ranges(
    db: Database, progress: Progress, columns: Mapping[str, Collection[str]] | None
) -> dict[str, Callable[[], pa.RecordBatchReader]]:
    """Loaders of the model tables, each a stream of its SELECT run in SQLite once per range of
    event ids (``_ranges``), so one range of one table is in memory at a time, not the source.

    Per range SQLite finds the rows through the ``event_id`` index and joins each to its event by
    the events' primary key. At a million calls that join took 1.8 s of CPU, and reading the
    two tables whole through ADBC 1.5 s, before DuckDB's join. Agents and sessions are read
    whole: they are few, and have no event id.
    """

    def selects(narrowed: Narrowing) -> dict[str, sa.Select]:
        chosen = model_selects(db, narrowed)
        return chosen if columns is None else only_columns(chosen, columns)

    def loader(model_table: str) -> Callable[[], pa.RecordBatchReader]:
        def load() -> pa.RecordBatchReader:
            progress(f"Reading {model_table.replace('_', ' ')}", None)  # not from the reading thread
            source = _SOURCES_OF[model_table][0]
            column = "id" if source == "events" else "event_id"
            ranges = _ranges(db, source, column) if source not in ("agents", "sessions") else None
            if ranges is None:
                return db.read_ranges(selects({})[model_table], [{}])
            return db.read_ranges(selects({source: _in_range(column)})[model_table], ranges)

        return load

    return {name: loader(name) for name in model_selects(db)}


_RANGE_IDS = 1 << 17  # event ids a range spans: at most 131,072 rows of a table


def _ranges(db: Database, source: str, column: str) -> list[dict[str, int]] | None:
    """Ranges of ``column``'s values covering every row of ``source`` (``lo`` <= id < ``hi``),
    or None where its values are not whole numbers, or not indexed (each range would then read
    the whole table): the table is then read in one piece."""
    if not _indexed(db, source, column):
        return None
    values = sa.column(column)
    stmt = sa.select(sa.func.min(values), sa.func.max(values)).select_from(db.table(source))
    try:
        with db.engine.connect() as con:
            low, high = con.execute(stmt).one()
    except sa.exc.SQLAlchemyError as err:
        raise db.unavailable(err) from err
    if low is None:
        return []
    if not (type(low) is int and type(high) is int):
        return None
    return [{"lo": lo, "hi": min(lo + _RANGE_IDS, high + 1)} for lo in range(low, high + 1, _RANGE_IDS)]


def _indexed(db: Database, table: str, column: str) -> bool:
    """Whether SQLite finds ``table``'s rows by ``column`` without reading them all."""
    try:
        inspector = sa.inspect(db.engine)
        keys = inspector.get_pk_constraint(table)["constrained_columns"]
        firsts = [index["column_names"][0] for index in inspector.get_indexes(table) if index["column_names"]]
    except sa.exc.SQLAlchemyError as err:
        raise db.unavailable(err) from err
    return column in [*keys[:1], *firsts]


def _in_range(column: str) -> Callable[[sa.FromClause], sa.ColumnElement[bool]]:
    def where(table: sa.FromClause) -> sa.ColumnElement[bool]:
        ids = table.c[column]
        low, high = (sa.bindparam(name, None, type_=sa.Integer) for name in ("lo", "hi"))
        return sa.and_(ids >= low, ids < high)

    return where


Narrowing = Mapping[str, Callable[[sa.FromClause], sa.ColumnElement[bool]]]


def model_selects(db: Database, narrowed: Narrowing | None = None) -> dict[str, sa.Select]:
    """One SELECT per model table, in the source's terms. Also used to push queries down.

    ``narrowed`` reads only some rows of some source tables (source table -> condition on it):
    a refresh reads the new rows of a detail table, still joined to every event.
    """
    t: dict[str, sa.FromClause] = {name: db.table(name) for name in _TABLES if name in db.catalog()}
    for name, where in (narrowed or {}).items():
        t[name] = sa.select(t[name]).where(where(t[name])).subquery(name)
    agents, events = t["agents"], t["events"]
    # An event's context, shared by every detail table.
    ctx = events.join(agents, agents.c.id == events.c.agent_id)
    context = [
        sa.cast(events.c.id, sa.String).label("event_id"),
        events.c.timestamp.label("ts"),
        agents.c.agent_id.label("agent"),
        sa.cast(events.c.session_id, sa.String).label("session"),
    ]
    failed = sa.func.lower(events.c.level).in_(("error", "critical"))

    selects: dict[str, sa.Select] = {
        "agents": sa.select(
            agents.c.agent_id.label("agent"),
            optional_column(agents, "name").label("display_name"),
            optional_column(agents, "created_at").label("created_at"),
            optional_column(agents, "last_seen").label("last_seen_at"),
        ),
        "events": sa.select(
            *context,
            events.c.event_type.label("type"),
            optional_column(events, "channel").label("channel"),
            sa.func.lower(optional_column(events, "level")).label("level"),
        ).select_from(ctx),
    }
    calls = t["llm_calls"]
    selects["llm_calls"] = sa.select(
        context[0].label("call_id"),
        *context[1:],
        sa.cast(optional_column(events, "conversation_id"), sa.String).label("conversation"),
        calls.c.model,
        optional_column(calls, "tokens_in").label("tokens_in"),
        optional_column(calls, "tokens_out").label("tokens_out"),
        optional_column(calls, "cost").label("cost_usd"),
        optional_column(calls, "duration_ms").label("latency_ms"),
        optional_column(calls, "is_stream").label("is_stream"),
        sa.case((failed, "error"), else_="ok").label("status"),
        optional_column(calls, "prompt").label("prompt"),
        optional_column(calls, "response").label("response"),
    ).select_from(calls.join(ctx, events.c.id == calls.c.event_id))

    if "sessions" in t:
        sessions = t["sessions"]
        selects["sessions"] = sa.select(
            sa.cast(sessions.c.id, sa.String).label("session"),
            agents.c.agent_id.label("agent"),
            optional_column(sessions, "start_time").label("started_at"),
            optional_column(sessions, "end_time").label("ended_at"),
        ).select_from(sessions.join(agents, agents.c.id == sessions.c.agent_id))
    if "tool_calls" in t:
        tools = t["tool_calls"]
        selects["tool_calls"] = sa.select(
            context[0].label("call_id"),
            *context[1:],
            tools.c.tool_name.label("tool"),
            optional_column(tools, "duration_ms").label("latency_ms"),
            optional_column(tools, "success").label("success"),
            optional_column(tools, "error_message").label("error"),
        ).select_from(tools.join(ctx, events.c.id == tools.c.event_id))
    if "security_alerts" in t:
        alerts = t["security_alerts"]
        selects["alerts"] = sa.select(
            sa.cast(alerts.c.id, sa.String).label("alert_id"),
            sa.func.coalesce(optional_column(alerts, "timestamp"), events.c.timestamp).label("ts"),
            *context[2:],
            context[0],
            alerts.c.alert_type.label("type"),
            sa.func.lower(alerts.c.severity).label("severity"),
            optional_column(alerts, "description").label("description"),
            optional_column(alerts, "matched_terms").label("matched_terms"),
            sa.literal("open").label("status"),
        ).select_from(alerts.join(ctx, events.c.id == alerts.c.event_id))
    if "event_security" in t:
        flagged = t["event_security"]
        level = sa.func.lower(flagged.c.alert_level)
        selects["flagged_events"] = (
            sa.select(
                *context,
                level.label("level"),
                optional_column(flagged, "matched_terms").label("matched_terms"),
                optional_column(flagged, "reason").label("reason"),
                optional_column(flagged, "source_field").label("source_field"),
            )
            .select_from(flagged.join(ctx, events.c.id == flagged.c.event_id))
            .where(level.in_(_FLAG_LEVELS))
        )
    if "performance_metrics" in t:
        selects["metrics"] = _metrics_select(t["performance_metrics"], events, ctx, context)
    return selects


# Tables whose rows Cylestio updates in place: their model rows are replaced by key on refresh.
# The agents table is small and read whole; a session is noticed when it ends (an indexed column).
_CHANGES = {"agents": "last_seen", "sessions": "end_time"}
_KEYS = {"agents": "agent", "sessions": "session"}


def load_since(db: Database, old: Marks, new: Marks, progress: Progress) -> Delta:
    """The model rows of the source rows past the ``old`` watermarks, up to the ``new`` ones.

    Each model table is read from the source table that drives it (llm_calls from llm_calls,
    events from events), narrowed to the new rows and still joined to every event and agent:
    a new call may belong to an old event. Read in the source, where those joins are index
    lookups, in one piece: a refresh reads a few thousand rows, not the millions a full load
    reads a range at a time.
    """
    tables = {}
    for model_table, (source, *_) in _SOURCES_OF.items():
        if source not in new or old.get(source) == new[source]:
            continue
        narrowed = {} if model_table == "agents" else {source: _new_rows(source, old[source], new[source])}
        stmt = model_selects(db, narrowed)[model_table]
        tables[model_table] = db.read_arrow(stmt, progress, f"new {model_table.replace('_', ' ')}")
    return Delta(tables=tables, keys={t: key for t, key in _KEYS.items() if t in tables})


def _new_rows(source: str, old, new) -> Callable[[sa.FromClause], sa.ColumnElement[bool]]:
    def where(table: sa.FromClause) -> sa.ColumnElement[bool]:
        appended = id_range(table, old, new)
        column = _CHANGES.get(source)
        if column is None or column not in table.c:
            return appended
        updated = table.c[column] > old.changed if old.changed is not None else table.c[column].is_not(None)
        return sa.or_(appended, updated)

    return where


def _metrics_select(perf: sa.FromClause, events: sa.TableClause, ctx: sa.Join, context: list) -> sa.Select:
    ts, agent = context[1], context[2]
    parts = []
    if {"metric_type", "value"} <= set(perf.c.keys()):
        parts.append(
            sa.select(ts, agent, perf.c.metric_type.label("name"), perf.c.value.label("value"))
            .add_columns(optional_column(perf, "unit").label("unit"))
            .select_from(perf.join(ctx, events.c.id == perf.c.event_id))
        )
    for column, (name, unit) in _WIDE_METRICS.items():
        if column in perf.c:
            parts.append(
                sa.select(
                    ts,
                    agent,
                    sa.literal(name).label("name"),
                    sa.cast(perf.c[column], sa.Double).label("value"),
                    sa.literal(unit, sa.String).label("unit"),
                )
                .select_from(perf.join(ctx, events.c.id == perf.c.event_id))
                .where(perf.c[column].is_not(None))
            )
    if not parts:
        return sa.select(ts, agent).where(sa.false())
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


def _notes(db: Database) -> list[str]:
    notes = []
    perf = db.columns("performance_metrics")
    if perf & set(_WIDE_METRICS) and "metric_type" not in perf:
        notes.append(
            "performance_metrics has the wide shape (one column per measure); each column is a series."
        )
    if "memory_usage" in perf:
        notes.append("memory_usage has no unit in Cylestio's schema; it is shown as recorded.")
    return notes


ADAPTER = Adapter(
    system=SYSTEM,
    title="Cylestio Monitor",
    needs="tables agents, events and llm_calls, with llm_calls.event_id pointing at events",
    provides=frozenset(_SOURCES_OF),
    recognises=recognises,
    load=load,
    load_columns=load,
    model_selects=model_selects,
    reading=reading_report,
    tables=_TABLES,
    events_table="events",
    changes=_CHANGES,
    load_since=load_since,
)
