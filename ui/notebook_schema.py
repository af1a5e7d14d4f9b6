"""The schema panel: every model table, column, type and meaning, from ``data_layer.model``,
and example queries a user can insert as a new cell.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_layer import model
from data_layer.notebook.starter import EXAMPLES
from ui import notebook_edit as edit
from ui.context import PageContext

_TYPES = {"text": "text", "time": "timestamp (UTC)", "int": "integer", "float": "double", "bool": "boolean",
          "text_list": "list of text"}  # fmt: skip


def render(ctx: PageContext, notebook_id: str) -> None:
    st.subheader("Schema")
    st.caption("The telemetry model's tables. Cells read these names; nothing else is visible to them.")
    counts = ctx.store.row_counts()
    for table, columns in model.TABLES.items():
        with st.expander(f"{table} · {counts.get(table, 0):,} rows", icon=":material/table:"):
            st.dataframe(
                pd.DataFrame(
                    {
                        "column": [c.name for c in columns],
                        "type": [_TYPES[c.kind] for c in columns],
                        "meaning": [c.doc for c in columns],
                    }
                ),
                hide_index=True,
                key=f"schema-{table}",
            )
    st.subheader("Examples")
    choice = st.selectbox("Example query", list(EXAMPLES), key="example-pick")
    st.code(EXAMPLES[choice], language="sql", wrap_lines=True)
    st.button(
        "Insert as a new cell",
        icon=":material/add:",
        key="example-insert",
        on_click=edit.add_cell,
        args=(notebook_id, "sql", EXAMPLES[choice]),
        kwargs={"title": choice},
        width="stretch",
    )
