"""Filters: the one selection every query reads; bounds are UTC-aware, periods compare like with like."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from data_layer.filters import Filters

START = datetime(2025, 1, 6, tzinfo=UTC)


def test_filters_refuse_naive_times():
    with pytest.raises(ValueError, match="timezone-aware"):
        Filters(start=datetime(2025, 1, 1))


def test_previous_period_has_the_same_length():
    f = Filters(start=START, end=START + timedelta(days=7))
    assert f.previous_period() == Filters(start=START - timedelta(days=7), end=START)
    assert Filters().previous_period() is None


def test_filters_turn_lists_into_tuples_so_they_stay_hashable():
    f = Filters(agents=["a", "b"])
    assert f.agents == ("a", "b") and hash(f) == hash(Filters(agents=("a", "b")))


def test_naive_bounds_are_the_same_instant_in_utc():
    local = datetime(2025, 1, 6, 12, 30, tzinfo=ZoneInfo("Europe/Paris"))  # 11:30 UTC in winter
    assert Filters(start=local).naive_bounds() == (datetime(2025, 1, 6, 11, 30), None)
