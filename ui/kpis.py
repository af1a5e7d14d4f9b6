"""The KPI cards: each KPI's figure, its change from the previous period, and its trend."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.charts import sparkline
from ui.numbers import NO_CHANGE, fmt_delta, fmt_number

_COUNTS = ("calls", "tasks", "alerts")


def kpi_row(kpis: pd.DataFrame, trends: dict[str, list[float | None]] | None = None) -> None:
    """st.metric per KPI row (label, current, previous, unit, rise_is_good), four to a row, with
    the KPI's trend over the period as a sparkline where ``trends`` has one.

    The sparkline is a Plotly figure rather than st.metric's own chart, which takes only numbers:
    a bucket nothing measured (None) must show as a gap, not as 0.
    """
    rows = list(kpis.itertuples())
    for start in range(0, len(rows), 4):
        columns = st.columns(4)
        for col, k in zip(columns, rows[start : start + 4], strict=False):
            delta = fmt_delta(k.current, k.previous, k.unit)
            unchanged = delta == NO_CHANGE
            color = (
                "off" if k.rise_is_good is None or unchanged else ("normal" if k.rise_is_good else "inverse")
            )
            trend = (trends or {}).get(k.kpi) or []
            card = col.container(border=True)
            card.metric(
                k.label,
                fmt_number(k.current, k.unit),
                delta,
                delta_color=color,
                delta_arrow="off" if unchanged else "auto",
            )
            if len(trend) > 1 and any(v is not None for v in trend):
                card.plotly_chart(
                    sparkline(trend, bars=k.unit in _COUNTS),
                    key=f"sparkline_{k.kpi}",
                    config={"staticPlot": True, "displayModeBar": False},
                )
