"""KPI cards: a bucket nothing measured shows as a gap in the card's sparkline, never as 0."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def _cards() -> None:
    import pandas as pd

    from ui.kpis import kpi_row

    kpis = pd.DataFrame(
        [
            ("tokens_in", "Tokens in", 12.0, None, "tokens", None, "llm_calls"),
            ("llm_calls", "LLM calls", 3.0, None, "calls", None, "llm_calls"),
        ],
        columns=["kpi", "label", "current", "previous", "unit", "rise_is_good", "table"],
    )
    kpi_row(kpis, {"tokens_in": [5.0, None, 7.0], "llm_calls": [1.0, 0.0, 2.0]})


def _traces(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec)["data"][0] for chart in at.get("plotly_chart")]


def test_a_bucket_without_a_measure_is_a_gap_in_the_sparkline_not_zero():
    at = AppTest.from_function(_cards).run()
    assert not at.exception
    assert [m.label for m in at.metric] == ["Tokens in", "LLM calls"]
    tokens, calls = _traces(at)
    assert tokens["type"] == "scatter" and tokens["connectgaps"] is False
    assert tokens["y"] == [5.0, None, 7.0]
    assert calls["type"] == "bar" and calls["y"] == [1.0, 0.0, 2.0]  # a count: 0 is a real 0
