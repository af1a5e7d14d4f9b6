"""Sentinel AI's tables as model tables in PostgreSQL's SQL: what pushdown runs inside the source.

The loader (``sentinel.load``) reads the same tables with dialect-neutral SELECTs and takes the
JSON apart in DuckDB, because a SQLite copy of the schema has no jsonb: ``custom_metrics`` and
``alert_thresholds`` are text there, and DuckDB's JSON functions are not PostgreSQL's. Here
the same rules are written with jsonb functions, so the two cannot share one statement;
``tests/test_pushdown.py`` holds them to the same frames and the same summary, reading report
included.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on

from data_layer.report import ReadingReport
from data_layer.sources import in_postgres as pg
from data_layer.sources.adapter import ModelSelect, optional_column, select_fields
from data_layer.sources.database import Database

# Why rows are left out: the loader's reading report and this one count the same reasons.
SAME_NAME = "ai_agents row whose name a more recently seen agent also has"
NOT_A_NUMBER = "performance_metrics value that is not a number"
CUSTOM_NOT_A_NUMBER = "custom_metrics value that is not a number"
DISABLED = "disabled monitoring configuration"
THRESHOLD_NOT_A_NUMBER = "alert threshold that is not a number"


def model_selects(db: Database) -> dict[str, ModelSelect]:
    """One SELECT per model table Sentinel fills, the loader's rules in PostgreSQL's SQL."""
    from data_layer.sources.sentinel import _SERIES, source_selects  # sentinel imports this module

    agents = db.table("ai_agents")
    source = source_selects(db)
    last_seen = optional_column(agents, "last_seen")
    selects: dict[str, ModelSelect] = {
        # One agent per name, the most recently seen (``sentinel._one_row_per_name``).
        "agents": source["agents"]
        .ext(distinct_on(agents.c.name))
        .order_by(agents.c.name, last_seen.desc().nulls_last()),
        "metrics": _metrics(db, [c for c in _SERIES if c in db.columns("performance_metrics")], _SERIES),
    }
    if "configs" in source:
        selects["thresholds"] = _thresholds(db)
    if "events" in source:
        selects["events"] = source["events"]
    return selects


def _samples(db: Database, series: list[str]) -> str:
    """performance_metrics with each sample's agent name and its custom_metrics as jsonb."""
    measures = "".join(f", p.{c}::float8 as {c}" for c in series)
    custom = pg.column(db, "performance_metrics", "p", "custom_metrics")
    return (
        f"select p.timestamp as ts, coalesce(a.name, p.agent_id::varchar) as agent{measures},"
        f" ({custom})::jsonb as custom"
        f" from {pg.table(db, 'performance_metrics')} p"
        f" left join {pg.table(db, 'ai_agents')} a on a.agent_id = p.agent_id"
    )


def _leaves(db: Database, series: list[str]) -> str:
    """Every leaf of custom_metrics, nested objects recursed with dotted names (custom.queue.depth)."""
    objects = "case when jsonb_typeof({0}) = 'object' then {0} else '{{}}'::jsonb end"
    return f"""
with recursive sample as ({_samples(db, series)}),
leaf(ts, agent, name, value) as (
    select s.ts, s.agent, 'custom.' || e.key, e.value
    from sample s, jsonb_each({objects.format("s.custom")}) e
    union all
    select l.ts, l.agent, l.name || '.' || e.key, e.value
    from leaf l, jsonb_each({objects.format("l.value")}) e
)"""


def _metrics(db: Database, series: list[str], units: dict[str, str]) -> sa.TextualSelect:
    """Each measure column a series (NULLs are no sample), then the numeric custom leaves."""
    parts = [
        f"select ts, agent, '{c}' as name, {c} as value, '{units[c]}' as unit from sample"
        f" where {c} is not null and {c} <> 'NaN'::float8"
        for c in series
    ]
    parts.append(
        "select ts, agent, name, (value #>> '{}')::float8 as value, null as unit from leaf"
        " where jsonb_typeof(value) = 'number'"
    )
    sql = _leaves(db, series) + "\n" + "\nunion all\n".join(parts)
    return pg.select(
        sql, ts=sa.DateTime(), agent=sa.String(), name=sa.String(), value=sa.Double(), unit=sa.String()
    )


def _levels(db: Database) -> str:
    """(agent, metric, level, value) of the enabled configurations: {"m": 500} is one threshold,
    {"m": {"warning": 500, "critical": 1000}} one per level."""
    objects = "case when jsonb_typeof({0}) = 'object' then {0} else '{{}}'::jsonb end"
    return f"""
with config as (
    select coalesce(a.name, c.agent_id::varchar) as agent, c.alert_thresholds::jsonb as t
    from {pg.table(db, "monitoring_configuration")} c
    left join {pg.table(db, "ai_agents")} a on a.agent_id = c.agent_id
    where c.enabled is true
),
entry as (
    select c.agent, e.key as metric, e.value from config c, jsonb_each({objects.format("c.t")}) e
),
level as (
    select agent, metric, 'threshold' as level, value from entry where jsonb_typeof(value) <> 'object'
    union all
    select n.agent, n.metric, l.key, l.value from entry n, jsonb_each({objects.format("n.value")}) l
)"""


def _thresholds(db: Database) -> sa.TextualSelect:
    sql = (
        _levels(db) + "\nselect agent, metric, level, (value #>> '{}')::float8 as value from level"
        " where jsonb_typeof(value) = 'number'"
    )
    return pg.select(sql, agent=sa.String(), metric=sa.String(), level=sa.String(), value=sa.Double())


def reading_report(db: Database, counts: dict[str, int]) -> ReadingReport:
    """The loader's reading report, counted in PostgreSQL: what each SELECT read and left out."""
    from data_layer.sources.sentinel import _SERIES, source_selects

    source = source_selects(db)
    series = [c for c in _SERIES if c in db.columns("performance_metrics")]

    def scalar(sql: str) -> int:
        with db.engine.connect() as con:
            return int(con.execute(sa.text(sql)).scalar() or 0)

    report = ReadingReport(read={t: counts[t] for t in ("ai_agents", "performance_metrics") if t in counts})
    agents = pg.table(db, "ai_agents")
    report.skip(
        SAME_NAME,
        scalar(f"select count(name) - count(distinct name) from {agents}"),
    )
    skipped = scalar(
        _leaves(db, series) + "\nselect (select count(*) from leaf where jsonb_typeof(value)"
        " not in ('number', 'null', 'object')) + (select count(*) from sample where"
        " jsonb_typeof(custom) not in ('object', 'null'))"
    )
    report.skip(CUSTOM_NOT_A_NUMBER, skipped)
    if "configs" in source:
        report.count("monitoring_configuration", counts.get("monitoring_configuration", 0))
        disabled = scalar(
            f"select count(*) from {pg.table(db, 'monitoring_configuration')} where enabled is not true"
        )
        report.skip(DISABLED, disabled)
        report.skip(
            THRESHOLD_NOT_A_NUMBER,
            scalar(
                _levels(db)
                + "\nselect count(*) from level where jsonb_typeof(value) not in ('number', 'null')"
            ),
        )
    if "events" in source:
        report.count("user_sessions", counts.get("user_sessions", 0))
    # performance_metrics' measures are cast to float8 in the source: every value is a number.
    return report.map(select_fields(source)).assume("Times without a time zone are UTC.")
