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

bucket = ctx.bucket()
view = queries.overview(store, f, bucket=bucket, tables=[t for t in queries.KPI_TABLES if ctx.has(t)])
change = view.change
if change:
    st.markdown(f":material/insights: **What changed:** {md(change)}")
    before, (first, _last) = f.previous_period(), store.time_span()
    if before is not None and first is not None and before.start < first < before.end:
        share = (before.end - first) / (before.end - before.start)
        st.caption(
            f"The data starts {first:%b %d %H:%M} UTC: it covers only {share:.0%} of the previous period."
        )

kpi_row(view.kpis, view.trends)

left, right = st.columns(2)
with left:
    if ctx.has("llm_calls"):
        usage = view.usage_by_model
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
        cost = view.cost_by_source
        if cost["cost_usd"].notna().any():
            fig = charts.bars_over_time(
                cost, "cost_usd", color="cost_source",
                title=f"Cost per {bucket} (USD), recorded vs estimated", y_title="USD", bucket=bucket,
            )  # fmt: skip
            chart(fig, "overview_cost")

left, right = st.columns(2)
with left:
    if ctx.has("tasks"):
        done = view.tasks_by_agent
        if not done.empty:
            fig = charts.bars_over_time(
                done, "completed", color="agent", palettes=palettes,
                title="Tasks completed per day, by agent", y_title="tasks", bucket="day",
            )  # fmt: skip
            chart(fig, "overview_tasks", filter_on="agents")
    elif ctx.has("llm_calls"):
        latency = view.latency
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
        alerts = view.alerts_by_severity
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
