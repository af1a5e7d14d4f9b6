"""Security: alerts by severity, type and status, what triggered them, and each alert's context."""

import streamlit as st

from data_layer import queries
from data_layer.sources.registry import fills
from ui import charts
from ui.chart_clicks import chart
from ui.context import context
from ui.downloads import downloads
from ui.filters import describe
from ui.markdown import md
from ui.messages import nothing_to_show
from ui.numbers import fmt_number
from ui.tables import table

ctx = context()
f, store, palettes = ctx.filters, ctx.store, ctx.palettes
st.title("Security")
st.caption(
    f"{describe(f)} · alerts are what the source raised; flagged events are events it marked suspicious"
    " or dangerous without raising an alert, counted apart"
)

if not ctx.has("alerts") and not ctx.has("flagged_events"):
    nothing_to_show(
        "security alerts",
        fills("alerts", "flagged_events"),
    )
    st.stop()

# Every alert count on the page in one statement: open by severity, per day, by type, by status.
by_severity, *counts = queries.alert_sets(
    store, f, [("severity",), ("bucket", "severity"), ("type",), ("status",)]
)
over_time, by_type, statuses = (frame.drop(columns="open_alerts") for frame in counts)
open_now = queries.only_open(by_severity).set_index("severity")["alerts"]
flagged = queries.flagged_event_counts(store, f, by="level")
columns = st.columns(5)
for col, severity in zip(columns, ["critical", "high", "medium", "low"], strict=False):
    col.metric(f"Open {severity}", fmt_number(open_now.get(severity, 0)), border=True)
columns[4].metric("Flagged events", fmt_number(flagged["events"].sum()), border=True)

left, right = st.columns(2)
with left:
    fig = charts.bars_over_time(
        over_time,
        "alerts",
        color="severity",
        title="Alerts per day, by severity",
        y_title="alerts",
        bucket="day",
    )
    chart(fig, "sec_time", filter_on="severities")
with right:
    fig = charts.bars(
        by_type.sort_values("alerts", ascending=False), "type", "alerts", horizontal=True,
        title="Alerts by type", y_title="alerts",
    )  # fmt: skip
    chart(fig, "sec_type")

left, mid, right = st.columns(3)
with left:
    terms = ctx.shown(queries.matched_terms(store, f), ["term"])
    if terms.empty:
        st.info("No matched terms recorded for these alerts.")
    else:
        fig = charts.stacked_bars(
            terms, "term", {"alerts": "alerts", "flagged_events": "flagged events"},
            title="Most matched terms", x_title="times matched",
        )  # fmt: skip
        chart(fig, "sec_terms")
with mid:
    fig = charts.bars(statuses, "status", "alerts", title="Alerts by status", y_title="alerts")
    chart(fig, "sec_status")
with right:
    rate = queries.alerts_per_thousand_calls(store, f).dropna(subset=["alerts_per_1k_calls"])
    if rate.empty:
        fig = charts.bars(flagged, "level", "events", title="Flagged events by level", y_title="events")
        chart(fig, "sec_flagged")
    else:
        fig = charts.bars(
            rate, "agent", "alerts_per_1k_calls", palettes=palettes,
            title="Alerts per 1,000 LLM calls, by agent", y_title="alerts per 1k calls",
        )  # fmt: skip
        chart(fig, "sec_rate", filter_on="agents")

st.subheader("Alerts")
alerts = ctx.shown(queries.alert_list(store, f, limit=500), ["description", "matched_terms"])
picked = table(
    alerts[["ts", "severity", "type", "agent", "session", "status", "description", "matched_terms"]],
    on_select="rerun",
    selection_mode="single-row",
    key="sec_list",
)
st.caption(
    "Select an alert to see its event and session. The newest 500 alerts matching the filters are listed."
)
rows = picked.selection.rows if picked else []
if rows:
    alert = alerts.iloc[rows[0]]
    with st.container(border=True):
        st.markdown(
            f"**{md(alert['severity'])} · {md(alert['type'])}** at {alert['ts']:%Y-%m-%d %H:%M:%S} UTC"
        )
        st.text(alert["description"] if isinstance(alert["description"], str) else "")
        if isinstance(alert["session"], str):
            timeline = ctx.shown(queries.session_timeline(store, alert["session"]), ["detail"])
            st.markdown(f"Session **{md(alert['session'])}** ({len(timeline):,} events)")
            table(timeline, height=260)
            if st.button("Open this session", icon=":material/forum:"):
                st.session_state["selected_session"] = alert["session"]
                st.switch_page("pages/sessions.py")
downloads("alerts", lambda: queries.filtered_rows(store, "alerts", f))
