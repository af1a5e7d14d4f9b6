"""Plotly figures with Agentwatch's colours, titles that say what is counted, and sane axes.

One colour per agent, model and severity on every page: severities have fixed colours (critical
is always the same red), agents and models take palette colours in the order of the source's
full, sorted list, so filtering never repaints a series. Red is kept out of the palette so that
it only ever means "critical" or "failed".

Names from the data (agents, models, tools, terms) are attacker-controlled text, and Plotly
renders a subset of HTML in trace names, tick labels, hover text and annotations (``<b>``,
``<br>``, ``<a href>`` links). Every such value is drawn through ``safe`` (``<``, ``>`` and ``&``
as entities, which Plotly shows literally); the raw value rides along in ``customdata``, which is
never drawn, so a click still filters by the real name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

SEVERITY_COLORS = {"low": "#60A5FA", "medium": "#FBBF24", "high": "#F97316", "critical": "#DC2626"}
COST_SOURCE_COLORS = {"recorded": "#4F46E5", "estimated": "#A5B4FC", "unknown": "#9CA3AF"}
STATUS_COLORS = {
    "ok": "#10B981",
    "completed": "#10B981",
    "running": "#60A5FA",
    "started": "#60A5FA",
    "pending": "#9CA3AF",
    "blocked": "#F59E0B",
    "error": "#DC2626",
    "failed": "#DC2626",
    "cancelled": "#6B7280",
    "open": "#DC2626",
    "acknowledged": "#F59E0B",
    "resolved": "#10B981",
    "suspicious": "#FBBF24",
    "dangerous": "#DC2626",
}
PALETTE = [
    "#4C78A8", "#F58518", "#54A24B", "#B279A2", "#72B7B2", "#EECA3B",
    "#9D755D", "#FF9DA6", "#2E86AB", "#8CD17D", "#BAB0AC", "#D4A6C8",
]  # fmt: skip
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
    """``frame`` with the text of ``columns`` made safe, and each raw column kept as ``<col>__raw``."""
    out = frame.copy()
    for col in dict.fromkeys(c for c in columns if c):
        if col in out.columns:
            out[f"{col}__raw"] = out[col]
            if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
                out[col] = out[col].map(safe, na_action="ignore")
    return out


def _safe_keys(mapping: dict[str, str] | None) -> dict[str, str] | None:
    return None if mapping is None else {safe(k): v for k, v in mapping.items()}


def palette_for(names: list[str]) -> dict[str, str]:
    """Stable colours for a source's agents or models (pass the full sorted list)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def colors(dim: str | None, palettes: dict[str, dict[str, str]]) -> dict[str, str] | None:
    if dim == "severity":
        return SEVERITY_COLORS
    if dim == "cost_source":
        return COST_SOURCE_COLORS
    if dim in ("status", "level", "outcome"):
        return STATUS_COLORS
    return palettes.get(dim or "")


def order(dim: str, values: pd.Series) -> list[str]:
    """Legend and stacking order: severities by scale (critical first), the rest by name."""
    present = set(values.dropna())
    if dim == "severity":
        return [s for s in reversed(SEVERITY_COLORS) if s in present] + sorted(present - set(SEVERITY_COLORS))
    return sorted(present)


def _finish(fig: go.Figure, title: str, x_title: str | None, y_title: str | None, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        # Placed from the bottom of the figure, not of the plot, so the plot makes room for it:
        # placed from the plot it covers the x title or the second line of date ticks.
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0, "title": None},
        hovermode="x unified",
    )
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title=y_title, rangemode="tozero")
    return fig


def sparkline(values: list[float | None], *, bars: bool) -> go.Figure:
    """A KPI card's trend, one point per bucket, without axes or title.

    ``None`` is a bucket nothing measured (no calls, or calls without token counts); it is drawn
    as a gap (``connectgaps=False``), never as 0. Markers keep a lone value between gaps visible.
    Counts, which are never missing, draw as bars.
    """
    x = list(range(len(values)))
    color = PALETTE[0]
    trace = (
        go.Bar(x=x, y=values, marker={"color": color, "line": {"width": 0}})
        if bars
        else go.Scatter(
            x=x, y=values, mode="lines+markers", connectgaps=False,
            line={"color": color, "width": 1.5}, marker={"color": color, "size": 3},
        )
    )  # fmt: skip
    fig = go.Figure(trace)
    fig.update_layout(
        height=48,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        showlegend=False,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, rangemode="tozero")
    return fig


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
    fig = px.bar(
        shown,
        x="bucket",
        y=y,
        color=color,
        color_discrete_map=_safe_keys(colors(color, palettes or {})),
        color_discrete_sequence=PALETTE,
        category_orders={color: [safe(v) for v in order(color, frame[color])]} if color else None,
        custom_data=[f"{color}__raw"] if color else None,
    )
    fig.update_traces(marker_line_width=0)
    return time_axis(_finish(fig, title, None, y_title, height), frame["bucket"], bucket)


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
    """Lines over time buckets (``bucket`` column, buckets of ``bucket``)."""
    fig = px.line(
        _safe_categories(frame, color),
        x="bucket",
        y=y,
        color=color,
        color_discrete_map=_safe_keys(colors(color, palettes or {})),
        color_discrete_sequence=PALETTE,
        markers=len(frame) < 60,
    )
    return time_axis(_finish(fig, title, None, y_title, height), frame["bucket"], bucket)


def time_axis(fig: go.Figure, buckets: pd.Series, bucket: str) -> go.Figure:
    """A time axis that reads in the chart's own bucket, however short the series.

    Each point is drawn over its bucket (a day's bar between that day's midnights), not centred
    on the bucket's start, where it would straddle two days. Left alone, Plotly also scales the
    axis to the data's span: one point, or a few close together, got ticks milliseconds apart (a
    one-day export's cost chart read "14:00:00.0001"). So a series of a few buckets (up to
    ``_TICK_EVERY_BUCKET``) shows a bucket more on either side, one tick per bucket, and each
    label under its bucket.
    """
    times = pd.to_datetime(buckets.dropna(), utc=True)
    if times.empty:
        return fig
    width = BUCKET_WIDTHS[bucket]
    first, last = times.min(), times.max()
    ms = width.total_seconds() * 1000
    fig.update_traces(xperiod=ms, xperiod0=_plotly_time(first), xperiodalignment="middle")
    fig.update_traces(width=0.8 * ms, selector={"type": "bar"})  # Plotly sizes bars by the gaps
    if (last - first) / width + 1 > _TICK_EVERY_BUCKET:
        return fig
    # A whole bucket either side: at least three in all, and no half bucket labelled at an edge.
    fig.update_xaxes(
        range=[_plotly_time(first - width), _plotly_time(last + 2 * width)],
        tick0=_plotly_time(first),
        dtick=ms,
        tickformat=_TICK_FORMATS[bucket],
        ticklabelmode="period",
    )
    return fig


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
    fig = px.bar(
        shown,
        x=y if horizontal else x,
        y=x if horizontal else y,
        color=color,
        orientation="h" if horizontal else "v",
        color_discrete_map=palette,
        color_discrete_sequence=PALETTE,
        custom_data=[f"{x}__raw"],
    )
    fig.update_layout(showlegend=color != x)
    fig = _finish(fig, title, None, None if horizontal else y_title, height)
    # Ids such as session "3271" are names, not numbers: keep the category axis categorical.
    if horizontal:
        fig.update_xaxes(title=y_title)
        fig.update_yaxes(autorange="reversed", title=None, type="category")
    else:
        fig.update_xaxes(type="category")
    fig.update_layout(hovermode="closest")
    return fig


def stacked_bars(
    frame: pd.DataFrame, category: str, parts: dict[str, str], *, title: str, x_title: str, height: int = 320
) -> go.Figure:
    """Horizontal bars per category, stacked from several count columns (``parts``: column -> label).
    The chart grows with the categories so that every one keeps its label.
    """
    height = max(height, 150 + 22 * frame[category].nunique())
    fig = go.Figure()
    for i, (column, label) in enumerate(parts.items()):
        fig.add_trace(
            go.Bar(
                y=frame[category].astype(str).map(safe),
                x=frame[column],
                name=label,
                orientation="h",
                marker_color=PALETTE[i],
            )
        )
    fig.update_layout(barmode="stack")
    fig = _finish(fig, title, x_title, None, height)
    fig.update_yaxes(autorange="reversed", type="category", title=None, dtick=1)
    fig.update_layout(hovermode="closest", legend={"traceorder": "normal"})
    return fig


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
    fig = go.Figure(go.Bar(x=labels, y=frame["count"], marker_color=PALETTE[0], marker_line_width=0))
    fig = _finish(fig, title, unit, count_title, height)
    fig.update_layout(hovermode="closest", bargap=0.05)
    return fig


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


def series_panels(
    series: pd.DataFrame, limits: pd.DataFrame, names: list[str], *, bucket: str, agent: str | None = None
) -> go.Figure:
    """One panel per metric series, stacked on a shared time axis, thresholds as dashed lines.

    ``series`` is ``queries.metric_series`` (bucket, name, unit, mean...); ``limits`` is
    ``queries.threshold_breaches`` (metric, level, agent, threshold, samples, breaches).
    An agent's own thresholds are drawn only when the chart shows that one agent (``agent``):
    against every agent's mean they would mislead.
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.06)
    for row, name in enumerate(names, start=1):
        one = series[series["name"] == name]
        unit = next(iter(one["unit"].dropna()), "")
        label = safe(f"{name} ({unit})" if unit else name)
        fig.add_trace(
            go.Scatter(
                x=one["bucket"],
                y=one["mean"],
                name=safe(name),
                mode="lines",
                line={"color": PALETTE[(row - 1) % len(PALETTE)]},
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text=label, row=row, col=1, rangemode="tozero")
        drawn = limits[(limits["metric"] == name) & (limits["agent"].isna() | (limits["agent"] == agent))]
        for t in drawn.itertuples():
            who = t.agent if isinstance(t.agent, str) else "all agents"
            critical = "crit" in str(t.level)
            fig.add_hline(
                y=t.threshold,
                line_dash="dash",
                line_color=SEVERITY_COLORS["critical" if critical else "high"],
                annotation_text=safe(
                    f"{t.level} {t.threshold:g} ({who}): {t.breaches:,} of {t.samples:,} samples above"
                ),
                # Critical above its line on the right, warning below its own on the left: two close
                # lines (warning 85, critical 95) keep their labels apart and off the other line.
                annotation_position="top right" if critical else "bottom left",
                row=row,
                col=1,
            )
    time_axis(fig, series["bucket"], bucket)
    fig.update_layout(
        title={"text": f"Metric series, mean per {bucket}", "font": {"size": 15}},
        height=170 * len(names) + 80,
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 48, "b": 10},
        hovermode="x unified",
    )
    return fig
