"""Data: what was loaded from the source, how it was read, and what in it needs a second look."""

import pandas as pd
import streamlit as st

from data_layer import queries
from data_layer.model import TABLES
from ui import page
from ui.source import SYSTEM_TITLES

ctx = page.context()
store, info = ctx.store, ctx.store.info
st.title("Data")
st.caption("What Agentwatch read from the source, into which tables, and what it found along the way.")
if not any(ctx.has(t) for t in TABLES):
    page.nothing_to_show("telemetry", "It holds the tables of a known system, but no rows in them yet.")

start, end = store.time_span()
span = f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC" if start and end else "no timestamps"
with st.container(border=True):
    st.markdown(
        f"**Source** {page.md(info.label)}  \n"
        f"**Recognised as** {page.md(', '.join(SYSTEM_TITLES.get(s, s) for s in info.system.split('+')))}  \n"
        f"**Time span** {span}  \n"
        f"**Loaded in** {info.load_seconds or 0:.2f} s"
    )

left, right = st.columns(2)
with left:
    st.subheader("Source tables")
    if info.source_tables:
        page.table(pd.DataFrame(list(info.source_tables.items()), columns=["table", "rows"]))
    else:
        st.caption("The source is a file, not tables.")
with right:
    st.subheader("Telemetry model")
    counts = store.row_counts()
    model_rows = pd.DataFrame(
        [(t, counts[t], "yes" if t in info.provided else "no data in this source") for t in TABLES],
        columns=["table", "rows", "from source"],
    )
    page.table(model_rows)

st.subheader("Data quality")
quality = store.data_quality()
page.table(quality)

if info.notes:
    st.subheader("How the source was read")
    for note in info.notes:
        st.text(f"• {note}")

table = st.selectbox("Preview a model table", list(TABLES), key="data_preview")
page.table(ctx.shown(queries.filtered_rows(store, table, ctx.filters, limit=200)))
page.downloads(table, lambda: queries.filtered_rows(store, table, ctx.filters))
