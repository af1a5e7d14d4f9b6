"""Cost: where the money goes — over time, per session and per completed task, and how sure we are."""

import streamlit as st

from data_layer import queries
from data_layer.sources.registry import fills
from ui import charts
from ui.chart_clicks import chart
from ui.context import context
from ui.downloads import downloads
from ui.filters import describe
from ui.messages import no_match, nothing_to_show
from ui.numbers import fmt_number
from ui.tables import table

ctx = context()
f, store, palettes = ctx.filters, ctx.store, ctx.palettes
st.title("Cost")
st.caption(
    f"{describe(f)} · recorded cost is what the source stored; estimated comes from genai-prices list prices"
    " for calls without one; unknown means neither was possible"
)

if not ctx.has("llm_calls"):
    nothing_to_show("LLM calls", fills("llm_calls"))
    st.stop()

bucket = ctx.bucket()
STACKS = ["model", "agent", "cost_source"]
# Every usage figure on the page in one statement, the chart's for each way of stacking it.
totals, by_agent, *stacked = queries.llm_usage_sets(
    store, f, [("cost_source",), ("agent",), *(("bucket", s) for s in STACKS)], bucket=bucket,
    columns=["calls", "cost_usd"],
)  # fmt: skip
if totals.empty:
    no_match()
    st.stop()
split = totals.set_index("cost_source")
columns = st.columns(4)
columns[0].metric("Total cost", fmt_number(totals["cost_usd"].sum(min_count=1), "USD"), border=True)
for col, (source, label) in zip(
    columns[1:],
    [("recorded", "Recorded"), ("estimated", "Estimated"), ("unknown", "Calls of unknown cost")],
    strict=True,
):
    if source == "unknown":
        col.metric(label, fmt_number(split["calls"].get(source, 0)), border=True)
    else:
        col.metric(label, fmt_number(split["cost_usd"].get(source), "USD"), border=True)

by = st.segmented_control("Stack by", STACKS, default="model", key="cost_by") or "model"
over_time = stacked[STACKS.index(by)]
fig = charts.bars_over_time(
    over_time, "cost_usd", color=by, palettes=palettes,
    title=f"Cost per {bucket} (USD, recorded + estimated), by {by.replace('_', ' ')}", y_title="USD",
    bucket=bucket,
)  # fmt: skip
chart(fig, "cost_over_time", filter_on={"model": "models", "agent": "agents"}.get(by))

costliest = queries.session_summaries(store, f, order_by="cost", limit=200)  # the chart's ten are its first
left, right = st.columns(2)
with left:
    per_task = queries.cost_per_completed_task(store, f) if ctx.has("tasks") else None
    if per_task is not None and per_task["tasks_completed"].sum() > 0:
        fig = charts.bars(
            per_task.dropna(subset=["cost_per_task_usd"]), "agent", "cost_per_task_usd", palettes=palettes,
            title="Cost per completed task (USD), by agent", y_title="USD per task",
        )  # fmt: skip
        chart(fig, "cost_per_task", filter_on="agents")
    else:
        fig = charts.bars(
            by_agent, "agent", "cost_usd", palettes=palettes, title="Cost by agent (USD)", y_title="USD"
        )
        chart(fig, "cost_by_agent", filter_on="agents")
        st.caption(f"Cost per completed task needs task data. {fills('tasks')}")
with right:
    sessions = costliest.head(10)
    sessions = sessions[sessions["cost_usd"].notna()]
    if sessions.empty:
        st.info("No session has a cost in this period.")
    else:
        fig = charts.bars(
            sessions, "session", "cost_usd", color="agent", palettes=palettes, horizontal=True,
            title="Most expensive sessions (USD)", y_title="USD",
        )  # fmt: skip
        chart(fig, "cost_sessions", filter_on="sessions")

st.subheader("Cost per session")
table(costliest)
downloads("llm-calls", lambda: queries.filtered_rows(store, "llm_calls", f))
