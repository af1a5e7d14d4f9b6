"""Data: what was loaded from the source, how it was read, and what in it needs a second look."""

import pandas as pd
import streamlit as st

from data_layer import queries
from data_layer.model import TABLES
from data_layer.sources.registry import titles_of
from ui.context import context
from ui.downloads import downloads
from ui.markdown import md
from ui.messages import nothing_to_show
from ui.tables import table

ctx = context()
store, info = ctx.store, ctx.store.info
st.title("Data")
st.caption("What Agentwatch read from the source, into which tables, and what it found along the way.")
if not any(ctx.has(t) for t in TABLES):
    nothing_to_show("telemetry", "It holds the tables of a known system, but no rows in them yet.")

start, end = store.time_span()
span = f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC" if start and end else "no timestamps"
with st.container(border=True):
    st.markdown(
        f"**Source** {md(info.label)}  \n"
        f"**Recognised as** {md(', '.join(titles_of(info.system)))}  \n"
        f"**Time span** {span}  \n"
        f"**Loaded in** {info.load_seconds or 0:.2f} s"
    )

left, right = st.columns(2)
with left:
    st.subheader("Source tables")
    if info.source_tables:
        table(pd.DataFrame(list(info.source_tables.items()), columns=["table", "rows"]))
    else:
        st.caption("The source is a file, not tables.")
with right:
    st.subheader("Telemetry model")
    counts = store.row_counts()
    model_rows = pd.DataFrame(
        [(t, counts[t], "yes" if t in info.provided else "no data in this source") for t in TABLES],
        columns=["table", "rows", "from source"],
    )
    table(model_rows)

st.subheader("Data quality")
quality = store.data_quality()
table(quality)

st.subheader("What was read")
for sentence in info.report.sentences(fields=False):
    st.text(f"• {sentence}")
if info.report.fields:
    with st.expander(f"Which source field became which model column ({len(info.report.fields)})"):
        table(pd.DataFrame(list(info.report.fields.items()), columns=["source field", "model column"]))

if info.notes:
    st.subheader("How the source was read")
    for note in info.notes:
        st.text(f"• {note}")

preview = st.selectbox("Preview a model table", list(TABLES), key="data_preview")
table(ctx.shown(queries.filtered_rows(store, preview, ctx.filters, limit=200)))
downloads(preview, lambda: queries.filtered_rows(store, preview, ctx.filters))
