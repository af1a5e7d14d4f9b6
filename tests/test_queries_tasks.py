"""Task queries: completions, the status funnel, cycle times and their log bins, against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_layer import queries
from data_layer.filters import Filters
from tests import tiny
from tests.tiny import at

TASKS = [
    # created, started, completed: cycle time runs from the start, else from creation
    {"task_id": "k1", "agent": "a", "type": "code", "status": "completed",
     "created_at": at("08:00"), "started_at": at("09:00"), "completed_at": at("10:30")},
    {"task_id": "k2", "agent": "a", "type": "code", "status": "completed",
     "created_at": at("08:30"), "started_at": None, "completed_at": at("12:30")},
    {"task_id": "k3", "agent": "b", "type": "review", "status": "completed",
     "created_at": None, "started_at": at("09:00"), "completed_at": at("09:00:36")},
    {"task_id": "k4", "agent": "b", "type": "review", "status": "failed",
     "created_at": at("09:15"), "started_at": at("09:20"), "completed_at": at("11:00")},
    {"task_id": "k5", "agent": "c", "type": "code", "status": "blocked",
     "created_at": at("10:00"), "started_at": at("10:05"), "completed_at": None},
    {"task_id": "k6", "agent": "c", "type": "code", "status": "pending",
     "created_at": at("11:00"), "started_at": None, "completed_at": None},
    {"task_id": "k7", "agent": "a", "type": "code", "status": "completed",
     "created_at": None, "started_at": None, "completed_at": at("11:30")},  # no begin: no cycle time
    {"task_id": "k8", "agent": "b", "type": "code", "status": "completed",
     "created_at": at("07:00"), "started_at": at("07:30"), "completed_at": at("07:30", day=2)},
    {"task_id": "k9", "agent": "c", "type": "review", "status": "completed",
     "created_at": at("09:00"), "started_at": at("09:30"), "completed_at": None},  # finish unknown
]  # fmt: skip
FILTERS = [
    Filters(),
    Filters(start=at("09:00"), end=at("12:00")),
    Filters(start=at("10:30"), end=at("12:30")),  # a completion on each edge: start in, end out
    Filters(agents=("a", "c")),
    Filters(models=("gpt-4o",)),  # tasks have no model: the filter leaves them alone
    Filters(start=at("00:00", day=1)),
]


@pytest.fixture(scope="module", params=tiny.BACKENDS[1:])
def tasks_store(request):
    return tiny.backend(request, tasks=TASKS)


def _tasks() -> pd.DataFrame:
    frame = tiny.frame(TASKS)
    for column in ("created_at", "started_at", "completed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _completed(f: Filters) -> pd.DataFrame:
    tasks = _tasks()
    done = tasks[(tasks["status"] == "completed") & tasks["completed_at"].notna()]
    return tiny.selected(done, f, time="completed_at", fields={"agents": "agent"})


@pytest.mark.parametrize("f", FILTERS)
def test_tasks_completed_count_completions_per_day_of_their_finish(tasks_store, f):
    done = _completed(f)
    want = done.groupby(done["completed_at"].dt.floor("D")).size()
    got = queries.tasks_completed(tasks_store, f, bucket="day")
    assert dict(zip(got["bucket"], got["completed"], strict=True)) == want.to_dict()


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("by", [None, "agent", "type"])
def test_cycle_times_are_numpys_linear_percentiles_of_hours_from_start_to_finish(tasks_store, f, by):
    done = _completed(f)
    hours = (done["completed_at"] - done["started_at"].fillna(done["created_at"])).dt.total_seconds() / 3600
    done = done.assign(hours=hours)[hours.notna()]
    groups = [(None, done)] if by is None else list(done.groupby(by))
    got = queries.cycle_times(tasks_store, f, by=by)
    if by is None and done.empty:  # one row over nothing: no tasks, no percentiles
        assert got["tasks"].tolist() == [0] and got["p50"].isna().all()
        return
    assert len(got) == len(groups)
    for key, group in groups:
        row = got.iloc[0] if key is None else got[got[by] == key].iloc[0]
        assert row["tasks"] == len(group)
        for name, q in queries.PERCENTILES.items():
            assert row[name] == pytest.approx(np.percentile(group["hours"], q * 100), rel=1e-9)


def _seen(f: Filters) -> pd.DataFrame:
    """Tasks in the period by creation time, else start, else finish."""
    tasks = _tasks()
    tasks["seen"] = tasks["created_at"].fillna(tasks["started_at"]).fillna(tasks["completed_at"])
    return tiny.selected(tasks, f, time="seen", fields={"agents": "agent"})


@pytest.mark.parametrize("f", FILTERS)
def test_task_funnel_counts_created_started_and_current_statuses(tasks_store, f):
    seen = _seen(f)
    want = [len(seen), int(seen["started_at"].notna().sum())]
    want += [int((seen["status"] == s).sum()) for s in ("completed", "failed", "blocked")]
    got = queries.task_funnel(tasks_store, f)
    assert got["stage"].tolist() == list(queries.FUNNEL_STAGES)
    assert got["tasks"].tolist() == want


@pytest.mark.parametrize("f", FILTERS)
def test_task_statuses_by_agent_match_pandas(tasks_store, f):
    seen = _seen(f)
    want = seen.groupby(["agent", "status"]).agg(tasks=("task_id", "size"), started=("started_at", "count"))
    got = queries.task_statuses(tasks_store, f, by="agent").set_index(["agent", "status"])
    assert got[["tasks", "started"]].astype(int).to_dict("index") == want.to_dict("index")


def _log_bins(values: pd.Series, k: int) -> list[tuple[float, float, int]]:
    """Log bins recomputed with numpy: bin i holds [10^(i/k), 10^((i+1)/k)); zero has its own."""
    values = values.dropna()
    values = values[values >= 0]
    out: dict[float, list] = {}
    for v in values:
        if v == 0:
            out.setdefault(-np.inf, [0.0, 0.0, 0])[2] += 1
            continue
        i = int(np.floor(np.log10(v) * k + 1e-9))
        out.setdefault(i, [10 ** (i / k), 10 ** ((i + 1) / k), 0])[2] += 1
    return [tuple(out[i]) for i in sorted(out)]


@pytest.mark.parametrize("f", FILTERS)
def test_cycle_time_histogram_puts_each_completed_task_in_its_log_bin(tasks_store, f):
    done = _completed(f)
    hours = (done["completed_at"] - done["started_at"].fillna(done["created_at"])).dt.total_seconds() / 3600
    got = queries.cycle_time_histogram(tasks_store, f, bins_per_decade=4)
    want = _log_bins(hours, 4)
    assert len(got) == len(want)
    for (start, end, count), row in zip(want, got.itertuples(), strict=True):
        assert (row.bin_start, row.bin_end) == (pytest.approx(start), pytest.approx(end))
        assert row.count == count


def test_cycle_times_count_the_same_tasks_with_and_without_a_time_window():
    """A task marked completed with no finish time has no cycle time: it was counted in
    ``tasks`` when the period was unbounded and left out when bounded, so the count moved with
    the window while the percentiles did not."""
    rows = [
        {"task_id": "done", "status": "completed", "started_at": at("09:00"), "completed_at": at("10:00")},
        {"task_id": "no finish", "status": "completed", "started_at": at("09:00"), "completed_at": None},
    ]
    backend = tiny.store(tasks=rows)
    unbounded = queries.cycle_times(backend, Filters()).iloc[0]
    bounded = queries.cycle_times(backend, Filters(start=at("00:00"), end=at("00:00", day=1))).iloc[0]
    assert unbounded["tasks"] == bounded["tasks"] == 1
    assert unbounded["p50"] == bounded["p50"] == 1.0
