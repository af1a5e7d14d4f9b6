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
from tests import tiny
from tests.tiny import at

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
    Filters(start=START + timedelta(days=2), end=START + timedelta(days=4)),  # whole days
    # whole days between whole hours of the days either side
    Filters(start=START + timedelta(days=1, hours=7), end=START + timedelta(days=8, hours=15)),
    Filters(start=START + timedelta(days=1), end=START + timedelta(days=9), agents=("b",)),  # whole days
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


def test_grouping_by_an_unknown_column_is_refused(store):
    with pytest.raises(ValueError, match="cannot group by"):
        queries.llm_usage(store, Filters(), by="prompt; drop table llm_calls")


def test_filter_values_with_sql_in_them_are_bound_not_pasted(store):
    hostile = Filters(agents=("a'); drop table llm_calls; --",))
    assert queries.llm_usage(store, hostile).iloc[0]["calls"] == 0
    assert queries.llm_usage(store, Filters()).iloc[0]["calls"] > 0  # the table is still there


# --- tiny frames, each figure recomputed with plain pandas ------------------------------------

TINY_CALLS = [
    {"call_id": "c1", "ts": at("09:05"), "agent": "a", "session": "s1", "model": "in-house-llm",
     "tokens_in": 100, "tokens_out": 10, "cost_usd": 0.25, "latency_ms": 120.0, "status": "ok"},
    {"call_id": "c2", "ts": at("09:55"), "agent": "b", "session": "s1", "model": "other-llm",
     "tokens_in": None, "tokens_out": 20, "cost_usd": None, "latency_ms": 80.0, "status": "error"},
    {"call_id": "c3", "ts": at("10:00"), "agent": "a", "session": "s2", "model": "in-house-llm",
     "tokens_in": 300, "tokens_out": None, "cost_usd": 0.5, "latency_ms": None, "status": "ok"},
    {"call_id": "c4", "ts": at("10:30"), "agent": "b", "session": "s2", "model": None,
     "tokens_in": 40, "tokens_out": 4, "cost_usd": 1.0, "latency_ms": 400.0, "status": None},
    {"call_id": "c5", "ts": at("11:59:59"), "agent": "a", "session": "s3", "model": "other-llm",
     "tokens_in": 5, "tokens_out": 5, "cost_usd": None, "latency_ms": 10.0, "status": "ok"},
    {"call_id": "c6", "ts": at("12:00"), "agent": "c", "session": "s3", "model": "in-house-llm",
     "tokens_in": 7, "tokens_out": 1, "cost_usd": 0.125, "latency_ms": 50.0, "status": "error"},
    {"call_id": "c7", "ts": at("13:20", day=1), "agent": "a", "session": "s4", "model": "other-llm",
     "tokens_in": 9, "tokens_out": 9, "cost_usd": 2.0, "latency_ms": 60.0, "status": "ok"},
]  # fmt: skip
LLM_FIELDS = {"agents": "agent", "models": "model", "sessions": "session"}
TINY_FILTERS = [
    Filters(),
    Filters(start=at("09:30"), end=at("12:00")),  # cuts the first hour; the last call sits on the end
    Filters(start=at("09:55"), end=at("12:00:01")),  # both edges mid-hour, each on a call
    Filters(start=at("10:10"), end=at("10:40")),  # inside one hour
    Filters(start=at("10:00"), end=at("13:00", day=1)),  # whole hours only
    Filters(start=at("00:00"), end=at("00:00", day=2)),  # whole days only
    Filters(start=at("21:00", day=-1), end=at("14:00", day=1)),  # a whole day between whole hours
    Filters(start=at("22:30:30", day=-1), end=at("13:20:30", day=1)),  # and partial hours, on a call
    Filters(agents=("a",), start=at("09:00")),
    Filters(models=("in-house-llm", "other-llm"), end=at("12:00")),
    Filters(sessions=("s2", "s3"), start=at("10:15"), end=at("12:30")),  # sessions: raw rows only
    Filters(agents=("nobody",)),
]


@pytest.fixture(scope="module", params=tiny.BACKENDS)
def tiny_calls(request):
    return tiny.backend(request, llm_calls=TINY_CALLS)


@pytest.fixture(scope="module", params=tiny.BACKENDS)
def tiny_tools(request):
    return tiny.backend(request, tool_calls=TINY_TOOLS)


@pytest.fixture(scope="module", params=tiny.BACKENDS[1:])
def calls_and_tasks(request):
    return tiny.backend(request, llm_calls=TINY_CALLS, tasks=TINY_TASKS)


def _sum_or_missing(values: pd.Series) -> float | None:
    values = values.dropna()
    return values.sum() if len(values) else None


def _same_value(got, want) -> bool:
    if want is None or pd.isna(want):
        return pd.isna(got)
    return got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("f", TINY_FILTERS)
def test_llm_usage_on_tiny_rows_matches_pandas_for_every_window_and_filter(tiny_calls, f):
    rows = tiny.selected(tiny.frame(TINY_CALLS), f, fields=LLM_FIELDS)
    got = queries.llm_usage(tiny_calls, f).iloc[0]
    assert got["calls"] == len(rows)
    assert got["errors"] == (rows["status"] == "error").sum()
    assert got["calls_with_status"] == rows["status"].notna().sum()
    assert got["calls_with_tokens_in"] == rows["tokens_in"].notna().sum()
    if len(rows):  # no calls at all sum to 0; calls without the measure to missing
        assert _same_value(got["tokens_in"], _sum_or_missing(rows["tokens_in"]))
        assert _same_value(got["tokens_out"], _sum_or_missing(rows["tokens_out"]))
        assert _same_value(got["cost_recorded_usd"], _sum_or_missing(rows["cost_usd"]))
        assert _same_value(got["latency_ms_mean"], rows["latency_ms"].dropna().mean())
    else:
        assert got["tokens_in"] == 0 and got["cost_recorded_usd"] == 0 and pd.isna(got["latency_ms_mean"])
    # Neither model is known to genai-prices: a call without a recorded cost is unknown, not $0.
    assert got["calls_cost_recorded"] == rows["cost_usd"].notna().sum()
    assert got["calls_cost_unknown"] == rows["cost_usd"].isna().sum()
    assert got["calls_cost_estimated"] == 0


@pytest.mark.parametrize("f", TINY_FILTERS)
@pytest.mark.parametrize("by", ["agent", "model", "status"])
@pytest.mark.parametrize("bucket", ["hour", "day"])
def test_llm_usage_per_bucket_and_dimension_matches_pandas_grouping(tiny_calls, f, by, bucket):
    rows = tiny.selected(tiny.frame(TINY_CALLS), f, fields=LLM_FIELDS)
    start = pd.to_datetime(rows["ts"], utc=True).dt.floor({"hour": "h", "day": "D"}[bucket]).rename("bucket")
    want = rows.groupby([start, rows[by]], dropna=False).agg(
        calls=("call_id", "size"),
        tokens_out=("tokens_out", _sum_or_missing),
        cost=("cost_usd", _sum_or_missing),
    )
    got = queries.llm_usage(tiny_calls, f, bucket=bucket, by=by)
    got_keys = list(zip(got["bucket"], got[by].astype(object).where(got[by].notna(), None), strict=True))
    want_keys = [(b, None if pd.isna(k) else k) for b, k in want.index]
    assert sorted(got_keys, key=str) == sorted(want_keys, key=str)
    by_key = dict(
        zip(got_keys, zip(got["calls"], got["tokens_out"], got["cost_usd"], strict=True), strict=True)
    )
    for key, (calls, tokens_out, cost) in zip(want_keys, want.itertuples(index=False), strict=True):
        assert by_key[key][0] == calls
        assert _same_value(by_key[key][1], tokens_out)
        assert _same_value(by_key[key][2], cost)


@pytest.mark.parametrize("f", TINY_FILTERS)
def test_llm_latency_per_model_is_numpys_linear_percentile_of_the_calls_with_one(tiny_calls, f):
    rows = tiny.selected(tiny.frame(TINY_CALLS), f, fields=LLM_FIELDS)
    got = queries.llm_latency(tiny_calls, f, by="model")
    assert len(got) == rows["model"].nunique(dropna=False)
    for model_name, group in rows.groupby("model", dropna=False):
        mine = got[got["model"].isna()] if pd.isna(model_name) else got[got["model"] == model_name]
        values = group["latency_ms"].dropna().astype(float)
        assert mine["calls_with_latency"].item() == len(values)
        for name, q in queries.PERCENTILES.items():
            want = np.percentile(values, q * 100) if len(values) else None
            assert _same_value(mine[name].item(), want)


TINY_TOOLS = [
    {"call_id": "t1", "ts": at("09:10"), "agent": "a", "session": "s1", "tool": "search", "success": True,
     "latency_ms": 12.0},
    {"call_id": "t2", "ts": at("09:40"), "agent": "a", "session": "s1", "tool": "search", "success": False,
     "latency_ms": 30.0},
    {"call_id": "t3", "ts": at("10:05"), "agent": "b", "session": "s2", "tool": "fetch", "success": None,
     "latency_ms": None},
    {"call_id": "t4", "ts": at("11:30"), "agent": "b", "session": "s3", "tool": "fetch", "success": False,
     "latency_ms": 7.5},
]  # fmt: skip


@pytest.mark.parametrize("f", [*TINY_FILTERS[:4], Filters(tools=("fetch",), start=at("09:30"))])
def test_tool_usage_counts_failures_only_where_success_is_false(tiny_tools, f):
    backend = tiny_tools
    rows = tiny.selected(tiny.frame(TINY_TOOLS), f, fields={**LLM_FIELDS, "tools": "tool"})
    got = queries.tool_usage(backend, f).iloc[0]
    assert got["calls"] == len(rows)
    assert got["failures"] == (rows["success"] == False).sum()  # noqa: E712 - None is not a failure
    assert got["calls_with_outcome"] == rows["success"].notna().sum()


@pytest.mark.parametrize("f", TINY_FILTERS[:4])
def test_tool_latency_per_tool_is_numpys_linear_percentile(tiny_tools, f):
    rows = tiny.selected(tiny.frame(TINY_TOOLS), f, fields={**LLM_FIELDS, "tools": "tool"})
    got = queries.tool_latency(tiny_tools, f, by="tool").set_index("tool")
    assert sorted(got.index) == sorted(rows["tool"].unique())
    for tool, group in rows.groupby("tool"):
        values = group["latency_ms"].dropna().astype(float)
        assert got.loc[tool, "calls_with_latency"] == len(values)
        for name, q in queries.PERCENTILES.items():
            assert _same_value(got.loc[tool, name], np.percentile(values, q * 100) if len(values) else None)


TINY_TASKS = [
    {"task_id": "k1", "agent": "a", "status": "completed", "completed_at": at("09:30")},
    {"task_id": "k2", "agent": "a", "status": "completed", "completed_at": at("11:00")},
    {"task_id": "k3", "agent": "b", "status": "failed", "completed_at": at("10:00")},
    {"task_id": "k4", "agent": "c", "status": "completed", "completed_at": at("10:15")},
    {"task_id": "k5", "agent": "d", "status": "completed", "completed_at": at("10:20")},
    {"task_id": "k6", "agent": "a", "status": "completed", "completed_at": None},
]


@pytest.mark.parametrize(
    "f",
    [Filters(), Filters(start=at("09:50"), end=at("12:00")), Filters(agents=("a", "c")),
     Filters(models=("other-llm",)), Filters(start=at("11:00"))],
)  # fmt: skip
def test_cost_per_completed_task_divides_each_agents_cost_by_its_completions(calls_and_tasks, f):
    backend = calls_and_tasks
    calls = tiny.selected(tiny.frame(TINY_CALLS), f, fields=LLM_FIELDS)
    tasks = tiny.frame(TINY_TASKS)
    completed_rows = tasks[tasks["status"] == "completed"]
    done = tiny.selected(completed_rows, f, time="completed_at", fields={"agents": "agent"})
    cost = calls.groupby("agent")["cost_usd"].agg(_sum_or_missing)
    completed = done.groupby("agent").size()
    agents = sorted(set(cost.index) | set(completed.index))
    got = queries.cost_per_completed_task(backend, f)
    assert got["agent"].tolist() == agents
    for row in got.itertuples():
        want_cost = cost.get(row.agent)
        n = int(completed.get(row.agent, 0))
        assert _same_value(row.cost_usd, want_cost)
        assert row.tasks_completed == n
        # No completion, or no cost, is an unknown cost per task: never infinity, never $0.
        assert _same_value(row.cost_per_task_usd, want_cost / n if n and want_cost is not None else None)
