"""Cast rules: what each model column kind makes of what an adapter hands over.

Every case runs through both public paths a value can take into the model: ``Store.build``
(the casts the store applies while loading, read back with plain SQL) and ``model.conform``
(what ``Telemetry[table]`` and the query results' dtypes go through). Both must follow the same
rule, whichever module ends up holding it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from data_layer import model
from tests import tiny

PATHS = ["store", "conform"]
# (table, column) of each kind; the cases below give values in and the value that must come out.
KINDS = {
    "time": ("llm_calls", "ts"),
    "int": ("llm_calls", "tokens_in"),
    "float": ("llm_calls", "latency_ms"),
    "bool": ("tool_calls", "success"),
    "text_list": ("alerts", "matched_terms"),
}
UTC10 = datetime(2025, 1, 6, 10, tzinfo=UTC)


def _plain(value):
    """A cell as plain Python, missing as None, so both paths compare alike."""
    if isinstance(value, np.ndarray | list | tuple):
        return [_plain(v) for v in value]
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if isinstance(value, np.generic) else value


def _through(path: str, kind: str, values: list) -> list:
    table, column = KINDS[kind]
    rows = [{column: v} for v in values]
    if path == "store":
        store = tiny.store(**{table: rows})
        got = store.execute(f'select "{column}" from "{table}"')[column]
    else:
        got = model.conform(table, tiny.frame(rows))[column]
    return [_plain(v) for v in got]


CASES = [
    # kind, value in, value out
    ("time", "2025-01-06T10:00:00", UTC10),  # no offset: read as UTC
    ("time", "2025-01-06 10:00:00", UTC10),
    ("time", "2025-01-06T10:00:00Z", UTC10),
    ("time", "2025-01-06T12:00:00+02:00", UTC10),  # an offset is honoured
    ("time", "2025-01-06T04:30:00.250-05:30", UTC10 + timedelta(milliseconds=250)),
    ("time", "2025-01-06", UTC10.replace(hour=0)),
    # Naive text at any precision is read as UTC directly; anything after it takes the zone's way.
    ("time", "2025-01-06 10:00", UTC10),
    ("time", "2025-01-06T10:00:00.250", UTC10 + timedelta(milliseconds=250)),
    ("time", "2025-01-06 10:00:00.1234567", UTC10 + timedelta(microseconds=123456)),  # cut to µs
    ("time", "2025-01-05 24:00:00", UTC10.replace(hour=0)),
    ("time", "2025-02-29 10:00:00", None),  # no such day
    ("time", "2025-01-06 09:30:00-00:30", UTC10),  # an offset of digits alone is still an offset
    ("time", "2025-01-06 12:00:00+02", UTC10),
    ("time", "not a time", None),
    ("time", "1736157600", None),  # epoch text is not guessed: the adapter knows the unit
    ("time", None, None),
    ("int", "12", 12),
    ("int", "12.0", 12),
    ("int", " 7 ", 7),
    ("int", "1e3", 1000),
    ("int", "x", None),
    ("int", "", None),
    ("int", None, None),
    ("float", "1.5", 1.5),
    ("float", "x", None),
    ("float", "nan", None),  # NaN and ±inf are not measurements
    ("float", "inf", None),
    ("float", "-inf", None),
    ("bool", "true", True),
    ("bool", "FALSE", False),
    ("bool", "yes", True),
    ("bool", "no", False),
    ("bool", "1", True),
    ("bool", "0", False),
    ("bool", "maybe", None),
    ("bool", None, None),
    ("text_list", '["a", "b"]', ["a", "b"]),  # a JSON array
    ("text_list", '"a"', ["a"]),  # one JSON string
    ("text_list", '{"k": 1, "j": 2}', ["k", "j"]),  # an object's keys
    ("text_list", "plain words", ["plain words"]),  # not JSON: one item
    ("text_list", "[]", []),
    ("text_list", "[1, 2]", ["1", "2"]),
    ("text_list", None, None),
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("kind", "value", "expected"), CASES)
def test_a_text_value_becomes_the_model_value_its_kind_says(path, kind, value, expected):
    assert _through(path, kind, [value]) == [expected]


NUMBER_CASES = [
    ("int", [12.0, 7.0, None], [12, 7, None]),
    ("float", [1.5, float("nan"), float("inf"), -float("inf"), None], [1.5, None, None, None, None]),
    ("bool", [1, 0, 2, None], [True, False, True, None]),
    ("bool", [True, False, None], [True, False, None]),
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("kind", "values", "expected"), NUMBER_CASES)
def test_a_number_becomes_the_model_value_its_kind_says(path, kind, values, expected):
    assert _through(path, kind, values) == expected


@pytest.mark.parametrize("path", PATHS)
def test_a_half_rounds_the_same_way_from_text_as_from_a_number(path):
    assert _through(path, "int", ["12.5", "13.5"]) == _through(path, "int", [12.5, 13.5]) == [12, 14]


@pytest.mark.parametrize("path", PATHS)
def test_a_boolean_word_is_read_whatever_spaces_surround_it(path):
    assert _through(path, "bool", [" y ", "no "]) == [True, False]


@pytest.mark.parametrize("path", PATHS)
def test_timezone_aware_datetimes_become_the_same_instant_in_utc(path):
    eastern = datetime(2025, 1, 6, 5, tzinfo=timezone(timedelta(hours=-5)))
    assert _through(path, "time", [eastern]) == [UTC10]


@pytest.mark.parametrize("path", PATHS)
def test_naive_datetimes_are_read_as_utc(path):
    assert _through(path, "time", [datetime(2025, 1, 6, 10)]) == [UTC10]


@pytest.mark.parametrize("path", PATHS)
def test_epoch_seconds_converted_as_the_adapters_do_are_the_right_instant(path):
    epoch = pd.Series([1736157600, None], dtype="Int64")
    converted = pd.to_datetime(epoch, unit="s", utc=True)  # what an adapter that knows the unit does
    assert _through(path, "time", list(converted)) == [UTC10, None]


def test_a_number_reaching_a_time_column_is_never_guessed_as_an_epoch():
    """The unit (s, ms, µs) is the adapter's to know. The store leaves such a value missing
    rather than reading 1970 or a wrong year; ``conform`` refuses the column outright."""
    assert _through("store", "time", [1736157600, 1736157600000]) == [None, None]
    with pytest.raises(TypeError, match="adapter"):
        _through("conform", "time", [1736157600])


@pytest.mark.parametrize("path", PATHS)
def test_lists_handed_over_as_lists_stay_lists(path):
    assert _through(path, "text_list", [["a", "b"], None, []]) == [["a", "b"], None, []]
