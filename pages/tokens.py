"""Tokens: how much text goes in and out, by model, per call and per session."""

import pandas as pd
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
st.title("Tokens")
st.caption(f"{describe(f)} · calls without token counts are left out of the sums and counted below")

if not ctx.has("llm_calls"):
    nothing_to_show("LLM calls", fills("llm_calls"))
    st.stop()

bucket = ctx.bucket()
# Every usage figure on the page in one statement.
totals, usage, by_model = queries.llm_usage_sets(
    store, f, [(), ("bucket", "model"), ("model",)], bucket=bucket,
    columns=["calls", "tokens_in", "tokens_out", "calls_with_tokens_in"],
)  # fmt: skip
totals = totals.iloc[0]
if totals["calls"] == 0:
    no_match()
    st.stop()
a, b, c, d = st.columns(4)
a.metric("Tokens in", fmt_number(totals["tokens_in"]), border=True)
b.metric("Tokens out", fmt_number(totals["tokens_out"]), border=True)
ratio = (
    totals["tokens_out"] / totals["tokens_in"]
    if pd.notna(totals["tokens_in"]) and totals["tokens_in"]
    else None
)
c.metric("Output per input token", "—" if ratio is None or ratio != ratio else f"{ratio:.2f}", border=True)
d.metric(
    "Calls without token counts",
    fmt_number(totals["calls"] - totals["calls_with_tokens_in"]),
    border=True,
)

left, right = st.columns(2)
with left:
    fig = charts.bars_over_time(
        usage, "tokens_in", color="model", palettes=palettes,
        title=f"Input tokens per {bucket}, by model", y_title="tokens in", bucket=bucket,
    )  # fmt: skip
    chart(fig, "tokens_in_time", filter_on="models")
with right:
    fig = charts.bars_over_time(
        usage, "tokens_out", color="model", palettes=palettes,
        title=f"Output tokens per {bucket}, by model", y_title="tokens out", bucket=bucket,
    )  # fmt: skip
    chart(fig, "tokens_out_time", filter_on="models")

left, right = st.columns(2)
with left:
    by_model["output_per_input"] = by_model["tokens_out"] / by_model["tokens_in"]
    fig = charts.bars(
        by_model.dropna(subset=["output_per_input"]), "model", "output_per_input", palettes=palettes,
        title="Output tokens per input token, by model", y_title="tokens out / tokens in",
    )  # fmt: skip
    chart(fig, "tokens_ratio", filter_on="models")
with right:
    measure = st.segmented_control(
        "Distribution of", ["tokens_in", "tokens_out"], default="tokens_in", key="tok_m"
    )
    hist = queries.llm_histogram(store, f, measure=measure or "tokens_in")
    fig = charts.histogram(
        hist, title=f"{(measure or 'tokens_in').replace('_', ' ').capitalize()} per call (log bins)",
        unit="tokens per call", count_title="calls",
    )  # fmt: skip
    chart(fig, "tokens_hist")

st.subheader("Heaviest sessions")
table(
    queries.session_summaries(store, f, order_by="tokens", limit=50)[
        ["session", "agent", "started_at", "llm_calls", "tokens_in", "tokens_out", "tokens", "cost_usd"]
    ],
)
downloads("llm-calls", lambda: queries.filtered_rows(store, "llm_calls", f))
