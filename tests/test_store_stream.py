"""A table handed to the store as a stream of record batches is stored exactly as the same rows
handed over whole: same values, same types, same cost estimates, same empty columns left out."""

from __future__ import annotations

import itertools

import pandas as pd
import pyarrow as pa
import pytest

from data_layer import model, time_order
from data_layer.errors import SourceUnavailable
from data_layer.model import Telemetry
from data_layer.store import SourceInfo, Store

CALLS = pd.DataFrame(
    {
        "call_id": [f"c{i}" for i in range(7)],
        "ts": ["2025-03-01T10:00:00Z", "2025-03-01 12:30:00", "2025-03-02T14:00:00+02:00", "not a time",
               "2025-03-03T09:00:00Z", "2025-03-03T09:30:00Z", "2025-03-04T00:00:00Z"],
        "agent": ["a", "b", "a", None, "c", "a", "b"],
        "model": ["gpt-4o", "gpt-4o-mini", "no-such-model", None, "gpt-4o", "gpt-4o", "claude-3-5-sonnet"],
        "tokens_in": ["12", "1200", "5", None, "300000", "7", "40"],
        "tokens_out": [3, 400, 5, 5, 20, None, 9],
        "cost_usd": [0.5, None, None, None, None, None, 0.25],  # recorded, estimated, unknown
        "status": ["ok", "ok", "error", "ok", "ok", "ok", None],
        "trace_id": [None] * 7,  # empty: not stored
        "prompt": ["p", None, "q", "r", "s", "t", "u"],
    }
)  # fmt: skip
ALERTS = pd.DataFrame(
    {
        "alert_id": ["1", "2", "3", "4", "5"],
        "ts": pd.to_datetime(["2025-03-01T10:00:00Z"] * 5, utc=True),
        "severity": ["low", "high", "high", None, "critical"],
        "matched_terms": ['["rm -rf", "sudo"]', '"ssn"', '{"password": 1}', "not json", None],
    }
)
EMPTY_EVENTS = pd.DataFrame({"event_id": pd.Series([], dtype="string"), "ts": pd.Series([], dtype="string")})


def _stream(frame: pd.DataFrame, rows_per_batch: int = 2) -> pa.RecordBatchReader:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=rows_per_batch))


def _stored(store: Store, table: str) -> tuple[list, list]:
    """The stored table's columns with their types, and its rows in a fixed order."""
    with store.cursor() as cur:
        types = cur.execute(f"select column_name, column_type from (describe _{table})").fetchall()
        rows = cur.execute(f"select * from {table} order by all").fetchall()
    return types, rows


@pytest.mark.parametrize(
    ("table", "frame"), [("llm_calls", CALLS), ("alerts", ALERTS), ("events", EMPTY_EVENTS)]
)
def test_a_stream_is_stored_as_the_same_rows_handed_over_whole(
    table: str, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time_order, "_SLICE_ROWS", 2)  # the stream is sorted a few rows at a time

    def build(handed: model.Frame | model.Loader) -> Store:
        telemetry = Telemetry(system="test", tables={table: handed})
        return Store.build(telemetry, SourceInfo(system="test", label="test", provided=telemetry.provided))

    whole = build(frame.copy())
    streamed = build(lambda: _stream(frame))
    assert _stored(streamed, table) == _stored(whole, table)
    if table == "llm_calls":  # each branch of the cost rule was taken
        sources = whole.execute("select cost_source::varchar as s from llm_calls")["s"]
        assert set(sources) == {"recorded", "estimated", "unknown"}
        assert "trace_id" not in dict(_stored(whole, table)[0])


def test_a_source_that_fails_mid_stream_says_so_in_its_own_words() -> None:
    first = _stream(CALLS).read_next_batch()

    def batches():
        yield first
        raise SourceUnavailable("Cannot read the source (connection lost). Check that the server is running.")

    stream = pa.RecordBatchReader.from_batches(first.schema, batches())
    telemetry = Telemetry(system="test", tables={"llm_calls": lambda: stream})
    with pytest.raises(SourceUnavailable, match="connection lost"):
        Store.build(telemetry, SourceInfo(system="test", label="test", provided=telemetry.provided))


def test_a_streamed_table_conforms_in_python_as_the_same_rows_whole() -> None:
    # An all-missing time column arriving as numbers is scanned once before the rows are read.
    sessions = pd.DataFrame(
        {"session": ["s1", "s2", "s3"], "started_at": ["2025-03-01T10:00:00Z"] * 3, "ended_at": [None] * 3}
    ).astype({"ended_at": "Int64"})
    telemetry = Telemetry(system="test", tables={"sessions": lambda: _stream(sessions)})
    pd.testing.assert_frame_equal(telemetry["sessions"], model.conform("sessions", sessions))


@pytest.mark.parametrize(
    ("table", "stream"),
    [("llm_calls", False), ("llm_calls", True), ("tool_calls", False), ("tool_calls", True)],
)
def test_rows_handed_over_in_any_order_are_stored_in_slices_of_time_by_agent(
    table: str, stream: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored in slices of time, each by agent then time, a filter on a period or on agents reads
    only their row groups (zone maps); the join a stored LLM call's cost estimate makes must not
    undo it, nor a stream's copy sorted a slice at a time. Times missing go last."""
    monkeypatch.setattr(time_order, "_SLICE_ROWS", 700)
    times = pd.Series(pd.date_range("2025-03-01", periods=5000, freq="min", tz="UTC")).sample(
        frac=1, random_state=7
    )
    frame = pd.DataFrame(
        {
            "call_id": [f"c{i}" for i in range(len(times))],
            "ts": times.to_numpy(),
            "agent": ["b", "a"] * (len(times) // 2),
        }
    )
    frame.loc[frame.index[:3], "ts"] = pd.NaT
    if table == "llm_calls":
        frame = frame.assign(model="gpt-4o", tokens_in=10, tokens_out=5)  # estimated: the cost join runs
    handed = (lambda: _stream(frame, rows_per_batch=700)) if stream else frame
    telemetry = Telemetry(system="test", tables={table: handed})
    store = Store.build(telemetry, SourceInfo(system="test", label="test", provided=telemetry.provided))
    with store.cursor() as cur:
        stored = cur.execute(f"select agent::varchar, ts from _{table}").fetchall()
    assert len(stored) == len(frame)
    assert [ts for _agent, ts in stored[-3:]] == [None] * 3
    # Cut where (agent, time) goes down: each piece is then sorted, and is one slice.
    slices, start = [], 0
    for i in range(1, len(stored) - 3):
        if stored[i] < stored[i - 1]:
            slices.append(stored[start:i])
            start = i
    slices.append(stored[start:-3])
    assert len(slices) > 1, "sliced"
    assert all({agent for agent, _ts in piece} == {"a", "b"} for piece in slices), "by agent in a slice"
    spans = [(min(ts for _a, ts in piece), max(ts for _a, ts in piece)) for piece in slices]
    assert all(earlier[1] < later[0] for earlier, later in itertools.pairwise(spans)), "slices in time order"
