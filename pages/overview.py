"""Overview: the headline figures against the previous period, and the trends behind them."""

import streamlit as st

from data_layer import queries
from data_layer.sources.registry import fills
from ui import charts
from ui.chart_clicks import chart
from ui.context import context
from ui.downloads import downloads
from ui.filters import describe
from ui.kpis import kpi_row
from ui.markdown import md
from ui.messages import no_match, nothing_to_show

ctx = context()
f, store, palettes = ctx.filters, ctx.store, ctx.palettes
st.title("Overview")
st.caption(f"{describe(f)} · changes are against the previous period of the same length")

change = queries.what_changed(store, f)
if change:
    st.markdown(f":material/insights: **What changed:** {md(change)}")
    before, (first, _last) = f.previous_period(), store.time_span()
    if before is not None and first is not None and before.start < first < before.end:
        share = (before.end - first) / (before.end - before.start)
        st.caption(
            f"The data starts {first:%b %d %H:%M} UTC: it covers only {share:.0%} of the previous period."
        )

kpis = queries.overview_kpis(store, f)
kpi_row(kpis[kpis["table"].map(ctx.has)], queries.kpi_trends(store, f, bucket=ctx.bucket()))
bucket = ctx.bucket()

left, right = st.columns(2)
with left:
    if ctx.has("llm_calls"):
        usage = queries.llm_usage(store, f, bucket=bucket, by="model")
        if usage.empty:
            no_match()
        else:
            fig = charts.bars_over_time(
                usage, "calls", color="model", palettes=palettes,
                title=f"LLM calls per {bucket}, by model", y_title="calls", bucket=bucket,
            )  # fmt: skip
            chart(fig, "overview_calls", filter_on="models")
    else:
        nothing_to_show("LLM calls", fills("llm_calls"))
with right:
    if ctx.has("llm_calls"):
        cost = queries.llm_usage(store, f, bucket=bucket, by="cost_source")
        if cost["cost_usd"].notna().any():
            fig = charts.bars_over_time(
                cost, "cost_usd", color="cost_source",
                title=f"Cost per {bucket} (USD), recorded vs estimated", y_title="USD", bucket=bucket,
            )  # fmt: skip
            chart(fig, "overview_cost")

left, right = st.columns(2)
with left:
    if ctx.has("tasks"):
        done = queries.tasks_completed(store, f, bucket="day", by="agent")
        if not done.empty:
            fig = charts.bars_over_time(
                done, "completed", color="agent", palettes=palettes,
                title="Tasks completed per day, by agent", y_title="tasks", bucket="day",
            )  # fmt: skip
            chart(fig, "overview_tasks", filter_on="agents")
    elif ctx.has("llm_calls"):
        latency = queries.llm_latency(store, f, bucket=bucket)
        if not latency.empty:
            fig = charts.lines_over_time(
                latency,
                ["p50", "p95"],
                title=f"LLM latency per {bucket} (ms), p50 and p95",
                y_title="ms",
                bucket=bucket,
            )
            chart(fig, "overview_latency")
with right:
    if ctx.has("alerts"):
        alerts = queries.alert_counts(store, f, bucket="day", by="severity")
        if not alerts.empty:
            fig = charts.bars_over_time(
                alerts,
                "alerts",
                color="severity",
                title="Alerts raised per day, by severity",
                y_title="alerts",
                bucket="day",
            )
            chart(fig, "overview_alerts", filter_on="severities")

if ctx.has("llm_calls"):
    downloads("llm-calls", lambda: queries.filtered_rows(store, "llm_calls", f))
