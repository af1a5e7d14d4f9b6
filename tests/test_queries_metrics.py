"""Metric series, their statistics, events and threshold breaches, against pandas on tiny rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_layer import queries
from data_layer.filters import Filters
from data_layer.store import Store
from tests import tiny
from tests.tiny import at

METRICS = [
    {"ts": at("09:00"), "agent": "a", "name": "cpu", "value": 10.0, "unit": "%"},
    {"ts": at("09:30"), "agent": "a", "name": "cpu", "value": 90.0, "unit": "%"},
    {"ts": at("09:45"), "agent": "b", "name": "cpu", "value": 50.0, "unit": "%"},
    {"ts": at("10:15"), "agent": "b", "name": "cpu", "value": None, "unit": "%"},
    {"ts": at("10:20"), "agent": None, "name": "queue", "value": 3.0, "unit": "count"},
    {"ts": at("11:00"), "agent": "a", "name": "queue", "value": 7.0, "unit": "count"},
]
THRESHOLDS = [
    {"agent": None, "metric": "cpu", "level": "warning", "value": 40.0},
    {"agent": "a", "metric": "cpu", "level": "critical", "value": 80.0},
    {"agent": "b", "metric": "queue", "level": "max", "value": 1.0},
]
EVENTS = [
    {"event_id": "e1", "ts": at("09:00"), "agent": "a", "type": "start", "level": "info"},
    {"event_id": "e2", "ts": at("09:10"), "agent": "a", "type": "message", "level": "info"},
    {"event_id": "e3", "ts": at("10:10"), "agent": "b", "type": "message", "level": "error"},
]
FILTERS = [Filters(), Filters(start=at("09:30"), end=at("11:00")), Filters(agents=("a",))]


@pytest.fixture(scope="module", params=tiny.BACKENDS[1:])
def metrics_store(request):
    return tiny.backend(request, metrics=METRICS, thresholds=THRESHOLDS, events=EVENTS)


@pytest.mark.parametrize("f", FILTERS)
def test_metric_series_per_hour_match_pandas(metrics_store, f):
    rows = tiny.selected(tiny.frame(METRICS), f, fields={"agents": "agent"})
    hour = pd.to_datetime(rows["ts"], utc=True).dt.floor("h").rename("bucket")
    want = rows.groupby([hour, "name"])["value"].agg(
        ["count", "mean", "min", "max", lambda v: v.sum(min_count=1)]
    )
    got = queries.metric_series(metrics_store, f, bucket="hour").set_index(["bucket", "name"])
    assert list(got.index) == list(want.index)
    for key, (points, mean, low, high, total) in want.iterrows():
        mine = got.loc[key]
        assert mine["points"] == points
        for value, expected in (
            (mine["mean"], mean),
            (mine["min"], low),
            (mine["max"], high),
            (mine["total"], total),
        ):
            assert pd.isna(value) if pd.isna(expected) else value == pytest.approx(expected)


def _kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Column dtypes, text as text and times as UTC times whatever the driver's flavour of each."""

    def kind(dtype) -> str:
        if pd.api.types.is_string_dtype(dtype):
            return "text"
        if isinstance(dtype, pd.DatetimeTZDtype):
            return f"time {dtype.tz}"
        return str(dtype)

    return {c: kind(t) for c, t in frame.dtypes.items()}


def test_metric_names_are_those_recorded(metrics_store):
    assert metrics_store.metric_names() == {"cpu", "queue"}


@pytest.mark.parametrize("f", FILTERS)
def test_series_of_names_the_source_lacks_is_the_empty_frame_without_asking(metrics_store, f, monkeypatch):
    """Named series the source never records: no statement, the frame a statement matching
    nothing gives (columns and dtypes); a name it has among them still asks."""
    asked = queries.metric_series(metrics_store, Filters(start=at("23:00")), bucket="day", names=("cpu",))
    assert asked.empty
    sent = []
    run = metrics_store.run
    monkeypatch.setattr(metrics_store, "run", lambda stmt: sent.append(stmt) or run(stmt))
    got = queries.metric_series(metrics_store, f, bucket="day", names=("commits", "lines_added"))
    assert sent == []
    assert list(got.columns) == list(asked.columns)
    if isinstance(metrics_store, Store):  # PostgreSQL's driver types the columns of no rows int64
        assert _kinds(got) == _kinds(asked)
    mixed = queries.metric_series(metrics_store, f, bucket="day", names=("commits", "queue"))
    assert len(sent) == 1 and set(mixed["name"]) == {"queue"}


@pytest.mark.parametrize("f", FILTERS)
def test_metric_stats_are_numpys_percentiles_of_the_samples_with_a_value(metrics_store, f):
    rows = tiny.selected(tiny.frame(METRICS), f, fields={"agents": "agent"}).dropna(subset=["value"])
    got = queries.metric_stats(metrics_store, f).set_index("name")
    assert sorted(got.index) == sorted(rows["name"].unique())
    for name, group in rows.groupby("name"):
        assert got.loc[name, "points"] == len(group)
        for column, q in queries.PERCENTILES.items():
            assert got.loc[name, column] == pytest.approx(np.percentile(group["value"], q * 100))


@pytest.mark.parametrize("f", FILTERS)
def test_threshold_breaches_apply_global_thresholds_to_every_agent_and_own_ones_to_theirs(metrics_store, f):
    samples = tiny.selected(tiny.frame(METRICS), f, fields={"agents": "agent"}).dropna(subset=["value"])
    want = {}
    for t in THRESHOLDS:
        if f.agents and t["agent"] is not None and t["agent"] not in f.agents:
            continue
        mine = samples[samples["name"] == t["metric"]]
        if t["agent"] is not None:
            mine = mine[mine["agent"] == t["agent"]]
        want[(t["metric"], t["level"])] = (len(mine), int((mine["value"] > t["value"]).sum()))
    got = queries.threshold_breaches(metrics_store, f)
    assert {(r.metric, r.level): (r.samples, r.breaches) for r in got.itertuples()} == want


@pytest.mark.parametrize("f", FILTERS)
def test_thresholds_listed_are_the_global_ones_and_the_filtered_agents_own(metrics_store, f):
    want = [t for t in THRESHOLDS if not f.agents or t["agent"] is None or t["agent"] in f.agents]
    got = queries.thresholds(metrics_store, f)
    assert sorted(zip(got["metric"], got["level"], strict=True)) == sorted(
        (t["metric"], t["level"]) for t in want
    )


@pytest.mark.parametrize("f", [*FILTERS, Filters(event_types=("message",))])
def test_event_counts_match_pandas_by_type(metrics_store, f):
    rows = tiny.selected(tiny.frame(EVENTS), f, fields={"agents": "agent", "event_types": "type"})
    got = queries.event_counts(metrics_store, f, by="type")
    assert dict(zip(got["type"], got["events"], strict=True)) == rows.groupby("type").size().to_dict()
