"""Tasks: completions over time (velocity), status funnel and cycle times."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from data_layer.filters import Filters
from data_layer.queries._common import (
    bucket_expr,
    conditions,
    dimension,
    grouped,
    log_histogram,
    percentiles,
    raw_rows,
    run_sets,
    time_terms,
)
from data_layer.tables import MODEL

if TYPE_CHECKING:
    from data_layer.backend import Backend


def tasks_completed(
    backend: Backend, filters: Filters, *, bucket: str = "day", by: str | None = None
) -> pd.DataFrame:
    """One row per (bucket, by) with a completion: tasks whose status is completed, by completed_at."""
    dimension(MODEL["tasks"], by, ("agent", "type"))  # an unknown ``by`` is an error, not ignored
    return tasks_completed_sets(backend, filters, [("bucket", by) if by else ("bucket",)], bucket=bucket)[0]


def tasks_completed_sets(
    backend: Backend,
    filters: Filters,
    sets: list[tuple[str, ...]],
    *,
    bucket: str = "day",
    previous: Filters | None = None,
) -> list[pd.DataFrame]:
    """``tasks_completed`` for several groupings in one statement: one frame per set of keys
    (``bucket``, ``day``, ``agent``, ``type``; ``period`` too with ``previous``, the period
    before the filter's: 0 for the filter's own completions, 1 for the previous period's)."""
    source, where = raw_rows(MODEL["tasks"], filters, previous, time="completed_at")
    keys = {"period": source.c.period} if previous is not None else {}
    keys |= {
        "bucket": bucket_expr(source.c.completed_at, bucket),
        "day": bucket_expr(source.c.completed_at, "day"),
        "agent": source.c.agent,
        "type": source.c.type,
    }
    where = [source.c.status == "completed", source.c.completed_at.is_not(None), *where]
    measures = [sa.cast(sa.func.count(), sa.BigInteger).label("completed")]
    return run_sets(backend, keys, measures, sets, source=source, where=where)


def task_statuses(backend: Backend, filters: Filters, *, by: str | None = None) -> pd.DataFrame:
    """One row per (by, status): tasks first seen in the period, and how many of them started.

    A task is "in the period" by its creation time, or its start or finish when the source did
    not record a creation time.
    """
    tasks = MODEL["tasks"]
    seen = sa.func.coalesce(tasks.c.created_at, tasks.c.started_at, tasks.c.completed_at)
    keys = [*dimension(tasks, by, ("agent", "type")), tasks.c.status]
    stmt = (
        sa.select(
            *keys,
            sa.cast(sa.func.count(), sa.BigInteger).label("tasks"),
            sa.cast(sa.func.count(tasks.c.started_at), sa.BigInteger).label("started"),
        )
        .select_from(tasks)
        .where(*conditions(tasks, filters, time=None), *time_terms(seen, filters))
    )
    return backend.run(grouped(stmt, keys))


def cycle_times(backend: Backend, filters: Filters, *, by: str | None = None) -> pd.DataFrame:
    """One row per (by): completed tasks with a start and a finish, and p50/p95/p99 cycle time in hours.

    Cycle time runs from started_at (else created_at) to completed_at. A task marked completed
    without a completed_at has no cycle time and is left out, so ``tasks`` counts exactly the
    values the percentiles are taken over, whether or not the period is bounded.
    """
    tasks = MODEL["tasks"]
    begin = sa.func.coalesce(tasks.c.started_at, tasks.c.created_at)
    hours = sa.func.date_part(sa.literal_column("'epoch'"), tasks.c.completed_at - begin) / 3600.0
    keys = dimension(tasks, by, ("agent", "type"))
    stmt = (
        sa.select(
            *keys,
            sa.cast(sa.func.count(), sa.BigInteger).label("tasks"),
            *percentiles(hours),
        )
        .select_from(tasks)
        .where(
            tasks.c.status == "completed",
            begin.is_not(None),
            tasks.c.completed_at.is_not(None),
            *conditions(tasks, filters, time="completed_at"),
        )
    )
    return backend.run(grouped(stmt, keys))


def cycle_time_histogram(backend: Backend, filters: Filters, *, bins_per_decade: int = 4) -> pd.DataFrame:
    """One row per logarithmic bin of cycle time in hours: bin_start, bin_end, completed tasks."""
    tasks = MODEL["tasks"]
    begin = sa.func.coalesce(tasks.c.started_at, tasks.c.created_at)
    hours = sa.func.date_part(sa.literal_column("'epoch'"), tasks.c.completed_at - begin) / 3600.0
    where = [tasks.c.status == "completed", begin.is_not(None)]
    where += conditions(tasks, filters, time="completed_at")
    return backend.run(log_histogram(hours, where=where, bins_per_decade=bins_per_decade, source=tasks))


FUNNEL_STAGES = ("created", "started", "completed", "failed", "blocked")


def task_funnel(backend: Backend, filters: Filters) -> pd.DataFrame:
    """One row per funnel stage (created → started → completed / failed / blocked): tasks.

    "created" counts every task first seen in the period, "started" those with a start time,
    and the last three the tasks whose current status is that.
    """
    statuses = task_statuses(backend, filters)
    by_status = statuses.groupby("status")["tasks"].sum()
    counts = [int(statuses["tasks"].sum()), int(statuses["started"].sum())]
    counts += [int(by_status.get(s, 0)) for s in FUNNEL_STAGES[2:]]
    return pd.DataFrame({"stage": FUNNEL_STAGES, "tasks": counts})
