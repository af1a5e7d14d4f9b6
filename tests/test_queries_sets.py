"""Figures read together in one statement are the figures read one statement each.

The pages ask for several groupings of the same rows at once (``*_sets``: GROUP BY GROUPING SETS,
over the filter's period and the one before it) to save round trips. Each frame they hand back
must be exactly the frame of the single-grouping function, whose own tests check it against
pandas: same columns, dtypes, rows and order, on DuckDB (rollups and raw rows) and PostgreSQL.
"""

from __future__ import annotations

import pandas as pd
import pytest

from data_layer import queries
from data_layer.filters import Filters
from data_layer.queries.overview import USAGE as OVERVIEW_USAGE
from tests import tiny
from tests.test_queries_llm import TINY_CALLS, TINY_TOOLS
from tests.test_queries_security import ALERTS
from tests.test_queries_tasks import TASKS
from tests.tiny import at

FILTERS = [
    Filters(start=at("09:30"), end=at("12:00")),  # edges mid-hour; the previous period too
    Filters(start=at("10:00"), end=at("13:00", day=1)),  # whole hours
    Filters(start=at("10:10"), end=at("10:40")),  # inside one hour
    Filters(start=at("00:00", day=1), end=at("00:00", day=2)),  # a whole day; the one before too
    Filters(start=at("21:00", day=-1), end=at("14:00", day=1)),  # a whole day between whole hours
    Filters(start=at("09:30", day=-1), end=at("13:20:30", day=1)),  # and partial hours, on a call
    Filters(agents=("a",), start=at("09:00"), end=at("11:00")),
    Filters(sessions=("s2", "s3"), start=at("10:15"), end=at("12:30")),  # raw rows only
    Filters(agents=("nobody",), start=at("09:00"), end=at("12:00")),  # nothing in either period
    Filters(),  # unbounded: no previous period
]


@pytest.fixture(scope="module", params=tiny.BACKENDS)
def backend(request):
    return tiny.backend(request, llm_calls=TINY_CALLS, tool_calls=TINY_TOOLS, tasks=TASKS, alerts=ALERTS)


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Equal frames, dtypes and all, but for text: a PostgreSQL text column is ``object`` or
    ``str`` depending on whether any value in the result is a string, whatever the figures."""
    if got.empty and want.empty:  # no rows: dtypes are whatever a driver makes of nothing
        assert list(got.columns) == list(want.columns)
        return
    text = {c: object for c in got.columns if pd.api.types.is_string_dtype(got[c])}
    text |= {c: object for c in want.columns if pd.api.types.is_string_dtype(want[c])}
    pd.testing.assert_frame_equal(got.astype(text), want.astype(text), check_exact=True)


def _periods(f: Filters) -> list[tuple[Filters, tuple[str, ...]]]:
    """(the period's filter, the key that picks its rows): without a previous period, no key."""
    before = f.previous_period()
    return [(f, ())] if before is None else [(f, ("period",)), (before, ("period",))]


def _pick(frame: pd.DataFrame, period: int | None) -> pd.DataFrame:
    if period is None:
        return frame
    return frame[frame["period"] == period].drop(columns="period").reset_index(drop=True)


def _check(sets_of, single, groupings: list[tuple[str | None, str | None]], f, backend, **kw) -> None:
    """Each (bucket, by) of ``sets_of`` over both periods is ``single`` over each period alone."""
    before = f.previous_period()
    tag = () if before is None else ("period",)
    sets = [
        (*tag, *(k for k in ("bucket", by) if (k == "bucket" and bucket) or (k == by and by)))
        for bucket, by in groupings
    ]
    for bucket in {b for b, _ in groupings if b} or {"day"}:
        got = sets_of(backend, f, sets, bucket=bucket, previous=before, **kw)
        for frame, (b, by) in zip(got, groupings, strict=True):
            if b not in (None, bucket):
                continue
            for i, (period, _key) in enumerate(_periods(f)):
                mine, want = _pick(frame, i if before else None), single(backend, period, bucket=b, by=by)
                if mine.empty and before and not (b or by):
                    # A period without rows has no group of its own; alone it totals one row of 0.
                    assert len(want) == 1 and want.iloc[0, 0] == 0
                else:
                    _same(mine, want)


GROUPINGS = [
    (None, None),
    (None, "agent"),
    (None, "model"),
    ("hour", None),
    ("hour", "model"),
    ("day", "status"),
]


@pytest.mark.parametrize("f", FILTERS)
def test_llm_usage_sets_are_llm_usage_of_each_grouping_and_period(backend, f):
    _check(queries.llm_usage_sets, queries.llm_usage, GROUPINGS, f, backend)


SOME_COLUMNS = [["calls"], ["cost_usd", "calls"], ["latency_ms_mean", "tokens_out", "errors"]]


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("columns", SOME_COLUMNS)
def test_llm_usage_of_some_columns_is_those_columns_of_the_whole_frame(backend, f, columns):
    for by in (None, "agent"):
        whole = queries.llm_usage(backend, f, bucket="day", by=by)
        keys = [k for k in ("bucket", by) if k]
        want = whole[keys + [c for c in queries.USAGE_COLUMNS if c in columns]]
        _same(queries.llm_usage(backend, f, bucket="day", by=by, columns=columns), want)


def test_llm_usage_names_a_measure_it_does_not_have(backend):
    with pytest.raises(ValueError, match="no such measure"):
        queries.llm_usage(backend, FILTERS[0], columns=["calls", "cost"])


@pytest.mark.parametrize("f", FILTERS)
def test_latency_sets_are_llm_and_tool_latency_of_each_grouping_and_period(backend, f):
    _check(queries.latency_sets, queries.llm_latency, GROUPINGS, f, backend)
    tools = [(None, None), (None, "tool"), ("hour", None)]
    _check(queries.latency_sets, queries.tool_latency, tools, f, backend, table="tool_calls")


@pytest.mark.parametrize("f", FILTERS)
def test_tool_usage_sets_are_tool_usage_of_each_grouping_and_period(backend, f):
    _check(
        queries.tool_usage_sets,
        queries.tool_usage,
        [(None, None), (None, "tool"), ("hour", "agent")],
        f,
        backend,
    )


@pytest.mark.parametrize("f", FILTERS)
def test_tasks_completed_sets_are_tasks_completed_of_each_grouping_and_period(backend, f):
    def single(b, period, *, bucket, by):
        return queries.tasks_completed(b, period, bucket=bucket, by=by)

    _check(
        queries.tasks_completed_sets,
        single,
        [("hour", None), ("hour", "agent"), ("hour", "type")],
        f,
        backend,
    )


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("open_only", [False, True])
def test_alert_sets_are_alert_counts_of_each_grouping_and_period(backend, f, open_only):
    def sets_of(b, f, sets, **kw):
        frames = queries.alert_sets(b, f, sets, **kw)
        return [queries.only_open(x) if open_only else x.drop(columns="open_alerts") for x in frames]

    def single(b, period, *, bucket, by):
        return queries.alert_counts(b, period, bucket=bucket, by=by, open_only=open_only)

    groupings = [("hour", "severity"), (None, "type"), (None, "status"), (None, "agent"), ("hour", None)]
    _check(sets_of, single, groupings, f, backend)


@pytest.mark.parametrize("f", FILTERS)
def test_open_alerts_by_severity_is_only_open_of_alert_sets(backend, f):
    (by_severity,) = queries.alert_sets(backend, f, [("severity",)])
    _same(queries.only_open(by_severity), queries.open_alerts_by_severity(backend, f))


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("bucket", ["hour", "day"])
def test_the_overview_shows_the_single_queries_frames(backend, f, bucket):
    view = queries.overview(backend, f, bucket=bucket)
    for frame, by in ((view.usage_by_model, "model"), (view.cost_by_source, "cost_source")):
        _same(frame, queries.llm_usage(backend, f, bucket=bucket, by=by, columns=OVERVIEW_USAGE))
    _same(view.latency, queries.llm_latency(backend, f, bucket=bucket))
    _same(view.tasks_by_agent, queries.tasks_completed(backend, f, bucket="day", by="agent"))
    _same(view.alerts_by_severity, queries.alert_counts(backend, f, bucket="day", by="severity"))
    assert view.change == queries.what_changed(backend, f)


def test_the_overview_reads_only_the_tables_asked_for(backend):
    f = FILTERS[0]
    view = queries.overview(backend, f, tables=["llm_calls"])
    assert set(view.kpis["table"]) == {"llm_calls"}
    everything = queries.overview_kpis(backend, f)
    _same(view.kpis, everything[everything["table"] == "llm_calls"].reset_index(drop=True))
    assert view.tasks_by_agent is None and view.alerts_by_severity is None
    llm = (
        "llm_calls",
        "tokens_in",
        "tokens_out",
        "cost_recorded_usd",
        "cost_estimated_usd",
        "latency_p95_ms",
    )
    assert set(view.trends) == set(llm)


def test_no_breaches_has_the_columns_of_threshold_breaches(backend):
    assert list(queries.no_breaches().columns) == list(queries.threshold_breaches(backend, Filters()).columns)
