"""Latency: how long calls take — percentiles over time, by model and tool, and against thresholds."""

import streamlit as st

from data_layer import queries
from data_layer.sources.registry import fills
from ui import charts, metric_panels
from ui.chart_clicks import chart
from ui.context import context
from ui.downloads import downloads
from ui.filters import describe
from ui.messages import no_match, nothing_to_show
from ui.numbers import fmt_number
from ui.tables import table

ctx = context()
f, store, palettes = ctx.filters, ctx.store, ctx.palettes
st.title("Latency")
st.caption(f"{describe(f)} · percentiles are exact (linear interpolation over every call with a duration)")
bucket = ctx.bucket()

if ctx.has("llm_calls"):
    overall, over_time, by_model = queries.latency_sets(
        store, f, [(), ("bucket",), ("model",)], bucket=bucket
    )
    overall = overall.iloc[0]
    a, b, c, d = st.columns(4)
    a.metric("p50", fmt_number(overall["p50"], "ms"), border=True)
    b.metric("p95", fmt_number(overall["p95"], "ms"), border=True)
    c.metric("p99", fmt_number(overall["p99"], "ms"), border=True)
    d.metric("Calls with a duration", fmt_number(overall["calls_with_latency"]), border=True)
    if over_time.empty:
        no_match()
    else:
        fig = charts.lines_over_time(
            over_time,
            ["p50", "p95", "p99"],
            title=f"LLM call latency per {bucket} (ms)",
            y_title="ms",
            bucket=bucket,
        )
        chart(fig, "latency_time")
    left, right = st.columns(2)
    with left:
        fig = charts.bars(
            by_model.dropna(subset=["p95"]), "model", "p95", palettes=palettes,
            title="p95 LLM latency by model (ms)", y_title="ms",
        )  # fmt: skip
        chart(fig, "latency_model", filter_on="models")
    with right:
        hist = queries.llm_histogram(store, f, measure="latency_ms")
        fig = charts.histogram(hist, title="LLM call latency (ms, log bins)", unit="ms", count_title="calls")
        chart(fig, "latency_hist")

if ctx.has("tool_calls"):
    by_tool = queries.tool_latency(store, f, by="tool")
    if not by_tool.dropna(subset=["p95"]).empty:
        fig = charts.bars(
            by_tool.dropna(subset=["p95"]),
            "tool",
            "p95",
            title="p95 tool-call latency by tool (ms)",
            y_title="ms",
        )
        chart(fig, "latency_tool", filter_on="tools")

# A source without thresholds or metrics is not asked for them: each question is a round trip.
limits = queries.threshold_breaches(store, f) if ctx.has("thresholds") else queries.no_breaches()
series = queries.metric_series(store, f, bucket=bucket) if ctx.has("metrics") else None
if series is not None and not series.empty:
    st.subheader("Metric series")
    names = sorted(series["name"].unique())
    preferred = [n for n in names if n in set(limits["metric"])] or names[:1]
    picked = st.multiselect("Series", names, default=preferred[:3], key="latency_series")
    if picked:
        only = f.agents[0] if len(f.agents) == 1 else None
        fig = metric_panels.series_panels(series, limits, picked, bucket=bucket, agent=only)
        chart(fig, "latency_series_chart")
        st.caption(
            "Dashed lines are the source's configured thresholds;"
            " an agent's own appear when it is the only agent selected."
        )
elif not ctx.has("llm_calls"):
    nothing_to_show(
        "latency data", "LLM calls with durations, or metric series. " + fills("llm_calls", "metrics")
    )

if not limits.empty:
    st.subheader("Configured thresholds")
    table(limits)
if ctx.has("llm_calls"):
    downloads("llm-calls", lambda: queries.filtered_rows(store, "llm_calls", f))
elif ctx.has("metrics"):
    downloads("metrics", lambda: queries.filtered_rows(store, "metrics", f))
