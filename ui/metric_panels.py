"""The Latency page's metric chart: one panel per series on a shared time axis, with thresholds.

Built as ``ui.charts`` builds its figures, in one pass: traces and the layout as dicts, the
panel grid laid out by ``make_subplots`` once per number of panels and reused.
"""

from __future__ import annotations

import functools
import json

import pandas as pd
import plotly.graph_objects as go

from ui.charts import safe, time_axis
from ui.palette import PALETTE, SEVERITY_COLORS


def series_panels(
    series: pd.DataFrame, limits: pd.DataFrame, names: list[str], *, bucket: str, agent: str | None = None
) -> go.Figure:
    """One panel per metric series, stacked on a shared time axis, thresholds as dashed lines.

    ``series`` is ``queries.metric_series`` (bucket, name, unit, mean...); ``limits`` is
    ``queries.threshold_breaches`` (metric, level, agent, threshold, samples, breaches).
    An agent's own thresholds are drawn only when the chart shows that one agent (``agent``):
    against every agent's mean they would mislead.
    """
    layout = _panel_grid(len(names))
    traces, shapes, notes = [], [], []
    for row, name in enumerate(names, start=1):
        x, y = ("x", "y") if row == 1 else (f"x{row}", f"y{row}")
        one = series[series["name"] == name]
        unit = next(iter(one["unit"].dropna()), "")
        color = PALETTE[(row - 1) % len(PALETTE)]
        traces.append(
            {"type": "scatter", "x": one["bucket"], "y": one["mean"], "name": safe(name), "mode": "lines",
             "line": {"color": color}, "xaxis": x, "yaxis": y}
        )  # fmt: skip
        layout[f"yaxis{row if row > 1 else ''}"] |= {
            "title": {"text": safe(f"{name} ({unit})" if unit else name)},
            "rangemode": "tozero",
        }
        drawn = limits[(limits["metric"] == name) & (limits["agent"].isna() | (limits["agent"] == agent))]
        for t in drawn.itertuples():
            line, note = _threshold(t, x, y)
            shapes.append(line)
            notes.append(note)
    every, _, axis = time_axis(series["bucket"], bucket)
    for trace in traces:
        trace.update(every)
    for key in [k for k in layout if k.startswith("xaxis")]:
        layout[key] |= axis
    layout |= {
        "title": {"text": f"Metric series, mean per {bucket}", "font": {"size": 15}},
        "height": 170 * len(names) + 80,
        "showlegend": False,
        "margin": {"l": 10, "r": 10, "t": 48, "b": 10},
        "hovermode": "x unified",
    }
    if shapes:
        layout |= {"shapes": shapes, "annotations": notes}
    return go.Figure(data=traces, layout=layout)


@functools.cache
def _panel_grid_axes(rows: int) -> str:
    from plotly.subplots import make_subplots

    grid = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.06)
    return json.dumps({k: v for k, v in grid.layout.to_plotly_json().items() if k != "template"})


def _panel_grid(rows: int) -> dict:
    """The axes of ``rows`` panels stacked on one time axis, as ``make_subplots`` lays them out
    (domains, anchors, the x axes matched, tick labels on the bottom one only); laid out once per
    number of panels, a fresh copy for each figure."""
    return json.loads(_panel_grid_axes(rows))


def _threshold(t: object, x: str, y: str) -> tuple[dict, dict]:
    """A threshold's dashed line across its panel, and its label, as ``add_hline`` drew them.

    Critical above its line on the right, warning below its own on the left: two close lines
    (warning 85, critical 95) keep their labels apart and off the other line.
    """
    who = t.agent if isinstance(t.agent, str) else "all agents"
    critical = "crit" in str(t.level)
    text = safe(f"{t.level} {t.threshold:g} ({who}): {t.breaches:,} of {t.samples:,} samples above")
    line = {
        "type": "line", "x0": 0, "x1": 1, "xref": f"{x} domain", "y0": t.threshold, "y1": t.threshold,
        "yref": y, "line": {"color": SEVERITY_COLORS["critical" if critical else "high"], "dash": "dash"},
    }  # fmt: skip
    side = (
        {"x": 1, "xanchor": "right", "yanchor": "bottom"}
        if critical
        else {"x": 0, "xanchor": "left", "yanchor": "top"}
    )
    note = {"text": text, "showarrow": False, "xref": f"{x} domain", "y": t.threshold, "yref": y, **side}
    return line, note
