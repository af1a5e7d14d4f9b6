"""Cost estimates: the store's estimate for a call equals genai-prices' own price for it.

The oracle is ``genai_prices.calc_price`` for the call's model, tokens and time: the library's
own calculation, not our price table, which the store joins on (model, time interval, tier).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import genai_prices
import pandas as pd
import pytest

from data_layer.pricing import price_table
from tests import tiny
from tests.builders.cylestio_db import CylestioData

ROOT = Path(__file__).resolve().parent.parent


def _genai_price(model: str, ts: datetime, tokens_in: int, tokens_out: int) -> float:
    usage = genai_prices.Usage(input_tokens=tokens_in, output_tokens=tokens_out)
    return float(genai_prices.calc_price(usage, model, genai_request_timestamp=ts).total_price)


@pytest.fixture(params=["store", pytest.param("postgres", marks=pytest.mark.postgres)])
def estimate(request):
    """(cost_usd, cost_source) the store, or pushdown into PostgreSQL, gives one call."""

    def one_call(model: str, ts: datetime, tokens_in: int | None, tokens_out: int | None, cost=None):
        row = {"call_id": "c", "ts": ts, "model": model, "tokens_in": tokens_in, "tokens_out": tokens_out,
               "cost_usd": cost}  # fmt: skip
        if request.param == "postgres":
            backend = tiny.pushdown(request.getfixturevalue("make_pg_database")("price"), llm_calls=[row])
        else:
            backend = tiny.store(llm_calls=[row])
        calls = backend.frame("llm_calls")
        return calls.loc[0, "cost_usd"], calls.loc[0, "cost_source"]

    return one_call


def _t(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


PRICED = [
    # a few models at ordinary sizes
    ("gpt-4o", _t(2025, 3, 3, 10), 1000, 200),
    ("claude-sonnet-4-20250514", _t(2025, 3, 3, 10), 12345, 678),
    ("gemini-1.5-pro", _t(2025, 3, 3, 10), 0, 50),
    # tier boundary: input tokens above 128,000 cost more, on every token of the call
    ("gemini-1.5-pro", _t(2025, 3, 3, 10), 128_000, 1000),
    ("gemini-1.5-pro", _t(2025, 3, 3, 10), 128_001, 1000),
    ("claude-sonnet-4-6", _t(2026, 3, 12, 10), 200_000, 1000),
    ("claude-sonnet-4-6", _t(2026, 3, 12, 10), 200_001, 1000),
    # the price on the call's day: tiers dropped from 2026-03-13, a price doubled from 2026-12-01
    ("claude-sonnet-4-6", _t(2026, 3, 13, 10), 300_000, 1000),
    ("gemini-4-argon", _t(2026, 11, 30, 23, 59), 1000, 1000),
    ("gemini-4-argon", _t(2026, 12, 1, 0, 0), 1000, 1000),
]


@pytest.mark.parametrize(("model", "ts", "tokens_in", "tokens_out"), PRICED)
def test_a_call_without_a_recorded_cost_gets_genai_prices_estimate(
    estimate, model, ts, tokens_in, tokens_out
):
    cost, source = estimate(model, ts, tokens_in, tokens_out)
    assert source == "estimated"
    assert cost == pytest.approx(_genai_price(model, ts, tokens_in, tokens_out), rel=1e-9)


def test_the_tier_boundary_and_the_day_change_the_price():
    """The cases above are not all the same price: the oracle would pass a flat estimate too."""
    below = _genai_price("gemini-1.5-pro", _t(2025, 3, 3), 128_000, 0) / 128_000
    above = _genai_price("gemini-1.5-pro", _t(2025, 3, 3), 128_001, 0) / 128_001
    assert above == pytest.approx(2 * below)
    assert _genai_price("gemini-4-argon", _t(2026, 12, 1), 1000, 1000) == pytest.approx(
        2 * _genai_price("gemini-4-argon", _t(2026, 11, 30), 1000, 1000)
    )


@pytest.mark.parametrize(
    ("model", "tokens_in", "tokens_out"),
    [
        ("in-house-llm", 1000, 100),  # a model genai-prices does not know
        (None, 1000, 100),  # no model recorded
        ("gpt-4o", None, 100),  # no input tokens
        ("gpt-4o", 1000, None),  # no output tokens
    ],
)
def test_a_call_that_cannot_be_priced_stays_unknown_not_free(estimate, model, tokens_in, tokens_out):
    cost, source = estimate(model, _t(2025, 3, 3, 10), tokens_in, tokens_out)
    assert source == "unknown" and pd.isna(cost)


def test_a_recorded_cost_is_kept_even_for_a_model_with_a_price(estimate):
    assert estimate("gpt-4o", _t(2025, 3, 3, 10), 1000, 200, cost=0.125) == (0.125, "recorded")


def test_the_price_table_has_one_row_per_tier_and_none_for_unknown_models():
    day = date(2025, 3, 3)
    table = price_table([("gemini-1.5-pro", day), ("gpt-4o", day), ("in-house-llm", day)])
    tiers = table[table["model"] == "gemini-1.5-pro"][["above_tokens_in", "up_to_tokens_in"]]
    assert tiers.values.tolist() == [[-1, 128_000], [128_000, 2**62]]
    assert (table["model"] == "gpt-4o").sum() == 1
    assert "in-house-llm" not in set(table["model"])


# deepseek-chat is cheaper off-peak, outside 00:30-16:30 UTC: each side of both ends of the window
OFF_PEAK_EDGES = [
    _t(2025, 3, 3, 0, 0),
    _t(2025, 3, 3, 0, 29, 59, 999_000),
    _t(2025, 3, 3, 0, 30),
    _t(2025, 3, 3, 16, 29, 59, 999_000),
    _t(2025, 3, 3, 16, 30),
    _t(2025, 3, 3, 20),
    _t(2025, 3, 3, 23, 59, 59, 999_000),
]


@pytest.mark.parametrize("ts", OFF_PEAK_EDGES, ids=lambda ts: ts.strftime("%H:%M:%S.%f"))
def test_a_time_of_day_price_applies_at_the_calls_time(estimate, ts):
    cost, source = estimate("deepseek-chat", ts, 1_000_000, 1000)
    assert source == "estimated"
    assert cost == pytest.approx(_genai_price("deepseek-chat", ts, 1_000_000, 1000), rel=1e-9)


def test_the_time_of_day_changes_the_price():
    """The cases above are not all the same price: a noon-of-the-day estimate would fail some."""
    prices = {_genai_price("deepseek-chat", ts, 1_000_000, 1000) for ts in OFF_PEAK_EDGES}
    assert len(prices) == 2


@pytest.mark.parametrize(("unpriced", "imported"), [(False, "False"), (True, "True")])
def test_genai_prices_is_loaded_only_when_a_call_needs_an_estimate(tmp_path, unpriced, imported):
    """Its imports take a quarter of a second: a source that records every cost never pays it."""
    path = CylestioData.generate(seed=3, calls=40).write_sqlite(tmp_path / "c.db")
    with sqlite3.connect(path) as con:
        con.execute("update llm_calls set cost = 0.001" + (" where id = 1" if unpriced else ""))
        if unpriced:
            con.execute("update llm_calls set cost = null, model = 'gpt-4o' where id = 1")
    code = "import sys; from data_layer.sources import open_source; open_source(sys.argv[1]); "
    code += "print('genai_prices' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == imported
