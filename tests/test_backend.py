"""The backend contract: what a store answers, answered once, with the model's one set of casts."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from data_layer import model, queries
from data_layer.backend import Backend
from data_layer.filters import ALL
from data_layer.model import Telemetry
from data_layer.pushdown import PushdownBackend
from data_layer.store import SourceInfo, Store


def _build(tables: dict[str, pd.DataFrame]) -> Store:
    telemetry = Telemetry(system="test", tables={name: frame.copy() for name, frame in tables.items()})
    return Store.build(telemetry, SourceInfo(system="test", label="test", provided=telemetry.provided))


# Values an adapter may hand over as text or odd numbers, one column of each kind.
ODD_CALLS = pd.DataFrame(
    {
        "call_id": ["a", "b", "c", "d"],
        "ts": ["2025-03-01T10:00:00Z", "2025-03-01 12:30:00", "2025-03-01T14:00:00+02:00", "not a time"],
        "model": ["gpt-4o", None, "x", "y"],
        "tokens_in": ["12", "12.0", "many", None],
        "tokens_out": [3, 4, None, 5],
        "cost_usd": [0.5, float("nan"), float("inf"), -float("inf")],
        "is_stream": ["true", "no", "maybe", None],
        "latency_ms": ["7.5", "x", None, "1e3"],
    }
)
ODD_ALERTS = pd.DataFrame(
    {
        "alert_id": ["1", "2", "3", "4", "5"],
        "ts": pd.to_datetime(["2025-03-01T10:00:00Z"] * 5, utc=True),
        "matched_terms": ['["rm -rf", "sudo"]', '"ssn"', '{"password": 1}', "not json", None],
    }
)


@pytest.mark.parametrize(("table", "frame"), [("llm_calls", ODD_CALLS), ("alerts", ODD_ALERTS)])
def test_a_frame_conformed_in_python_reads_as_the_store_holds_it(table: str, frame: pd.DataFrame) -> None:
    store = _build({table: frame})
    held = store.frame(table)
    conformed = model.conform(table, frame)
    if table == "llm_calls":  # the store adds the cost rule on top of the casts
        held = held.drop(columns=["cost_usd", "cost_source"])
        conformed = conformed.drop(columns=["cost_usd", "cost_source"])
    key = held.columns[0]  # the store keeps rows in time order: compare row by row by their id
    held, conformed = (f.sort_values(key, ignore_index=True) for f in (held, conformed))
    pd.testing.assert_frame_equal(held, conformed)


def test_the_cast_rules_give_these_values() -> None:
    calls = model.conform("llm_calls", ODD_CALLS)
    assert calls["ts"].tolist()[:3] == [
        pd.Timestamp("2025-03-01T10:00:00Z"),
        pd.Timestamp("2025-03-01T12:30:00Z"),  # naive text is UTC
        pd.Timestamp("2025-03-01T12:00:00Z"),  # an offset is honoured
    ]
    assert pd.isna(calls["ts"].iloc[3])
    assert calls["tokens_in"].tolist()[:2] == [12, 12]
    assert calls["tokens_in"].isna().tolist()[2:] == [True, True]
    assert calls["cost_usd"].iloc[0] == 0.5
    assert calls["cost_usd"].isna().tolist()[1:] == [True, True, True]  # NaN and ±inf: missing
    assert calls["is_stream"].tolist()[:2] == [True, False]
    assert calls["is_stream"].isna().tolist()[2:] == [True, True]
    assert calls["latency_ms"].tolist()[0] == 7.5 and calls["latency_ms"].tolist()[3] == 1000.0
    terms = model.conform("alerts", ODD_ALERTS)["matched_terms"]
    assert [None if v is pd.NA else list(v) for v in terms] == [
        ["rm -rf", "sudo"],
        ["ssn"],
        ["password"],
        ["not json"],
        None,
    ]


def test_lists_of_terms_come_back_as_lists_from_the_store() -> None:
    store = _build({"alerts": ODD_ALERTS})
    for frame in (store.frame("alerts"), queries.filtered_rows(store, "alerts", ALL)):
        assert list(frame["matched_terms"].iloc[0]) == ["rm -rf", "sudo"]


def test_facts_about_a_source_are_computed_once_per_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    store = _build({"llm_calls": ODD_CALLS, "alerts": ODD_ALERTS})
    statements: list[object] = []
    run = Store.run

    def counting(self: Store, stmt: object) -> pd.DataFrame:
        statements.append(stmt)
        return run(self, stmt)

    monkeypatch.setattr(Store, "run", counting)
    first = (store.time_span(), store.row_counts(), store.filter_options(), store.data_quality())
    asked = len(statements)
    again = (store.time_span(), store.row_counts(), store.filter_options(), store.data_quality())
    assert asked > 0 and len(statements) == asked
    assert (
        first[0]
        == again[0]
        == (datetime(2025, 3, 1, 10, tzinfo=UTC), datetime(2025, 3, 1, 12, 30, tzinfo=UTC))
    )
    assert first[1]["llm_calls"] == 4 and first[1]["alerts"] == 5


@pytest.mark.parametrize("backend", [Store, PushdownBackend])
def test_each_backend_has_every_method_of_the_protocol(backend: type) -> None:
    members = {name for name in vars(Backend) if not name.startswith("_")} | set(Backend.__annotations__)
    missing = [name for name in members if not hasattr(backend, name) and name not in ("info", "has_rollups")]
    assert not missing
