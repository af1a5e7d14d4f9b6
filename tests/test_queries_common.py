"""The building blocks every query shares, tested through the queries that use them: time
buckets, window edges (start inclusive, end exclusive), rollups plus raw edge hours, log bins."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from data_layer import queries
from data_layer.filters import Filters
from data_layer.queries._common import additive_rows
from data_layer.tables import MODEL
from tests import tiny
from tests.tiny import at

# Calls on both sides of every hour boundary the windows below cut, over two weeks; a day (2)
# whose calls fall in several hours, for both agents, in whole days of windows.
CALLS = [
    {"call_id": f"c{i}", "ts": ts, "agent": "a" if i % 3 else "b", "model": "m", "tokens_in": i + 1}
    for i, ts in enumerate(
        [
            at("00:00"), at("09:59:59"), at("10:00"), at("10:00:01"), at("10:29:59"), at("10:30"),
            at("10:59:59"), at("11:00"), at("11:30"), at("23:59:59"), at("00:00", day=1),
            at("12:00", day=5), at("23:59:59", day=6), at("00:00", day=7), at("08:00", day=9),
            at("01:00", day=2), at("01:30", day=2), at("13:15", day=2), at("22:00", day=2),
            at("22:10", day=2),
        ]
    )
]  # fmt: skip
WINDOWS = [
    Filters(start=at("10:00"), end=at("11:00")),  # exactly one whole hour
    Filters(start=at("10:00:01"), end=at("10:30")),  # inside one hour, end on a call
    Filters(start=at("10:30"), end=at("11:30")),  # two partial hours, no whole one
    Filters(start=at("09:59:59"), end=at("11:00:01")),  # a second either side of whole hours
    Filters(start=at("10:29:59"), end=at("00:00", day=7)),  # mid-hour start, whole-day end
    Filters(start=at("10:29:59")),  # open end
    Filters(end=at("10:30")),  # open start
    Filters(start=at("00:00", day=1), end=at("00:00", day=7)),  # whole days only
    Filters(start=at("10:00"), end=at("08:00", day=9)),  # whole hours of partial days, whole days
    Filters(start=at("10:29:59"), end=at("08:00:01", day=9)),  # mid-hour edges, whole hours and days
]
# Tool calls at the same times: their daily rollup is cut as the calls' is.
TOOLS = [
    {"call_id": f"t{i}", "ts": row["ts"], "agent": row["agent"], "tool": "search" if i % 2 else "fetch",
     "success": [True, False, None][i % 3]}
    for i, row in enumerate(CALLS)
]  # fmt: skip


@pytest.fixture(scope="module", params=tiny.BACKENDS)
def calls(request):
    return tiny.backend(request, llm_calls=CALLS, tool_calls=TOOLS)


@pytest.fixture(params=tiny.BACKENDS[1:])
def make(request):
    """Builds the test's rows on each backend in turn."""
    return lambda **tables: tiny.backend(request, **tables)


@pytest.mark.parametrize("f", WINDOWS)
def test_a_window_keeps_calls_from_its_start_up_to_but_not_including_its_end(calls, f):
    backend = calls
    rows = tiny.selected(tiny.frame(CALLS), f, fields={})
    got = queries.llm_usage(backend, f, by="agent")
    want = rows.groupby("agent")["tokens_in"].agg(["size", "sum"])
    assert dict(zip(got["agent"], zip(got["calls"], got["tokens_in"], strict=True), strict=True)) == {
        agent: (n, total) for agent, (n, total) in want.iterrows()
    }


def _bucket(ts: pd.Series, bucket: str) -> pd.Series:
    """Where each time's bucket starts, in plain pandas: weeks on Mondays."""
    if bucket == "week":
        return (ts.dt.floor("D") - pd.to_timedelta(ts.dt.day_of_week, unit="D")).rename("bucket")
    return ts.dt.floor({"hour": "h", "day": "D"}[bucket]).rename("bucket")


@pytest.mark.parametrize("f", WINDOWS)
@pytest.mark.parametrize("bucket", ["day", "week"])
def test_day_and_week_buckets_of_a_window_count_its_raw_rows(calls, f, bucket):
    """Whole days from the daily rollups, whole hours from the hourly ones, the rest from the
    raw rows: per bucket and agent, exactly the calls, tokens and failures of the window's rows."""
    rows = tiny.selected(tiny.frame(CALLS), f, fields={})
    keys = [_bucket(pd.to_datetime(rows["ts"], utc=True), bucket), rows["agent"]]
    want = rows.groupby(keys)["tokens_in"].agg(["size", "sum"])
    got = queries.llm_usage(calls, f, bucket=bucket, by="agent")
    assert list(zip(got["bucket"], got["agent"], got["calls"], got["tokens_in"], strict=True)) == [
        (*key, n, total) for key, (n, total) in want.iterrows()
    ]
    tools = tiny.selected(tiny.frame(TOOLS), f, fields={})
    keys = [_bucket(pd.to_datetime(tools["ts"], utc=True), bucket), tools["agent"]]
    want = tools.assign(failed=tools["success"] == False).groupby(keys)["failed"].agg(["size", "sum"])  # noqa: E712
    got = queries.tool_usage(calls, f, bucket=bucket, by="agent")
    assert list(zip(got["bucket"], got["agent"], got["calls"], got["failures"], strict=True)) == [
        (*key, n, failed) for key, (n, failed) in want.iterrows()
    ]


def _parts(f: Filters, grain: str) -> list[tuple[str, int]]:
    """Each part of ``additive_rows``'s union: the table it reads and how many time ranges
    (ORed in its WHERE; 0 for no time term at all)."""
    backend = SimpleNamespace(has_rollups=True)
    rows = additive_rows(backend, MODEL["llm_calls"], {"calls": sa.literal(1)}, ("agent",), f, grain=grain)
    selects = rows.element.selects if isinstance(rows.element, sa.CompoundSelect) else [rows.element]
    parts = []
    for select in selects:
        (table,) = sa.sql.util.find_tables(select)
        where = str(select.whereclause) if select.whereclause is not None else ""
        parts.append(
            (table.name, where.count(" OR ") + 1 if re.search(r"\.(ts|hour|day) [<>]", where) else 0)
        )
    return parts


RAW, HOURLY, DAILY = "llm_calls", "llm_calls_hourly", "llm_calls_daily"


@pytest.mark.parametrize(
    ("f", "grain", "parts"),
    [
        (WINDOWS[7], "day", [(DAILY, 1)]),  # whole days: one part
        (WINDOWS[7], "hour", [(HOURLY, 1)]),
        (WINDOWS[8], "day", [(HOURLY, 2), (DAILY, 1)]),  # the hours either side of the days, one scan
        (WINDOWS[9], "day", [(RAW, 2), (HOURLY, 2), (DAILY, 1)]),
        (WINDOWS[9], "hour", [(RAW, 2), (HOURLY, 1)]),
        (WINDOWS[4], "day", [(RAW, 1), (HOURLY, 1), (DAILY, 1)]),  # ends on a day
        (WINDOWS[0], "day", [(HOURLY, 1)]),  # whole hours, no whole day
        (WINDOWS[1], "day", [(RAW, 1)]),  # inside one hour
        (WINDOWS[5], "day", [(RAW, 1), (HOURLY, 1), (DAILY, 1)]),  # open end
        (Filters(), "day", [(DAILY, 0)]),
        (Filters(sessions=("s1",), start=at("00:00", day=1)), "day", [(RAW, 1)]),  # no session in rollups
    ],
)
def test_a_range_is_read_from_the_coarsest_rollup_that_holds_its_whole_units(f, grain, parts):
    assert _parts(f, grain) == parts


@pytest.mark.parametrize("bucket", ["hour", "day", "week"])
def test_buckets_start_on_the_hour_the_day_and_the_monday(calls, bucket):
    backend = calls
    want = _bucket(pd.to_datetime(tiny.frame(CALLS)["ts"], utc=True), bucket).value_counts().sort_index()
    got = queries.llm_usage(backend, Filters(), bucket=bucket)
    assert dict(zip(got["bucket"], got["calls"], strict=True)) == want.to_dict()


def test_an_unknown_bucket_is_refused():
    with pytest.raises(ValueError, match="bucket must be one of"):
        queries.llm_usage(tiny.store(llm_calls=CALLS), Filters(), bucket="minute; drop table x")


# Values at and next to bin edges (1000 is where a bin starts, in every database), zero, and
# values a histogram leaves out: negative and missing.
LATENCIES = [0.0, 0.0, 0.001, 1.0, 1.0, 9.999, 10.0, 10.001, 999.999, 1000.0, 1000.0, 1e6, -4.0, None]


def _log_bins(values: list, k: int) -> list[tuple[float, float, int]]:
    """Bins recomputed with numpy: bin i holds [10^(i/k), 10^((i+1)/k)), zero a bin of its own."""
    bins: dict[float, list] = {}
    for v in values:
        if v is None or v < 0:
            continue
        if v == 0:
            bins.setdefault(-np.inf, [0.0, 0.0, 0])[2] += 1
        else:
            i = int(np.floor(np.log10(v) * k + 1e-9))
            bins.setdefault(i, [10 ** (i / k), 10 ** ((i + 1) / k), 0])[2] += 1
    return [tuple(bins[i]) for i in sorted(bins)]


@pytest.mark.parametrize("k", [1, 4, 8])
def test_log_bins_hold_each_value_once_with_zero_apart_and_negatives_left_out(make, k):
    rows = [{"call_id": f"c{i}", "ts": at("10:00"), "latency_ms": v} for i, v in enumerate(LATENCIES)]
    got = queries.llm_histogram(make(llm_calls=rows), Filters(), bins_per_decade=k)
    want = _log_bins(LATENCIES, k)
    assert [(pytest.approx(a), pytest.approx(b), n) for a, b, n in want] == list(
        got[["bin_start", "bin_end", "count"]].itertuples(index=False, name=None)
    )
    assert got["count"].sum() == sum(1 for v in LATENCIES if v is not None and v >= 0)


def test_a_decade_boundary_starts_its_bin(make):
    rows = [{"call_id": "x", "ts": at("10:00"), "tokens_in": 1000}]
    got = queries.llm_histogram(make(llm_calls=rows), Filters(), measure="tokens_in", bins_per_decade=8)
    assert got[["bin_start", "count"]].values.tolist() == [[pytest.approx(1000.0), 1]]


def test_log_bins_follow_the_filter():
    rows = [{"call_id": f"c{i}", "ts": at(t), "agent": a, "latency_ms": 5.0} for i, (t, a) in
            enumerate([("09:00", "a"), ("10:00", "a"), ("10:00", "b")])]  # fmt: skip
    backend = tiny.store(llm_calls=rows)
    got = queries.llm_histogram(backend, Filters(start=at("09:30"), agents=("a",)))
    assert got["count"].tolist() == [1]


def test_a_histogram_of_an_unknown_measure_is_refused():
    with pytest.raises(ValueError, match="measure must be one of"):
        queries.llm_histogram(tiny.store(llm_calls=CALLS), Filters(), measure="prompt")
