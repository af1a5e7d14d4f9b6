"""Velocity: how fast work gets done — tasks completed, the status funnel, cycle times, throughput."""

from datetime import timedelta

import plotly.graph_objects as go
import streamlit as st

from data_layer import queries
from data_layer.sources.registry import fills
from ui import charts, palette
from ui.chart_clicks import chart
from ui.context import context
from ui.downloads import downloads
from ui.filters import describe
from ui.messages import no_match, nothing_to_show
from ui.numbers import fmt_number

ctx = context()
f, store, palettes = ctx.filters, ctx.store, ctx.palettes
st.title("Velocity")
st.caption(describe(f))

if ctx.has("tasks"):
    grain = st.segmented_control("Completions per", ["day", "week"], default="day", key="velocity_grain")
    done = queries.tasks_completed(store, f, bucket=grain or "day", by="agent")
    cycle = queries.cycle_times(store, f).iloc[0]
    left, mid, right = st.columns(3)
    left.metric("Tasks completed", fmt_number(done["completed"].sum()), border=True)
    mid.metric("Median cycle time", fmt_number(cycle["p50"], "h"), border=True)
    right.metric("p95 cycle time", fmt_number(cycle["p95"], "h"), border=True)
    if done.empty:
        no_match()
    else:
        fig = charts.bars_over_time(
            done, "completed", color="agent", palettes=palettes,
            title=f"Tasks completed per {grain or 'day'}, by agent", y_title="tasks completed",
            bucket=grain or "day",
        )  # fmt: skip
        chart(fig, "velocity_done", filter_on="agents")

    left, right = st.columns(2)
    with left:
        funnel = queries.task_funnel(store, f)
        fig = go.Figure(
            go.Funnel(
                y=funnel["stage"],
                x=funnel["tasks"],
                marker={"color": [palette.STATUS_COLORS.get(s, palette.PALETTE[0]) for s in funnel["stage"]]},
                textinfo="value+percent initial",
            )
        )
        fig.update_layout(
            title="Task status funnel (tasks first seen in the period)",
            height=320,
            margin={"l": 10, "r": 10, "t": 48, "b": 10},
        )
        chart(fig, "velocity_funnel")
    with right:
        hist = queries.cycle_time_histogram(store, f)
        if hist.empty:
            st.info("No completed task has a start or creation time to measure a cycle from.")
        else:
            fig = charts.histogram(
                hist,
                title="Cycle time of completed tasks (log bins)",
                unit="cycle time",
                count_title="tasks",
                label=charts.hours_label,
            )
            chart(fig, "velocity_cycle")
else:
    nothing_to_show("tasks", fills("tasks"))

if ctx.has("llm_calls"):
    # Hourly up to two weeks (336 bars a series); a longer period in days or weeks, so that a year
    # of eight agents is not 70,000 bars.
    bucket = ctx.bucket(hours_up_to=timedelta(days=14))
    throughput = queries.llm_usage(store, f, bucket=bucket, by="agent", columns=["calls"])
    if not throughput.empty:
        fig = charts.bars_over_time(
            throughput, "calls", color="agent", palettes=palettes,
            title=f"LLM-call throughput per {bucket}, by agent", y_title=f"calls per {bucket}",
            bucket=bucket,
        )  # fmt: skip
        chart(fig, "velocity_throughput", filter_on="agents")

# Commits and lines changed in one statement; the lines' chart only shows beside commits.
code = queries.metric_series(store, f, bucket="day", names=("commits", "lines_added", "lines_deleted"))
commits = code[code["name"] == "commits"].reset_index(drop=True)
if not commits.empty:
    lines = code[code["name"] != "commits"].reset_index(drop=True)
    left, right = st.columns(2)
    with left:
        fig = charts.bars_over_time(
            commits, "total", title="Commits per day", y_title="commits", bucket="day"
        )
        chart(fig, "velocity_commits")
    with right:
        fig = charts.bars_over_time(
            lines,
            "total",
            color="name",
            title="Lines added and deleted per day",
            y_title="lines",
            bucket="day",
        )
        chart(fig, "velocity_lines")

if ctx.has("tasks"):
    downloads("tasks", lambda: queries.filtered_rows(store, "tasks", f))
