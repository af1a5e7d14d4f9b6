"""Sentinel AI's database (seed 003): PostgreSQL as Sentinel creates it, or the same tables in SQLite.

Sentinel keeps performance samples, not an event log: each ``performance_metrics`` row holds
several measures of one agent at one time (latency, throughput, cost per request, CPU, GPU,
memory) plus a free-form ``custom_metrics`` JSONB object. Every measure becomes a series of the
long ``metrics`` table. Alert thresholds live in ``monitoring_configuration.alert_thresholds``.

The SELECTs below are plain Core (casts, joins), so PostgreSQL and SQLite run the same ones;
the JSON columns are fetched as text and expanded in DuckDB, one path for both engines.
Pushdown maps the same tables in PostgreSQL's own SQL (``sentinel_sql``), held to the same
frames by tests.
Sentinel's agents are keyed by UUID but their names are unique per deployment, so the name is
the ``agent`` key: readable in charts and the same in every table.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from data_layer.model import Telemetry, to_utc
from data_layer.report import ReadingReport
from data_layer.sources.adapter import Adapter, optional_column, select_fields
from data_layer.sources.database import Database, Progress
from data_layer.sources.sentinel_sql import (
    CUSTOM_NOT_A_NUMBER,
    DISABLED,
    NOT_A_NUMBER,
    SAME_NAME,
    THRESHOLD_NOT_A_NUMBER,
    model_selects,
    reading_report,
)

SYSTEM = "sentinel"
_NEEDS = (
    "tables ai_agents (agent_id, name) and performance_metrics (agent_id, timestamp, latency_ms,"
    " cpu_usage_percent...)"
)

# performance_metrics columns -> unit. Each is a series named after its column.
_SERIES = {
    "latency_ms": "ms",
    "throughput_req_per_min": "req/min",
    "cost_per_request": "USD",
    "cpu_usage_percent": "%",
    "gpu_usage_percent": "%",
    "memory_usage_mb": "MB",
}
_TABLES = ("ai_agents", "performance_metrics", "user_sessions", "monitoring_configuration")

# Text that is not JSON (possible in a SQLite copy) would stop json_each: it counts as absent.
_CLEAN = """
create temp view clean as
select * replace (case when json_valid(custom_metrics) then custom_metrics end as custom_metrics)
from samples
"""

# The leaves of custom_metrics: nested objects recurse with dotted names (custom.queue.depth).
# ``number`` is the value if json_each typed it a finite number, else NULL (text, true/false,
# list, null): a string that looks like a number is still text.
_LEAVES = """
create temp table leaves as
with recursive custom(ts, agent, name, value, type) as (
    select s.ts, s.agent, 'custom.' || e.key, e.value, e.type
    from clean s, json_each(s.custom_metrics::json) e
    where json_type(s.custom_metrics::json) = 'OBJECT'
    union all
    select c.ts, c.agent, c.name || '.' || e.key, e.value, e.type
    from custom c, json_each(c.value) e
    where c.type = 'OBJECT'
)
select ts, agent, name, type,
       case when type in ('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE') and isfinite(try_cast(value as double))
            then try_cast(value as double) end as number
from custom
where type <> 'OBJECT'
"""

# Measure columns unpivoted (UNPIVOT drops NULLs), then the numeric custom leaves.
_METRICS = """
select u.ts, u.agent, u.name, u.value, units.unit
from (
    unpivot (select * exclude (custom_metrics) from clean)
    on columns(* exclude (ts, agent)) into name name value value
) u
left join units using (name)
union all
select ts, agent, name, number as value, null as unit from leaves where number is not null
"""

# Skipped custom values: non-numeric leaves (a JSON null is missing, not skipped), whole
# custom_metrics that are not objects, and text that is not JSON at all.
_SKIPPED = """
select (select count(*) from leaves where number is null and type <> 'NULL')
     + (select count(*) from clean where json_type(custom_metrics::json) not in ('OBJECT', 'NULL'))
     + (select count(*) from samples where custom_metrics is not null and not json_valid(custom_metrics))
"""

# {"metric": 500} is one threshold; {"metric": {"warning": 500, "critical": 1000}} one per level.
_THRESHOLDS = """
with entries as (
    select c.agent, e.key as metric, e.value, e.type
    from configs c, json_each(c.alert_thresholds::json) e
    where json_valid(c.alert_thresholds) and json_type(c.alert_thresholds::json) = 'OBJECT'
),
levels as (
    select agent, metric, 'threshold' as level, value, type from entries where type <> 'OBJECT'
    union all
    select n.agent, n.metric, l.key as level, l.value, l.type
    from entries n, json_each(n.value) l
    where n.type = 'OBJECT'
)
select agent, metric, level,
       case when type in ('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE') and isfinite(try_cast(value as double))
            then try_cast(value as double) end as value
from levels
where type <> 'NULL'
order by metric, level, agent nulls first
"""


def recognises(db: Database) -> bool:
    return db.has("ai_agents", "agent_id", "name") and db.has(
        "performance_metrics", "agent_id", "timestamp", "latency_ms", "cpu_usage_percent"
    )


def load(db: Database, progress: Progress) -> Telemetry:
    selects = source_selects(db)
    progress("Reading agents", None)
    read_agents = db.read(selects["agents"], progress, "agents")
    agents, notes = _one_row_per_name(read_agents)
    progress("Reading performance metrics", None)
    raw = db.read(selects["samples"], progress, "performance metrics")
    report = ReadingReport(read={"ai_agents": len(read_agents), "performance_metrics": len(raw)})
    report.skip(SAME_NAME, len(read_agents) - len(agents))
    samples, not_numbers = _numeric(raw)
    del raw
    report.skip(NOT_A_NUMBER, not_numbers)
    progress("Expanding custom metrics", None)
    metrics, skipped = _metrics(samples)
    report.skip(CUSTOM_NOT_A_NUMBER, skipped)
    del samples
    tables = {"agents": agents, "metrics": metrics}
    notes.insert(
        0,
        "Sentinel records performance samples, not LLM calls: latency, throughput and cost per"
        " request are metric series per agent, and there are no call, token or tool figures.",
    )
    if skipped:
        notes.append(
            f"custom_metrics values that are not numbers (text, true/false, lists), skipped: {skipped:,}."
            " Numbers, also in nested objects (custom.queue.depth), are series."
        )
    if "configs" in selects:
        progress("Reading monitoring configuration", None)
        tables["thresholds"], threshold_notes = _thresholds(db, selects, report)
        notes += threshold_notes
    if "events" in selects:
        tables["events"] = db.read(selects["events"], progress, "user sessions")
        report.count("user_sessions", len(tables["events"]))
        notes.append(
            "Sentinel has no event log. Its user_sessions (people using the Sentinel dashboard, not"
            " agent sessions) are listed as events of type user_session; the event total is unknown."
        )
    return Telemetry(
        system=SYSTEM,
        tables=tables,
        source_tables={t: db.count(t) for t in _TABLES if t in db.catalog()},
        source_events=None,
        notes=notes,
        report=report.map(select_fields(selects)).assume("Times without a time zone are UTC."),
    )


def source_selects(db: Database) -> dict[str, sa.Select]:
    """The SELECTs Sentinel's tables are read with, in its own terms, labelled with model names.

    ``samples`` is performance_metrics as stored (one row per collection, every measure a
    column); ``configs`` the enabled monitoring configurations. Both are reshaped in DuckDB.
    """
    agents = db.table("ai_agents")
    perf = db.table("performance_metrics")
    selects: dict[str, sa.Select] = {
        "agents": sa.select(
            agents.c.name.label("agent"),
            agents.c.name.label("display_name"),
            sa.cast(optional_column(agents, "status"), sa.String).label("status"),
            optional_column(agents, "created_at").label("created_at"),
            optional_column(agents, "last_seen").label("last_seen_at"),
        ),
        "samples": sa.select(
            perf.c.timestamp.label("ts"),
            _agent_name(agents, perf.c.agent_id).label("agent"),
            *(_number(db, perf.c[c]).label(c) for c in _SERIES if c in perf.c),
            sa.cast(optional_column(perf, "custom_metrics"), sa.String).label("custom_metrics"),
        ).select_from(perf.outerjoin(agents, agents.c.agent_id == perf.c.agent_id)),
    }
    if db.has("monitoring_configuration", "agent_id", "alert_thresholds", "enabled"):
        configs = db.table("monitoring_configuration")
        selects["configs"] = (
            sa.select(
                _agent_name(agents, configs.c.agent_id).label("agent"),
                sa.cast(configs.c.alert_thresholds, sa.String).label("alert_thresholds"),
            )
            .select_from(configs.outerjoin(agents, agents.c.agent_id == configs.c.agent_id))
            .where(configs.c.enabled.is_(sa.true()))
        )
        selects["disabled_configs"] = (
            sa.select(sa.func.count()).select_from(configs).where(configs.c.enabled.is_not(sa.true()))
        )
    if db.has("user_sessions", "session_id", "created_at"):
        sessions = db.table("user_sessions")
        session = sa.cast(sessions.c.session_id, sa.String)
        selects["events"] = sa.select(
            session.label("event_id"),
            sessions.c.created_at.label("ts"),
            sa.null().label("agent"),
            session.label("session"),
            sa.literal("user_session").label("type"),
            sa.literal("dashboard").label("channel"),
        )
    return selects


def _agent_name(agents: sa.TableClause, agent_id: sa.ColumnElement) -> sa.ColumnElement:
    """The agent's name; for a row whose agent is gone (no foreign key in SQLite), its UUID."""
    return sa.func.coalesce(agents.c.name, sa.cast(agent_id, sa.String))


def _number(db: Database, column: sa.ColumnElement) -> sa.ColumnElement:
    """A numeric column as a float. PostgreSQL NUMERIC must be cast for ADBC; SQLite is not cast,
    as its CAST turns stray text into 0, and a bad value must stay missing, not become zero."""
    return column if db.dialect == "sqlite" else sa.cast(column, sa.Double)


def _numeric(samples: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """UTC times and float measures, so DuckDB sees one type per column on both engines; and how
    many recorded values were not numbers (SQLite keeps whatever text was written)."""
    samples["ts"] = to_utc(samples["ts"])
    not_numbers = 0
    for column in _SERIES:
        if column in samples.columns:
            numbers = pd.to_numeric(samples[column], errors="coerce").astype("float64")
            not_numbers += int((samples[column].notna() & numbers.isna()).sum())
            samples[column] = numbers
    samples["agent"] = samples["agent"].astype("string")
    samples["custom_metrics"] = samples["custom_metrics"].astype("string")
    return samples, not_numbers


def _metrics(samples: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The long metrics table from the wide samples, and how many custom values were skipped."""
    units = pd.DataFrame({"name": list(_SERIES), "unit": list(_SERIES.values())})
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.register("samples", samples)
        con.register("units", units)
        con.execute(_CLEAN)
        con.execute(_LEAVES)
        metrics = _frame(con, _METRICS)
        skipped = con.execute(_SKIPPED).fetchone()[0]
    return metrics, int(skipped)


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """A query's result through Arrow, text as pandas strings: ``.df()`` builds a Python object
    per string, 8x slower at millions of metric points."""
    table = con.sql(sql).to_arrow_table()
    return table.to_pandas(types_mapper=lambda t: pd.StringDtype() if pa.types.is_string(t) else None)


def _thresholds(
    db: Database, selects: dict[str, sa.Select], report: ReadingReport
) -> tuple[pd.DataFrame, list[str]]:
    """One row per (agent, metric, level) of the enabled configurations, and notes about the rest."""
    configs = db.read(selects["configs"])
    configs["agent"] = configs["agent"].astype("string")
    configs["alert_thresholds"] = configs["alert_thresholds"].astype("string")
    with duckdb.connect() as con:
        con.register("configs", configs)
        rows = _frame(con, _THRESHOLDS)
    notes = []
    disabled = int(db.read(selects["disabled_configs"]).iloc[0, 0])
    report.count("monitoring_configuration", len(configs) + disabled)
    report.skip(DISABLED, disabled)
    if disabled:
        notes.append(f"Disabled monitoring configurations, left out of the thresholds: {disabled:,}.")
    odd = int(rows["value"].isna().sum())
    report.skip(THRESHOLD_NOT_A_NUMBER, odd)
    if odd:
        notes.append(f"Alert thresholds that are not numbers, skipped: {odd:,}.")
    return rows.dropna(subset=["value"]), notes


def _one_row_per_name(agents: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One agent per name, the most recently seen; names are the key every other table uses.

    The data model makes names unique per deployment, but a SQLite copy may not enforce it.
    """
    shared = agents.loc[agents["agent"].duplicated(), "agent"].dropna().unique()
    if not len(shared):
        return agents, []
    order = to_utc(agents["last_seen_at"]).sort_values(na_position="first").index
    latest = agents.loc[order].drop_duplicates("agent", keep="last")
    named = ", ".join(map(str, shared[:3])) + ("..." if len(shared) > 3 else "")
    return latest, [
        f"Agent names used by more than one agent: {len(shared):,} ({named}). Their samples are"
        " shown together under the name."
    ]


ADAPTER = Adapter(
    system=SYSTEM,
    title="Sentinel AI",
    needs=_NEEDS,
    provides=frozenset({"agents", "metrics", "thresholds", "events"}),
    recognises=recognises,
    load=load,
    model_selects=model_selects,
    reading=reading_report,
    tables=_TABLES,
)
