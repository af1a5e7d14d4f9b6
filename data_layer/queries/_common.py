"""Building blocks every query shares: filter terms, time buckets, rollup-or-raw rows, percentiles.

Statements are SQLAlchemy Core over the model tables in ``data_layer.tables``. A *backend*
(``data_layer.backend.Backend``: the DuckDB ``Store``, or a pushdown connection to a PostgreSQL
source) compiles and runs them and returns pandas frames whose times are UTC-aware and whose
integer columns are nullable ints.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from data_layer.filters import Filters
from data_layer.model import BULKY
from data_layer.tables import ROLLUPS, ROLLUPS_OF

if TYPE_CHECKING:
    import pandas as pd

    from data_layer.backend import Backend

BUCKETS = ("hour", "day", "week")
PERCENTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


# Filter field -> (column, the only tables it applies to; None for every table with the column).
_FILTER_COLUMNS: dict[str, tuple[str, frozenset[str] | None]] = {
    "agents": ("agent", None),
    "models": ("model", None),
    "sessions": ("session", None),
    "tools": ("tool", None),
    "severities": ("severity", frozenset({"alerts"})),
    "event_types": ("type", frozenset({"events"})),
}


def _applies(field: str, table: sa.TableClause) -> bool:
    column, only = _FILTER_COLUMNS[field]
    base = table.name.removesuffix("_hourly").removesuffix("_daily")
    return column in table.c and (only is None or base in only)


def conditions(
    table: sa.TableClause, filters: Filters, time: str | None = "ts", skip: tuple[str, ...] = ()
) -> list[sa.ColumnElement[bool]]:
    """WHERE terms for every filter field whose column this table has."""
    terms: list[sa.ColumnElement[bool]] = []
    for field, (column, _only) in _FILTER_COLUMNS.items():
        values = getattr(filters, field)
        if values and field not in skip and _applies(field, table):
            terms.append(table.c[column].in_(values))
    if time is not None:
        start, end = filters.naive_bounds()
        if start is not None:
            terms.append(table.c[time] >= start)
        if end is not None:
            terms.append(table.c[time] < end)
    return terms


def bucket_expr(column: sa.ColumnElement, bucket: str) -> sa.ColumnElement:
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}, got {bucket!r}")
    return sa.func.date_trunc(sa.literal_column(f"'{bucket}'"), column, type_=sa.DateTime)


def dimension(table: sa.TableClause | sa.Subquery, by: str | None, allowed: tuple[str, ...]) -> list:
    if by is None:
        return []
    if by not in allowed:
        raise ValueError(f"cannot group by {by!r}; choose one of {allowed}")
    return [table.c[by]]


_UNITS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
GRAINS = tuple(_UNITS)


def _floor(t: datetime, grain: str) -> datetime:
    hour = 0 if grain == "day" else t.hour
    return t.replace(hour=hour, minute=0, second=0, microsecond=0)


def _ceil(t: datetime, grain: str) -> datetime:
    floor = _floor(t, grain)
    return floor if floor == t else floor + _UNITS[grain]


Span = tuple[str | None, datetime | None, datetime | None]


def _spans(start: datetime | None, end: datetime | None, grains: tuple[str, ...]) -> list[Span]:
    """[start, end) cut into (grain, from, to) spans, each of the coarsest of ``grains`` (finest
    first) whose whole units it holds; grain None is a span of raw rows. Only non-empty spans:
    a range on whole days is one span of days, one on whole hours no raw span."""
    if not grains:
        return [(None, start, end)]
    grain, finer = grains[-1], grains[:-1]
    first = None if start is None else _ceil(start, grain)
    last = None if end is None else _floor(end, grain)
    if first is not None and last is not None and first >= last:  # no whole unit inside
        return _spans(start, end, finer)
    head = _spans(start, first, finer) if start is not None and start < first else []
    tail = _spans(last, end, finer) if end is not None and last < end else []
    return [*head, (grain, first, last), *tail]


def additive_rows(
    backend: Backend,
    raw: sa.TableClause,
    measures: dict[str, sa.ColumnElement],
    dims: tuple[str, ...],
    filters: Filters,
    *,
    grain: str,
) -> sa.Subquery:
    """Rows shaped like a rollup (ts, dims..., measures...) covering exactly the filtered range.

    ``grain`` is the finest time unit a grouping of the rows needs: "hour" when one buckets by
    hour, else "day" (buckets by day or week, or none). Whole days then come from the daily
    rollup, whole hours (of partial days) from the hourly one, partial hours from the raw rows:
    at a million calls a day's rollup rows are ~20x fewer than its hours'. Everything comes
    from the raw rows when a filter names a column the rollups do not keep (sessions). Each
    table is read once, its ranges at both edges of the window in one scan: a part more in the
    union costs ~2 ms of planning, and the raw rows' part a scan.
    """
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}, got {grain!r}")
    hourly, daily = (ROLLUPS[name] for name in ROLLUPS_OF[raw.name])
    uses_rollup = backend.has_rollups and not any(
        getattr(filters, field) and _applies(field, raw) and not _applies(field, hourly)
        for field in _FILTER_COLUMNS
    )
    grains = GRAINS[: GRAINS.index(grain) + 1] if uses_rollup else ()
    tables = {None: raw, "hour": hourly, "day": daily}
    within: dict[str | None, list] = {}  # per table, the time ranges read from it
    for unit, low, high in _spans(*filters.naive_bounds(), grains):
        time = tables[unit].c[unit or "ts"]
        within.setdefault(unit, []).append(sa.and_(sa.true(), *_between(time, low, high)))
    bounded = filters.start is not None or filters.end is not None
    parts = []
    for unit, ranges in within.items():  # one part per table: the two edges of a range in one scan
        table = tables[unit]
        values = [table.c[n] for n in measures] if unit else [e.label(n) for n, e in measures.items()]
        where = [*conditions(table, filters, time=None), *([sa.or_(*ranges)] if bounded else [])]
        parts.append(
            sa.select(table.c[unit or "ts"].label("ts"), *(table.c[d] for d in dims), *values).where(*where)
        )
    return sa.union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


def _between(column: sa.ColumnElement, low: datetime | None, high: datetime | None) -> list:
    """``low <= column < high``, either bound left out when None."""
    return [
        t
        for t in (None if low is None else column >= low, None if high is None else column < high)
        if t is not None
    ]


def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement:
    return sa.case((condition, 1), else_=0)


def sum_of(
    column: sa.ColumnElement, *, integer: bool, where: sa.ColumnElement[bool] | None = None
) -> sa.ColumnElement:
    total = sa.func.sum(column)
    if where is not None:
        total = total.filter(where)
    return sa.cast(total, sa.BigInteger if integer else sa.Double)


def grouped(stmt: sa.Select, keys: list) -> sa.Select:
    return stmt.group_by(*keys).order_by(*keys) if keys else stmt


def percentiles(column: sa.ColumnElement) -> list:
    """p50, p95 and p99 of ``column``, exact, from one aggregate: ``percentile_cont`` of an array
    sorts each group once where three calls sorted it three times (2.4x less CPU in DuckDB at a
    million rows). The three labelled elements are the same aggregate, which DuckDB and
    PostgreSQL both compute once."""
    fractions = ", ".join(str(q) for q in PERCENTILES.values())
    array = sa.func.percentile_cont(sa.literal_column(f"ARRAY[{fractions}]")).within_group(column)
    values = sa.type_coerce(sa.Grouping(array), postgresql.ARRAY(sa.Double))
    return [values[sa.literal_column(str(i))].label(name) for i, name in enumerate(PERCENTILES, start=1)]


def time_terms(column: sa.ColumnElement, filters: Filters) -> list:
    start, end = filters.naive_bounds()
    return [t for t in (column >= start if start else None, column < end if end else None) if t is not None]


def log_histogram(
    values: sa.ColumnElement, *, where: list, bins_per_decade: int = 8, source: sa.FromClause
) -> sa.Select:
    """Counts per logarithmic bin of a positive measure: one row per non-empty bin.

    Log bins keep both the bulk and the long tail of token counts, latencies and cycle times
    readable in one chart, in a few dozen rows whatever the number of calls. Zero values get a
    bin of their own (bin_start = bin_end = 0); negative and missing values are left out.
    """
    k = sa.literal(bins_per_decade, literal_execute=True)
    # log10, and a nudge of 1e-9 so that 1000 lands in the bin starting at 1000 in every
    # database, whatever its last bit of rounding. The bin is an integer, and orders the bins:
    # grouped by a double and ordered by each bin's smallest value (a min over every call), the
    # statement took 1.2-1.6 times as long at ten million calls (latency over all of them: 177
    # against 128 ms). A bin's values all lie above the previous bin's: the order is the same.
    floor = sa.func.floor(sa.func.log10(values) * k + sa.literal(1e-9, literal_execute=True))
    index = sa.case((values == 0, sa.literal(None)), else_=sa.cast(floor, sa.Integer)).label("bin")
    inner = sa.select(index).select_from(source).where(*where, values >= 0).subquery()
    exponent = sa.cast(inner.c.bin, sa.Double)  # the edges computed as they were from a double
    start = sa.case((inner.c.bin.is_(None), 0.0), else_=sa.func.power(10.0, exponent / k))
    end = sa.case((inner.c.bin.is_(None), 0.0), else_=sa.func.power(10.0, (exponent + 1) / k))
    return (
        sa.select(
            sa.cast(start, sa.Double).label("bin_start"),
            sa.cast(end, sa.Double).label("bin_end"),
            sa.cast(sa.func.count(), sa.BigInteger).label("count"),
        )
        .group_by(inner.c.bin)
        .order_by(inner.c.bin.nulls_first())
    )


def run_sets(
    backend: Backend,
    keys: dict[str, sa.ColumnElement],
    measures: list[sa.ColumnElement],
    sets: list[tuple[str, ...]],
    *,
    source: sa.FromClause,
    where: tuple | list = (),
) -> list[pd.DataFrame]:
    """One frame per grouping set of ``keys`` (names, in ``keys`` order), all from one statement.

    Each statement costs a round trip and a fixed ~1-3 ms whatever its size, so figures that
    aggregate the same rows by different keys share one ``GROUP BY GROUPING SETS``. Each frame
    is what ``GROUP BY`` that set alone gives: its keys then the measures, ordered by its keys.
    ``GROUPING()`` tells a set's rows apart, so a key that is NULL in the data stays its own group.
    One set is sent as a plain ``GROUP BY`` (or none, for the empty set).
    """
    wanted = [tuple(k for k in keys if k in s) for s in sets]
    sets = list(dict.fromkeys(wanted))  # a set asked for twice is grouped once
    names = [k for k in keys if any(k in s for s in sets)]
    labeled = [keys[k].label(k) for k in names]
    if len(sets) == 1:
        stmt = sa.select(*labeled, *measures).select_from(source).where(*where)
        frame = backend.run(grouped(stmt, labeled))
        return [frame, *(frame.copy() for _ in wanted[1:])]
    flag = sa.func.grouping(*(keys[k] for k in names)).label("grouping_set")
    groups = sa.func.grouping_sets(*(sa.tuple_(*(keys[k] for k in s)) for s in sets))
    stmt = sa.select(*labeled, *measures, flag).select_from(source).where(*where)
    frame = backend.run(stmt.group_by(groups).order_by(flag, *labeled))
    columns = [m.name for m in measures]
    frames = []
    for s in wanted:
        bits = sum(1 << (len(names) - 1 - i) for i, k in enumerate(names) if k not in s)
        part = frame.loc[frame["grouping_set"] == bits, [*s, *columns]]
        frames.append(part.reset_index(drop=True))
    return frames


def tagged(parts: list[sa.Subquery]) -> sa.Subquery:
    """The rows of each part with its index as ``period`` (0 the first): rows of two periods
    aggregated in one statement, each rollup hour kept inside the period it was read for."""
    return sa.union_all(
        *(sa.select(sa.literal_column(str(i), sa.Integer).label("period"), *p.c) for i, p in enumerate(parts))
    ).subquery()


def raw_rows(
    table: sa.TableClause, filters: Filters, previous: Filters | None = None, time: str = "ts"
) -> tuple[sa.FromClause, list]:
    """FROM and WHERE for a table's raw rows in the filter; with ``previous`` (the period just
    before), the rows of both periods with a ``period`` column, 0 for the filter's own."""
    if previous is None:
        return table, conditions(table, filters, time=time)
    start, _end = filters.naive_bounds()
    period = sa.case((table.c[time] >= start, 0), else_=1).label("period")
    both = replace(filters, start=previous.start)
    kept = (c for c in table.c if c.name not in BULKY)  # what aggregates read: no prompt text
    return sa.select(*kept, period).where(*conditions(table, both, time=time)).subquery(), []
