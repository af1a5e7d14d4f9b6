"""Plotly figures with Agentwatch's colours, titles that say what is counted, and sane axes.

One colour per agent, model and severity on every page (``ui.palette``).

Names from the data (agents, models, tools, terms) are attacker-controlled text, and Plotly
renders a subset of HTML in trace names, tick labels, hover text and annotations (``<b>``,
``<br>``, ``<a href>`` links). Every such value is drawn through ``safe`` (``<``, ``>`` and ``&``
as entities, which Plotly shows literally); the raw value rides along in ``customdata``, which is
never drawn, so a click still filters by the real name.

Each figure is built in one pass: traces as dicts with all their properties, the layout as one
dict, validated once by ``go.Figure``. plotly.express and the ``update_*`` passes after it cost
five to eight times as much per figure, and a page draws up to 15. What plotly.express drew
(hover text, legend groups, colour order, category order) is kept property for property:
tests/test_charts_same.py compares every builder with figures it built.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go

from ui.palette import MISSING_COLOR, PALETTE, colors, order

# No chart sends more points than this. Charts draw aggregates, never rows: time buckets sized to
# the period (PageContext.bucket, ~400 at most) and log bins; tests/test_pages.py checks every chart.
MAX_POINTS = 10_000
# The width of each time bucket the queries group by (``queries.BUCKETS``).
BUCKET_WIDTHS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
# Up to this many buckets, the time axis has one tick per bucket; beyond, Plotly spaces them.
_TICK_EVERY_BUCKET = 12


def safe(text: object) -> object:
    """A value from the data as Plotly must get it to show it literally (not as HTML)."""
    if not isinstance(text, str):
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe_categories(frame: pd.DataFrame, *columns: str | None) -> pd.DataFrame:
    """``frame`` with the text of ``columns`` made safe, each raw column kept as ``<col>__raw``,
    and a missing value named ``missing_label(col)``: rows without a model are calls too, and a
    chart that left them out would add up to less than the page's totals, with no word of it."""
    out = frame.copy()
    for col in dict.fromkeys(c for c in columns if c):
        if col in out.columns:
            out[f"{col}__raw"] = out[col]
            if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
                out[col] = out[col].map(safe, na_action="ignore").astype(object)
                out[col] = out[col].where(out[col].notna(), missing_label(col))
    return out


def missing_label(column: str) -> str:
    """What a chart calls the rows whose ``column`` is missing: "(no model)", drawn in grey."""
    return f"(no {column.replace('_', ' ')})"


def _safe_keys(mapping: dict[str, str] | None) -> dict[str, str] | None:
    return None if mapping is None else {safe(k): v for k, v in mapping.items()}


# The layout every chart shares. The legend is placed from the bottom of the figure, not of the
# plot, so the plot makes room for it: placed from the plot it covers the x title or the second
# line of date ticks.
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
_LEGEND = {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0}
# The single subplot's axes as they always were, and the legend's group gap: every trace has a
# legend group of its own, so the gap spaces the legend's entries.
_X = {"anchor": "y", "domain": [0.0, 1.0]}
_Y = {"anchor": "x", "domain": [0.0, 1.0]}
_GROUPED_LEGEND = {**_LEGEND, "tracegroupgap": 0}


def _title(text: str | None) -> dict:
    return {} if text is None else {"text": text}


def _layout(title: str, height: int, **rest: object) -> dict:
    """A chart's layout, passed to the figure once: validating it is most of a figure's cost."""
    return {
        "title": {"text": title, "font": {"size": 15}},
        "height": height,
        "margin": _MARGIN,
        "legend": _LEGEND,
        "hovermode": "x unified",
        **rest,
    }


def _column(series: pd.Series) -> object:
    """A column's values as Plotly takes them: times in UTC without a zone."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.to_numpy()


def _groups(values: pd.Series, first: list, missing: str) -> tuple[list, list[tuple[object, list[int]]]]:
    """One series per value of a colour column, in legend order; and every value in that order.

    The order is ``first`` then the others in the order they come, and last ``missing``, the
    name ``_safe_categories`` gives the rows without a value. A missing value left is one it had
    no name for (not text): a series of its own when it is the only one, named "None".
    """
    absent = values.isna().to_numpy()
    keys = [None if gone else v for v, gone in zip(values.tolist(), absent, strict=True)]
    present = list(dict.fromkeys(keys))
    others = [k for k in present if not (isinstance(k, str) and k == missing)]
    ordered = list(dict.fromkeys([*first, *others])) + ([missing] if len(others) < len(present) else [])
    if len(present) == 1:
        return ordered, [(present[0], list(range(len(keys))))]
    rows: dict[object, list[int]] = {}
    for i, key in enumerate(keys):
        if key is not None:
            rows.setdefault(key, []).append(i)
    return ordered, sorted(rows.items(), key=lambda item: ordered.index(item[0]))


def _color_map(ordered: list, mapping: dict[str, str] | None, missing: str) -> dict:
    """``mapping``, with the next palette colour for each value it has no colour for, and grey
    for ``missing``, the rows without a value."""
    out: dict = {k: v for k, v in (mapping or {}).items() if k != missing}
    for value in ordered:
        if value not in out and value != missing:
            out[value] = PALETTE[len(out) % len(PALETTE)]
    return out | {missing: MISSING_COLOR}


def _hover(labels: dict[str, str]) -> str:
    return "<br>".join(f"{k}={v}" for k, v in labels.items()) + "<extra></extra>"


def _series(
    frame: pd.DataFrame,
    x: str,
    y: str,
    color: str | None,
    mapping: dict[str, str] | None,
    first: list,
    style: Callable[[str], dict],
    *,
    custom: str | None = None,
) -> tuple[list[dict], list]:
    """The traces of ``frame``: one per value of ``color`` (one in all without), each styled by
    ``style(colour)``, hover labels naming the columns; and the colour column's values in order.
    ``custom`` is the column whose value rides along in ``customdata`` (never drawn).
    """
    missing = missing_label(color) if color else ""
    everything = [("", list(range(len(frame))))]
    ordered, groups = _groups(frame[color], first, missing) if color else ([], everything)
    palette = _color_map(ordered, mapping, missing) if color else {"": PALETTE[0]}
    xs, ys = _column(frame[x]), _column(frame[y])
    customs = frame[custom].to_numpy(dtype=object).reshape(-1, 1) if custom else None
    traces = []
    for value, rows in groups:
        name = str(value) if color else ""
        labels = {color: "%{x}" if color == x else "%{y}" if color == y else name} if color else {}
        trace = {
            "name": name,
            "legendgroup": name,
            "showlegend": name != "",
            "hovertemplate": _hover({**labels, x: labels.get(x, "%{x}"), y: labels.get(y, "%{y}")}),
            "x": xs[rows],
            "y": ys[rows],
            "xaxis": "x",
            "yaxis": "y",
            **style(palette[value]),
        }
        if customs is not None:
            trace["customdata"] = customs[rows]
        traces.append(trace)
    return traces, ordered


def _bar(orientation: str, line: bool) -> Callable[[str], dict]:
    marker_line = {"line": {"width": 0}} if line else {}

    def style(color: str) -> dict:
        marker = {"color": color, "pattern": {"shape": ""}, **marker_line}
        return {"type": "bar", "marker": marker, "orientation": orientation, "textposition": "auto"}

    return style


def sparkline(values: list[float | None], *, bars: bool) -> go.Figure:
    """A KPI card's trend, one point per bucket, without axes or title.

    ``None`` is a bucket nothing measured (no calls, or calls without token counts); it is drawn
    as a gap (``connectgaps=False``), never as 0. Markers keep a lone value between gaps visible.
    Counts, which are never missing, draw as bars.
    """
    x = list(range(len(values)))
    color = PALETTE[0]
    trace = (
        {"type": "bar", "x": x, "y": values, "marker": {"color": color, "line": {"width": 0}}}
        if bars
        else {
            "type": "scatter", "x": x, "y": values, "mode": "lines+markers", "connectgaps": False,
            "line": {"color": color, "width": 1.5}, "marker": {"color": color, "size": 3},
        }
    )  # fmt: skip
    layout = {
        "height": 48,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "showlegend": False,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"visible": False},
        "yaxis": {"visible": False, "rangemode": "tozero"},
    }
    return go.Figure(data=[trace], layout=layout)


def bars_over_time(
    frame: pd.DataFrame,
    y: str,
    *,
    title: str,
    y_title: str,
    bucket: str,
    color: str | None = None,
    palettes: dict[str, dict[str, str]] | None = None,
    height: int = 340,
) -> go.Figure:
    """Stacked bars per time bucket (``bucket`` column, buckets of ``bucket``), one colour per value
    of ``color``."""
    shown = _safe_categories(frame, color)
    traces, _ = _series(
        shown, "bucket", y, color, _safe_keys(colors(color, palettes or {})),
        [safe(v) for v in order(color, frame[color])] if color else [],
        _bar("v", line=True), custom=f"{color}__raw" if color else None,
    )  # fmt: skip
    return _over_time(traces, frame["bucket"], bucket, _layout(title, height, barmode="relative"), y_title)


def lines_over_time(
    frame: pd.DataFrame,
    y: str | list[str],
    *,
    title: str,
    y_title: str,
    bucket: str,
    color: str | None = None,
    palettes: dict[str, dict[str, str]] | None = None,
    height: int = 340,
) -> go.Figure:
    """Lines over time buckets (``bucket`` column, buckets of ``bucket``). Several ``y`` columns
    are one line each, named by the column."""
    mode = "lines+markers" if len(frame) < 60 else "lines"

    def style(line: str) -> dict:
        return {
            "type": "scatter", "mode": mode, "orientation": "v",
            "line": {"color": line, "dash": "solid"}, "marker": {"symbol": "circle"},
        }  # fmt: skip

    if isinstance(y, list):  # one series per column, as if the columns were one long "value" column
        if color is not None:
            raise ValueError("lines_over_time draws several columns or a colour column, not both")
        shown = frame[["bucket", *y]].melt(id_vars="bucket", var_name="variable", value_name="value")
        traces, _ = _series(shown, "bucket", "value", "variable", None, [], style)
    else:
        mapping = _safe_keys(colors(color, palettes or {}))
        traces, _ = _series(_safe_categories(frame, color), "bucket", y, color, mapping, [], style)
    return _over_time(traces, frame["bucket"], bucket, _layout(title, height), y_title)


def _over_time(traces: list[dict], buckets: pd.Series, bucket: str, layout: dict, y_title: str) -> go.Figure:
    """The figure of traces over time buckets, on ``_time_axis``'s axis."""
    every, bars, axis = time_axis(buckets, bucket)
    for trace in traces:
        trace.update(every)
        if trace["type"] == "bar":
            trace.update(bars)
    layout |= {
        "legend": _GROUPED_LEGEND,
        "xaxis": {**_X, **axis},
        "yaxis": {**_Y, "title": _title(y_title), "rangemode": "tozero"},
    }
    return go.Figure(data=traces, layout=layout)


def time_axis(buckets: pd.Series, bucket: str) -> tuple[dict, dict, dict]:
    """A time axis that reads in the chart's own bucket, however short the series: what every
    trace, every bar trace and the x axis take.

    Each point is drawn over its bucket (a day's bar between that day's midnights), not centred
    on the bucket's start, where it would straddle two days. Left alone, Plotly also scales the
    axis to the data's span: one point, or a few close together, got ticks milliseconds apart (a
    one-day export's cost chart read "14:00:00.0001"). So a series of a few buckets (up to
    ``_TICK_EVERY_BUCKET``) shows a bucket more on either side, one tick per bucket, and each
    label under its bucket.
    """
    times = pd.to_datetime(buckets.dropna(), utc=True)
    if times.empty:
        return {}, {}, {}
    width = BUCKET_WIDTHS[bucket]
    first, last = times.min(), times.max()
    ms = width.total_seconds() * 1000
    every = {"xperiod": ms, "xperiod0": _plotly_time(first), "xperiodalignment": "middle"}
    bars = {"width": 0.8 * ms}  # Plotly sizes bars by the gaps between them
    if (last - first) / width + 1 > _TICK_EVERY_BUCKET:
        return every, bars, {}
    # A whole bucket either side: at least three in all, and no half bucket labelled at an edge.
    axis = {
        "range": [_plotly_time(first - width), _plotly_time(last + 2 * width)],
        "tick0": _plotly_time(first),
        "dtick": ms,
        "tickformat": _TICK_FORMATS[bucket],
        "ticklabelmode": "period",
    }
    return every, bars, axis


def _plotly_time(t: pd.Timestamp) -> str:
    """A UTC time as Plotly's date axes take it: ISO text without a zone."""
    return t.tz_convert("UTC").tz_localize(None).isoformat()


_TICK_FORMATS = {"hour": "%H:%M<br>%b %-d, %Y", "day": "%b %-d<br>%Y", "week": "%b %-d<br>%Y"}


def bars(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    title: str,
    y_title: str,
    color: str | None = None,
    palettes: dict[str, dict[str, str]] | None = None,
    horizontal: bool = False,
    height: int = 320,
) -> go.Figure:
    """Bars per category; ``color`` defaults to the category itself so agents keep their colour."""
    color = color or x
    shown = _safe_categories(frame, x, color)
    palette = _safe_keys(colors(color, palettes or {}))
    if palette is None and color == x:  # plain categories (types, tools): one colour, not a rainbow
        palette = dict.fromkeys(shown[x].dropna().astype(str), PALETTE[0])
    across, along = (y, x) if horizontal else (x, y)
    traces, ordered = _series(
        shown,
        across,
        along,
        color,
        palette,
        [],
        _bar("h" if horizontal else "v", line=False),
        custom=f"{x}__raw",
    )
    # Ids such as session "3271" are names, not numbers: keep the category axis categorical.
    categories = {"type": "category"}
    if color == x:  # bars in the order they come, top down when horizontal
        categories |= {"categoryorder": "array", "categoryarray": ordered[::-1] if horizontal else ordered}
    values = {"title": _title(y_title)}
    layout = _layout(
        title, height, barmode="relative", hovermode="closest", showlegend=color != x, legend=_GROUPED_LEGEND
    )
    if horizontal:
        layout["xaxis"] = {**_X, **values}
        layout["yaxis"] = {**_Y, **categories, "autorange": "reversed", "rangemode": "tozero"}
    else:
        layout["xaxis"] = {**_X, **categories}
        layout["yaxis"] = {**_Y, **values, "rangemode": "tozero"}
    return go.Figure(data=traces, layout=layout)


def stacked_bars(
    frame: pd.DataFrame, category: str, parts: dict[str, str], *, title: str, x_title: str, height: int = 320
) -> go.Figure:
    """Horizontal bars per category, stacked from several count columns (``parts``: column -> label).
    The chart grows with the categories so that every one keeps its label.
    """
    height = max(height, 150 + 22 * frame[category].nunique())
    names = frame[category].astype(str).map(safe)
    traces = [
        {
            "type": "bar",
            "y": names,
            "x": frame[column],
            "name": label,
            "orientation": "h",
            "marker": {"color": PALETTE[i]},
        }
        for i, (column, label) in enumerate(parts.items())
    ]
    layout = _layout(
        title,
        height,
        barmode="stack",
        hovermode="closest",
        legend={**_LEGEND, "traceorder": "normal"},
        xaxis={"title": _title(x_title)},
        yaxis={"autorange": "reversed", "type": "category", "dtick": 1, "rangemode": "tozero"},
    )
    return go.Figure(data=traces, layout=layout)


def histogram(
    frame: pd.DataFrame,
    *,
    title: str,
    unit: str,
    count_title: str,
    height: int = 300,
    label: Callable[[float], str] | None = None,
) -> go.Figure:
    """Bars of a log-binned distribution (``bin_start``, ``bin_end``, ``count``), labelled by the
    upper edge of each bin ("≤ 1.3k"), formatted with ``label`` (default: 3 significant digits).
    """
    label = label or _short
    labels = [f"≤ {label(b)}" if b else "0" for b in frame["bin_end"]]
    trace = {
        "type": "bar",
        "x": labels,
        "y": frame["count"],
        "marker": {"color": PALETTE[0], "line": {"width": 0}},
    }
    layout = _layout(
        title,
        height,
        hovermode="closest",
        bargap=0.05,
        xaxis={"title": _title(unit)},
        yaxis={"title": _title(count_title), "rangemode": "tozero"},
    )
    return go.Figure(data=[trace], layout=layout)


def hours_label(hours: float) -> str:
    """A duration given in hours, in the unit a person would use for it."""
    seconds = hours * 3600
    if seconds < 90:
        return f"{seconds:.2g} s"
    if seconds < 5400:
        return f"{seconds / 60:.2g} min"
    if hours < 48:
        return f"{hours:.2g} h"
    return f"{hours / 24:.2g} d"


def _short(v: float) -> str:
    if v >= 1_000_000:
        return f"{v / 1_000_000:.3g}M"
    if v >= 1_000:
        return f"{v / 1_000:.3g}k"
    return f"{v:.3g}"
