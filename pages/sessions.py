"""Sessions: find a session, then read what happened in it, call by call."""

import streamlit as st

from data_layer import queries
from data_layer.sources.registry import fills
from ui.context import context
from ui.downloads import downloads
from ui.filters import describe
from ui.markdown import md
from ui.messages import no_match, nothing_to_show
from ui.tables import table

ctx = context()
f, store = ctx.filters, ctx.store
st.title("Sessions")
st.caption(f"{describe(f)} · sessions with LLM calls, tool calls or alerts in the period")

if not (ctx.has("llm_calls") or ctx.has("tool_calls") or ctx.has("sessions")):
    nothing_to_show(
        "sessions",
        fills("llm_calls", "tool_calls", "sessions") + " Sessions are read from their session ids.",
    )
    st.stop()

left, right = st.columns([3, 1])
search = left.text_input("Search", placeholder="session id or agent", key="session_search")
order = right.selectbox("Sort by", list(queries.SESSION_ORDERS), key="session_order",
                        format_func=lambda k: k.replace("_", " "))  # fmt: skip
sessions = queries.session_summaries(store, f, search=search, order_by=order, limit=500)
if sessions.empty:
    no_match()
    st.stop()
picked = table(
    sessions,
    on_select="rerun",
    selection_mode="single-row",
    key="session_table",
)
st.caption(f"{len(sessions):,} sessions shown (at most 500). Select one to see its timeline.")

rows = picked.selection.rows if picked else []
chosen = sessions.iloc[rows[0]]["session"] if rows else st.session_state.get("selected_session")
if chosen:
    timeline = ctx.shown(queries.session_timeline(store, chosen), ["detail"])
    st.subheader(f"Session {md(chosen)}")
    st.caption("In time order: each LLM call's model, tokens, cost and latency; each tool call's result.")
    step = table(
        timeline,
        on_select="rerun",
        selection_mode="single-row",
        key="timeline_table",
    )
    steps = step.selection.rows if step else []
    if steps and timeline.iloc[steps[0]]["kind"] == "llm call":
        call = queries.event_detail(store, str(timeline.iloc[steps[0]]["id"]))
        if not call.empty:
            call = ctx.shown(call, ["prompt", "response", "error"]).iloc[0]
            left, right = st.columns(2)
            left.markdown("**Prompt**")
            left.text(call["prompt"] if isinstance(call["prompt"], str) else "(not recorded)")
            right.markdown("**Response**")
            right.text(call["response"] if isinstance(call["response"], str) else "(not recorded)")
    downloads(f"session-{chosen}", lambda: timeline)
