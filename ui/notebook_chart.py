"""A notebook cell's result drawn as the chart its spec asks for, in Agentwatch's colours.

Agents, models, severities and statuses keep the colours they have on every page
(``ui.palette.colors``); text from the data is drawn through ``charts.safe``, as on the pages,
so a name holding HTML shows literally. Results are at most ``KEEP_ROWS`` rows (10,000), so a
chart never sends more points than ``charts.MAX_POINTS``.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from data_layer.notebook.charting import column_kinds
from data_layer.notebook.document import ChartSpec
from ui import charts, palette


def figure(
    frame: pd.DataFrame, spec: ChartSpec, palettes: dict[str, dict[str, str]], title: str, height: int = 340
) -> go.Figure | None:
    """The figure for ``spec`` (None for kind 'none' or an empty result)."""
    if spec.kind == "none" or frame.empty or spec.x is None:
        return None
    kinds = column_kinds(frame)
    shown = frame.copy()
    for col in {spec.x, spec.color} - {None}:
        if kinds.get(col) == "text":
            # A missing name is a group of its own, labelled as such, never dropped from the chart.
            shown[col] = [_label(v) for v in shown[col].astype(object)]
    # Bars of agents, models, severities or statuses without a colour column take each one's own
    # colour, as on the pages.
    colored_x = (
        spec.kind == "bar" and kinds.get(spec.x) == "text" and palette.colors(spec.x, palettes) is not None
    )
    color = spec.color or (spec.x if colored_x else None)
    mapping = palette.colors(color, palettes)
    common = {
        "color": color,
        "color_discrete_map": {charts.safe(k): v for k, v in (mapping or {}).items()},
        "color_discrete_sequence": palette.PALETTE,
    }
    # Legends as on the pages (severities by scale, the rest by name); severities on the x axis by
    # scale too, where any other text axis keeps the order the query gave.
    ordered = {color, spec.x if spec.x == "severity" else None} - {None}
    common["category_orders"] = {c: palette.order(c, shown[c]) for c in ordered if kinds.get(c) == "text"}
    if spec.kind == "histogram":
        fig = px.histogram(shown, x=spec.x, **common)
    elif spec.kind == "scatter":
        fig = px.scatter(shown, x=spec.x, y=spec.y, **common)
    elif spec.kind in ("line", "area"):
        ordered = shown.sort_values(spec.x) if kinds.get(spec.x) != "text" else shown
        draw = px.line if spec.kind == "line" else px.area
        fig = draw(ordered, x=spec.x, y=spec.y, markers=spec.kind == "line" and len(shown) < 60, **common)
    else:
        fig = px.bar(shown, x=spec.x, y=spec.y, **common)
        fig.update_traces(marker_line_width=0)
        if kinds.get(spec.x) == "text":
            fig.update_xaxes(type="category")  # ids such as session "3271" are names, not numbers
        fig.update_layout(showlegend=spec.color is not None)
    fig.update_layout(
        title={"text": charts.safe(title), "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0, "title": None},
        hovermode="closest",
    )
    fig.update_yaxes(rangemode="tozero", **_unit(spec.y))
    fig.update_xaxes(**_unit(spec.x) if kinds.get(spec.x) == "number" else {})
    return fig


def _label(value: object) -> str:
    """A category as drawn: text made safe for Plotly, booleans and lists as text, missing said."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "(missing)"
    return charts.safe(str(value))


def _unit(column: str | None) -> dict:
    """Axis formatting from the column's unit suffix, as the pages name their columns."""
    if column is None:
        return {}
    if column.endswith("_usd"):
        return {"tickprefix": "$", "title": column.removesuffix("_usd").replace("_", " ") + " (USD)"}
    if column.endswith("_ms"):
        return {"ticksuffix": " ms", "title": column.removesuffix("_ms").replace("_", " ") + " (ms)"}
    return {"title": column.replace("_", " ")}
