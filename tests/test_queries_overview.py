"""Overview: the headline figures, their sparklines and the "what changed" sentence, against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_layer import queries
from data_layer.filters import Filters
from data_layer.model import SEVERITIES
from tests import tiny
from tests.tiny import at


@pytest.fixture(params=tiny.BACKENDS)
def make(request):
    """Builds the test's rows on each backend in turn."""
    return lambda **tables: tiny.backend(request, **tables)


PREVIOUS = Filters(start=at("00:00"), end=at("00:00", day=1))
CURRENT = Filters(start=at("00:00", day=1), end=at("00:00", day=2))

# Day 0 is the previous period, day 1 the current one; no model here has a genai-prices price.
CALLS = [
    {"ts": at("09:00"), "agent": "a", "model": "m1", "cost_usd": 1.0, "tokens_in": 10},
    {"ts": at("10:00"), "agent": "b", "model": "m2", "cost_usd": 2.0, "tokens_in": 20},
    {"ts": at("11:00"), "agent": "b", "model": "m1", "cost_usd": 0.5, "tokens_in": 30},
    {"ts": at("09:00", day=1), "agent": "a", "model": "m1", "cost_usd": 3.25, "tokens_in": 40},
    {"ts": at("09:30", day=1), "agent": "a", "model": "m2", "cost_usd": None, "tokens_in": 50},
    {"ts": at("10:00", day=1), "agent": "b", "model": "m2", "cost_usd": 1.0, "tokens_in": 60},
    {"ts": at("12:00", day=1), "agent": "c", "model": "m3", "cost_usd": 0.75, "tokens_in": 70},
]


def _costs(calls: list[dict], f: Filters, by: str) -> pd.Series:
    rows = tiny.selected(tiny.frame(calls), f, fields={})
    return rows.groupby(by)["cost_usd"].sum(min_count=1)


def _what_changed_oracle(calls: list[dict], measure: str) -> str:
    """The sentence rebuilt from pandas sums per agent and per model of both periods."""
    biggest = []
    for by in ("agent", "model"):
        if measure == "cost":
            now, then = _costs(calls, CURRENT, by), _costs(calls, PREVIOUS, by)
        else:
            now = tiny.selected(tiny.frame(calls), CURRENT, fields={}).groupby(by).size()
            then = tiny.selected(tiny.frame(calls), PREVIOUS, fields={}).groupby(by).size()
        delta = now.reindex(now.index.union(then.index)).fillna(0) - then.reindex(
            now.index.union(then.index)
        ).fillna(0)
        name = delta.abs().idxmax()
        biggest.append((abs(delta[name]), by, name, delta[name], now.sum(), then.sum()))
    _size, by, name, delta, total, before = max(biggest)
    change = total - before
    direction = "up" if change >= 0 else "down"
    if measure == "cost":
        sign = "+" if delta >= 0 else "−"
        return (
            f"Cost {direction} ${abs(change):,.2f} ({change / before:+.0%}) on the previous period"
            f" of the same length; the biggest change is {by} {name} ({sign}${abs(delta):,.2f})."
        )
    return (
        f"LLM calls {direction} {abs(change):,.0f} ({change / before:+.0%}) on the previous period"
        f" of the same length; the biggest change is {by} {name} ({delta:+,.0f})."
    )


def test_what_changed_names_the_agent_or_model_whose_cost_moved_most(make):
    backend = make(llm_calls=CALLS)
    assert queries.what_changed(backend, CURRENT) == _what_changed_oracle(CALLS, "cost")


def test_what_changed_counts_calls_when_no_call_has_a_cost(make):
    calls = [{**row, "cost_usd": None} for row in CALLS]
    backend = make(llm_calls=calls)
    assert queries.what_changed(backend, CURRENT) == _what_changed_oracle(calls, "calls")


def test_what_changed_sees_a_drop_to_nothing_for_an_agent_gone_quiet(make):
    calls = [*CALLS, {"ts": at("08:00"), "agent": "d", "model": "m1", "cost_usd": 9.0, "tokens_in": 1}]
    backend = make(llm_calls=calls)
    sentence = queries.what_changed(backend, CURRENT)
    assert sentence == _what_changed_oracle(calls, "cost")
    assert "agent d (−$9.00)" in sentence and sentence.startswith("Cost down")


def test_what_changed_says_no_change_when_both_periods_are_equal(make):
    calls = [row for row in CALLS if row["ts"] < at("00:00", day=1)]
    calls += [{**row, "ts": row["ts"] + (at("00:00", day=1) - at("00:00"))} for row in calls]
    backend = make(llm_calls=calls)
    assert (
        queries.what_changed(backend, CURRENT) == "No change against the previous period of the same length."
    )


def test_what_changed_has_nothing_to_say_without_a_bounded_period_or_calls(make):
    backend = make(llm_calls=CALLS)
    assert queries.what_changed(backend, Filters(start=at("00:00"))) is None
    assert queries.what_changed(backend, Filters(start=at("00:00", day=5), end=at("00:00", day=6))) is None


TREND_CALLS = [
    {"ts": at("09:00"), "agent": "a", "model": "m1", "tokens_in": 10, "tokens_out": 1, "cost_usd": 1.0,
     "latency_ms": 100.0},
    {"ts": at("10:00"), "agent": "a", "model": "m1", "tokens_in": 20, "tokens_out": 2, "cost_usd": 2.0,
     "latency_ms": 300.0},
    {"ts": at("09:00", day=2), "agent": "b", "model": "m1", "tokens_in": 5, "tokens_out": 5,
     "cost_usd": 0.5, "latency_ms": None},
    {"ts": at("09:00", day=3), "agent": "b", "model": "m1", "tokens_in": 7, "tokens_out": 7,
     "cost_usd": 0.25, "latency_ms": 50.0},
    # a day whose one call has no token counts, cost or latency: unknown, not 0 (day 1 has no calls)
    {"ts": at("11:00", day=4), "agent": "b", "model": "m1", "tokens_in": None, "tokens_out": None,
     "cost_usd": None, "latency_ms": None},
]  # fmt: skip
TREND_TOOLS = [
    {"ts": at("09:00"), "agent": "a", "tool": "t", "success": False},
    {"ts": at("09:10"), "agent": "a", "tool": "t", "success": True},
    {"ts": at("09:00", day=1), "agent": "a", "tool": "t", "success": None},  # no outcome: no rate
    {"ts": at("09:00", day=3), "agent": "b", "tool": "t", "success": True},
]
TREND_TASKS = [
    {"task_id": "k1", "agent": "a", "status": "completed", "completed_at": at("12:00", day=1)},
    {"task_id": "k2", "agent": "a", "status": "completed", "completed_at": at("13:00", day=1)},
    {"task_id": "k3", "agent": "a", "status": "failed", "completed_at": at("13:00", day=2)},
]
TREND_ALERTS = [
    {"alert_id": "x1", "ts": at("09:00"), "agent": "a", "severity": "high", "status": "open"},
    {"alert_id": "x2", "ts": at("09:00", day=2), "agent": "b", "severity": "high", "status": "resolved"},
    {"alert_id": "x3", "ts": at("09:00", day=4), "agent": "b", "severity": "low", "status": "open"},
    {"alert_id": "x4", "ts": at("10:00", day=3), "agent": None, "severity": "critical", "status": "open"},
]


@pytest.mark.parametrize(
    "f", [Filters(), Filters(start=at("09:30"), end=at("09:30", day=3)), Filters(agents=("b",))]
)
def test_kpi_trends_give_one_value_per_day_with_any_activity(make, f):
    """Counts are 0 on a day without any; a measure is None (a gap) on a day nothing measured it."""
    backend = make(llm_calls=TREND_CALLS, tool_calls=TREND_TOOLS, tasks=TREND_TASKS, alerts=TREND_ALERTS)
    fields = {"agents": "agent"}
    calls = tiny.selected(tiny.frame(TREND_CALLS), f, fields=fields)
    tools = tiny.selected(tiny.frame(TREND_TOOLS), f, fields=fields)
    tasks = tiny.frame(TREND_TASKS)
    done = tiny.selected(tasks[tasks["status"] == "completed"], f, time="completed_at", fields=fields)
    alerts = tiny.selected(tiny.frame(TREND_ALERTS), f, fields=fields)
    alerts = alerts[alerts["status"] == "open"]

    def day(frame: pd.DataFrame, column: str = "ts") -> pd.Series:
        return pd.to_datetime(frame[column], utc=True).dt.floor("D")

    days = sorted(set(day(calls)) | set(day(tools)) | set(day(done, "completed_at")) | set(day(alerts)))

    def count(frame: pd.DataFrame, column: str = "ts") -> list[float]:
        return [float((day(frame, column) == d).sum()) for d in days]

    def measure(figure) -> list[float | None]:
        """``figure`` of the day's calls; None when the day has no calls or the figure is missing."""
        values = [figure(calls[day(calls) == d]) if (day(calls) == d).any() else None for d in days]
        return [None if v is None or pd.isna(v) else float(v) for v in values]

    def failure_rate(g: pd.DataFrame) -> float | None:
        outcome = g["success"].notna().sum()
        return 100.0 * (g["success"] == False).sum() / outcome if outcome else None  # noqa: E712

    p95 = lambda g: np.percentile(v, 95) if len(v := g["latency_ms"].dropna()) else None  # noqa: E731
    want = {
        "llm_calls": count(calls),
        "tokens_in": measure(lambda g: g["tokens_in"].sum(min_count=1)),
        "tokens_out": measure(lambda g: g["tokens_out"].sum(min_count=1)),
        "cost_recorded_usd": measure(lambda g: g["cost_usd"].sum(min_count=1)),
        "cost_estimated_usd": measure(lambda g: 0.0),  # no model here has a price: $0 of estimates
        "latency_p95_ms": measure(p95),
        "tool_failure_rate": [
            failure_rate(tools[day(tools) == d]) if (day(tools) == d).any() else None for d in days
        ],
        "tasks_completed": count(done, "completed_at"),
    }
    for severity in SEVERITIES:
        want[f"open_alerts_{severity}"] = count(alerts[alerts["severity"] == severity])
    got = queries.kpi_trends(backend, f, bucket="day")
    assert got.keys() == want.keys()
    for kpi, values in want.items():
        assert [v is None for v in got[kpi]] == [v is None for v in values], kpi
        assert [v for v in got[kpi] if v is not None] == pytest.approx(
            [v for v in values if v is not None], rel=1e-12
        ), kpi


def test_kpi_trends_leave_a_day_without_token_counts_unknown_not_zero(make):
    backend = make(llm_calls=TREND_CALLS)
    got = queries.kpi_trends(backend, Filters(start=at("00:00", day=3)), bucket="day")
    assert got["llm_calls"] == [1.0, 1.0]
    assert got["tokens_in"] == [7.0, None] and got["tokens_out"] == [7.0, None]
    assert got["latency_p95_ms"] == [50.0, None]


def test_overview_kpis_compare_each_figure_with_the_previous_period(make):
    backend = make(llm_calls=CALLS)
    got = queries.overview_kpis(backend, CURRENT).set_index("kpi")
    for f, column in ((CURRENT, "current"), (PREVIOUS, "previous")):
        rows = tiny.selected(tiny.frame(CALLS), f, fields={})
        assert got.loc["llm_calls", column] == len(rows)
        assert got.loc["tokens_in", column] == rows["tokens_in"].sum()
        assert got.loc["cost_recorded_usd", column] == pytest.approx(rows["cost_usd"].sum(), rel=1e-12)
        assert got.loc["cost_estimated_usd", column] == 0  # nothing needed estimating is $0 of estimates
        assert pd.isna(got.loc["latency_p95_ms", column])  # no latency recorded: unknown, not 0 ms
        assert pd.isna(got.loc["tool_failure_rate", column])
    unbounded = queries.overview_kpis(backend, Filters()).set_index("kpi")
    assert unbounded["previous"].isna().all() and unbounded.loc["llm_calls", "current"] == len(CALLS)
