"""Query functions: exact against pandas on the same rows, whatever the filter and the rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from data_layer import queries
from data_layer.filters import Filters
from data_layer.model import Telemetry
from data_layer.store import SourceInfo, Store

START = datetime(2025, 1, 6, tzinfo=UTC)


def _calls(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = START + pd.to_timedelta(np.sort(rng.uniform(0, 10 * 24 * 3600, n)), unit="s")
    tokens_in = rng.integers(1, 5000, n).astype("float")
    tokens_in[::17] = np.nan
    cost = rng.uniform(0.0001, 0.3, n)
    cost[::5] = np.nan
    latency = rng.lognormal(7, 1, n)
    latency[::13] = np.nan
    return pd.DataFrame(
        {
            "call_id": [f"c{i}" for i in range(n)],
            "ts": ts,
            "agent": rng.choice(["a", "b", "c"], n),
            "session": [f"s{i // 20}" for i in range(n)],
            "model": rng.choice(["gpt-4o", "gpt-4o-mini", "in-house-llm"], n),
            "tokens_in": tokens_in,
            "tokens_out": rng.integers(1, 900, n),
            "cost_usd": cost,
            "latency_ms": latency,
            "status": np.where(rng.uniform(size=n) < 0.05, "error", "ok"),
        }
    )


@pytest.fixture(scope="module")
def calls() -> pd.DataFrame:
    return _calls()


@pytest.fixture(scope="module")
def store(calls) -> Store:
    telemetry = Telemetry(system="test", tables={"llm_calls": calls.copy()})
    return Store.build(telemetry, SourceInfo(system="test", label="test", provided=telemetry.provided))


@pytest.fixture(scope="module")
def raw_store(calls) -> Store:
    """The same rows with rollups switched off: every query reads raw rows."""
    telemetry = Telemetry(system="test", tables={"llm_calls": calls.copy()})
    built = Store.build(telemetry, SourceInfo(system="test", label="test", provided=telemetry.provided))
    built.has_rollups = False
    return built


def _select(calls: pd.DataFrame, f: Filters) -> pd.DataFrame:
    keep = pd.Series(True, index=calls.index)
    if f.start is not None:
        keep &= calls["ts"] >= f.start
    if f.end is not None:
        keep &= calls["ts"] < f.end
    for field, column in (("agents", "agent"), ("models", "model"), ("sessions", "session")):
        if getattr(f, field):
            keep &= calls[column].isin(getattr(f, field))
    return calls[keep]


FILTERS = [
    Filters(),
    Filters(
        start=START + timedelta(hours=5, minutes=17, seconds=3), end=START + timedelta(days=6, minutes=41)
    ),
    Filters(start=START + timedelta(hours=2), end=START + timedelta(hours=2, minutes=30)),  # inside one hour
    Filters(start=START + timedelta(days=2), end=START + timedelta(days=4)),  # whole hours
    Filters(end=START + timedelta(days=3, seconds=1), agents=("a", "c")),
    Filters(start=START + timedelta(days=1, minutes=3), models=("gpt-4o",), sessions=("s3", "s40", "s77")),
]


@pytest.mark.parametrize("f", FILTERS)
def test_llm_usage_totals_are_exact_for_any_filter(store, calls, f):
    got = queries.llm_usage(store, f).iloc[0]
    rows = _select(calls, f)
    assert got["calls"] == len(rows)
    assert got["tokens_in"] == rows["tokens_in"].sum()
    assert got["calls_with_tokens_in"] == rows["tokens_in"].notna().sum()
    assert got["cost_recorded_usd"] == pytest.approx(rows["cost_usd"].sum(), rel=1e-12)
    assert got["calls_cost_recorded"] == rows["cost_usd"].notna().sum()
    assert got["errors"] == (rows["status"] == "error").sum()


@pytest.mark.parametrize("f", FILTERS)
def test_rollups_and_raw_rows_give_the_same_frames(store, raw_store, f):
    for bucket, by in [(None, None), ("hour", "model"), ("day", "agent"), ("week", "cost_source")]:
        fast = queries.llm_usage(store, f, bucket=bucket, by=by)
        slow = queries.llm_usage(raw_store, f, bucket=bucket, by=by)
        pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("f", FILTERS)
def test_latency_percentiles_are_exact_linear_interpolation(store, calls, f):
    got = queries.llm_latency(store, f).iloc[0]
    values = _select(calls, f)["latency_ms"].dropna()
    assert got["calls_with_latency"] == len(values)
    for name, q in queries.PERCENTILES.items():
        assert got[name] == pytest.approx(np.percentile(values, q * 100), rel=1e-12)


def test_daily_buckets_match_pandas_grouping(store, calls):
    got = queries.llm_usage(store, Filters(), bucket="day", by="model").set_index(["bucket", "model"])
    day = calls["ts"].dt.floor("D")
    want = calls.groupby([day, "model"]).size()
    assert got["calls"].to_dict() == {k: v for k, v in want.items()}


def test_calls_without_tokens_or_cost_sum_to_missing_not_zero():
    rows = pd.DataFrame(
        {"call_id": ["x", "y"], "ts": [START, START + timedelta(minutes=1)], "agent": ["a", "a"],
         "model": [None, "in-house-llm"], "tokens_in": [None, None], "cost_usd": [None, None]}
    )  # fmt: skip
    telemetry = Telemetry(system="test", tables={"llm_calls": rows})
    bare = Store.build(telemetry, SourceInfo(system="test", label="t", provided=telemetry.provided))
    got = queries.llm_usage(bare, Filters()).iloc[0]
    assert got["calls"] == 2
    assert pd.isna(got["tokens_in"]) and pd.isna(got["cost_recorded_usd"]) and pd.isna(got["cost_usd"])
    assert got["calls_cost_unknown"] == 2
    assert pd.isna(queries.llm_latency(bare, Filters()).iloc[0]["p95"])


def test_a_period_with_no_calls_sums_to_zero_not_missing(store):
    empty = Filters(start=START - timedelta(days=30), end=START - timedelta(days=20))
    got = queries.llm_usage(store, empty).iloc[0]
    assert got["calls"] == 0 and got["tokens_in"] == 0 and got["cost_recorded_usd"] == 0


def test_unknown_models_are_not_estimated(store):
    frame = store.frame("llm_calls")
    in_house = frame[frame["model"] == "in-house-llm"]
    assert set(in_house["cost_source"]) <= {"recorded", "unknown"}
    assert in_house.loc[in_house["cost_source"] == "unknown", "cost_usd"].isna().all()


def test_filters_refuse_naive_times():
    with pytest.raises(ValueError, match="timezone-aware"):
        Filters(start=datetime(2025, 1, 1))


def test_previous_period_has_the_same_length():
    f = Filters(start=START, end=START + timedelta(days=7))
    assert f.previous_period() == Filters(start=START - timedelta(days=7), end=START)
    assert Filters().previous_period() is None


def test_grouping_by_an_unknown_column_is_refused(store):
    with pytest.raises(ValueError, match="cannot group by"):
        queries.llm_usage(store, Filters(), by="prompt; drop table llm_calls")


def test_filter_values_with_sql_in_them_are_bound_not_pasted(store):
    hostile = Filters(agents=("a'); drop table llm_calls; --",))
    assert queries.llm_usage(store, hostile).iloc[0]["calls"] == 0
    assert queries.llm_usage(store, Filters()).iloc[0]["calls"] > 0  # the table is still there


def test_data_quality_reports_unset_clocks_negative_latency_and_future_times():
    rows = pd.DataFrame(
        {
            "call_id": ["a", "b", "c"],
            "ts": [datetime(1970, 1, 1, tzinfo=UTC), START, datetime(2099, 1, 1, tzinfo=UTC)],
            "agent": ["x", "x", "x"],
            "model": ["gpt-4o"] * 3,
            "latency_ms": [-5.0, 10.0, 20.0],
        }
    )
    telemetry = Telemetry(system="test", tables={"llm_calls": rows})
    odd = Store.build(telemetry, SourceInfo(system="test", label="t", provided=telemetry.provided))
    found = queries.data_quality(odd, now=datetime(2030, 1, 1, tzinfo=UTC)).set_index("finding")["rows"]
    assert found["Timestamps before 2000 (unset clocks?)"] == 1
    assert found["Timestamps in the future"] == 1
    assert found["LLM or tool calls with a negative latency"] == 1
