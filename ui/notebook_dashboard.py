"""The Dashboard: the charts pinned from notebook cells, in a grid, each rerun with the global filters.

A pin names a notebook and a cell, never a copy of its SQL: edit the cell and the Dashboard
shows the edit. Each chart links back to its cell on the Explore page.
"""

from __future__ import annotations

import streamlit as st

from data_layer.notebook import charting
from data_layer.notebook.state import cell_of
from ui.chart_clicks import chart
from ui.context import PageContext
from ui.filters import describe
from ui.markdown import md
from ui.messages import nothing_to_show
from ui.notebook_chart import figure
from ui.notebook_edit import CELL_PARAM, NOTEBOOK_PARAM
from ui.notebook_run import dialect_note, result, state, title_of
from ui.tables import table

COLUMNS = 2


def render(ctx: PageContext) -> None:
    store = state()
    pins = store.pins()
    st.caption(
        f"Charts pinned from notebook cells on the Explore page, each rerun with the global filters"
        f" ({describe(ctx.filters)}) unless its cell ignores them."
    )
    counts = ctx.store.row_counts()
    if not any(counts.values()):
        nothing_to_show("telemetry to chart yet", "Open a source with LLM calls, events or alerts.")
    if not pins:
        st.info(
            "Nothing is pinned yet. On the Explore page, run a cell and press **Pin to Dashboard** under it.",
            icon=":material/keep:",
        )
        st.page_link("pages/explore.py", label="Open Explore", icon=":material/science:")
        return
    found = [(pin, cell_of(store, pin)) for pin in pins]
    gone = [pin for pin, where in found if where is None]
    for row_start in range(0, len(found), COLUMNS):
        columns = st.columns(COLUMNS)
        for column, (pin, where) in zip(columns, found[row_start : row_start + COLUMNS], strict=False):
            if where is None:
                continue
            notebook, cell = where
            number = [c.id for c in notebook.cells].index(cell.id) + 1
            with column, st.container(border=True, key=f"tile-{pin.id}"):
                _tile(ctx, notebook, cell, number)
    if gone:
        st.caption(f"{len(gone)} pinned chart(s) point at a notebook or cell that was deleted.")
    st.caption(dialect_note(ctx))


def _tile(ctx: PageContext, notebook, cell, number: int) -> None:
    # The title above the chart, not in it: a tile is half as wide, and Plotly cuts long titles.
    st.markdown(f"**{md(title_of(cell, number))}**")
    outcome = result(ctx, cell)
    if isinstance(outcome, str):
        st.error(outcome, icon=":material/error:")
    elif outcome.frame.empty:
        st.info("No rows for these filters.", icon=":material/filter_alt_off:")
    else:
        spec = charting.resolve(cell.chart, outcome.frame)
        fig = figure(outcome.frame, spec, ctx.palettes, "", height=360)
        if fig is None:
            table(ctx.shown(outcome.frame), height=260, key=f"pin-table-{cell.id}")
        else:
            fig.update_layout(margin={"t": 10})
            chart(fig, f"pin-chart-{cell.id}")
    scope = "every row (filters ignored)" if cell.unfiltered else "the global filters"
    st.page_link(
        "pages/explore.py",
        label=f"{md(notebook.name)} › cell {number} · over {scope}",
        icon=":material/open_in_new:",
        query_params={NOTEBOOK_PARAM: notebook.id, CELL_PARAM: cell.id},
    )
    st.button(
        "Unpin", icon=":material/keep_off:", key=f"unpin-{cell.id}", type="tertiary",
        on_click=store_unpin, args=(notebook.id, cell.id),
    )  # fmt: skip


def store_unpin(notebook_id: str, cell_id: str) -> None:
    state().unpin(notebook_id, cell_id)
