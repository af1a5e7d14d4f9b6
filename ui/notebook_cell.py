"""One notebook cell on the Explore page: its editor, its buttons, its result as a chart and a table."""

from __future__ import annotations

import streamlit as st

from data_layer.notebook import charting
from data_layer.notebook.document import CHART_KINDS, Cell, Notebook
from data_layer.notebook.runner import CellResult
from ui import notebook_edit as edit
from ui.chart_clicks import chart
from ui.context import PageContext
from ui.markdown import md
from ui.notebook_chart import figure
from ui.notebook_run import csv_of, result, title_of
from ui.tables import table

_KIND_LABELS = {
    "bar": "Bar",
    "line": "Line",
    "area": "Area",
    "scatter": "Scatter",
    "histogram": "Histogram",
    "none": "No chart",
}


def render(ctx: PageContext, nb: Notebook, cell: Cell, number: int, *, pinned: bool, focused: bool) -> None:
    with st.container(border=True, key=f"cell-{cell.id}"):
        if focused:
            st.caption(":material/push_pin: The cell this Dashboard chart comes from.")
        if cell.kind == "markdown":
            _markdown(nb, cell, number)
        else:
            _sql(ctx, nb, cell, number, pinned=pinned)


def _buttons(nb: Notebook, cell: Cell, number: int) -> None:
    """Move, duplicate, delete: the same row for both kinds of cell."""
    row = st.container(horizontal=True, gap="small")
    last = number == len(nb.cells)
    row.button(
        "",
        icon=":material/arrow_upward:",
        key=f"up-{cell.id}",
        help="Move up",
        type="tertiary",
        disabled=number == 1,
        on_click=edit.change,
        args=(nb.id, lambda n: n.moved(cell.id, -1)),
    )
    row.button(
        "",
        icon=":material/arrow_downward:",
        key=f"down-{cell.id}",
        help="Move down",
        type="tertiary",
        disabled=last,
        on_click=edit.change,
        args=(nb.id, lambda n: n.moved(cell.id, +1)),
    )
    row.button(
        "",
        icon=":material/content_copy:",
        key=f"dup-{cell.id}",
        help="Duplicate",
        type="tertiary",
        on_click=edit.change,
        args=(nb.id, lambda n: n.duplicated(cell.id)),
    )
    row.button("", icon=":material/delete:", key=f"del-{cell.id}", help="Delete this cell", type="tertiary",
               on_click=edit.change, args=(nb.id, lambda n: n.without(cell.id)))  # fmt: skip


def _markdown(nb: Notebook, cell: Cell, number: int) -> None:
    top = st.container(horizontal=True, vertical_alignment="center")
    editing = top.toggle("Edit note", key=f"editing-{cell.id}")
    with top:
        _buttons(nb, cell, number)
    if editing:
        key = f"md-{cell.id}"
        st.session_state.setdefault(key, cell.source)
        st.text_area(
            "Note (Markdown)",
            key=key,
            height=120,
            on_change=edit.commit_source,
            args=(nb.id, cell.id, key),
        )
    st.markdown(cell.source or "_An empty note. Turn on **Edit note** to write it._")


def _sql(ctx: PageContext, nb: Notebook, cell: Cell, number: int, *, pinned: bool) -> None:
    key = f"sql-{cell.id}"
    st.session_state.setdefault(key, cell.source)
    top = st.container(horizontal=True, vertical_alignment="center")
    top.markdown(f"**{md(title_of(cell, number))}**")
    with top:
        _buttons(nb, cell, number)
    lines = max(3, min(16, cell.source.count("\n") + 2))
    st.text_area(
        f"SQL of cell {number}",
        key=key,
        height=lines * 22 + 20,
        on_change=edit.commit_source,
        args=(nb.id, cell.id, key),
        label_visibility="collapsed",
        placeholder="select agent, count(*) as calls from llm_calls group by agent",
        help="Ctrl+Enter (⌘+Enter) runs the cell.",
    )
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(
        "Run", icon=":material/play_arrow:", key=f"run-{cell.id}", type="primary",
        on_click=edit.commit_source, args=(nb.id, cell.id, key), kwargs={"run": True},
        help="Run this cell (or press Ctrl+Enter in it)",
    )  # fmt: skip
    st.session_state[f"unfiltered-{cell.id}"] = cell.unfiltered
    row.toggle(
        "Ignore the global filters",
        key=f"unfiltered-{cell.id}",
        on_change=edit.commit_unfiltered,
        args=(nb.id, cell.id),
        help="Read every row of the model's tables instead of what the sidebar's filters select.",
    )
    row.button(
        "Unpin" if pinned else "Pin to Dashboard",
        icon=":material/keep_off:" if pinned else ":material/keep:",
        key=f"pin-{cell.id}",
        on_click=edit.toggle_pin,
        args=(nb.id, cell.id),
        help="Show this cell's chart on the Dashboard, rerun there with the global filters.",
    )
    if not cell.source.strip():
        st.caption("Write a query over the model's tables and press Ctrl+Enter.")
        return
    outcome = result(ctx, cell)
    if isinstance(outcome, str):
        st.error(outcome, icon=":material/error:")
        return
    _result(ctx, nb, cell, number, outcome)


def _result(ctx: PageContext, nb: Notebook, cell: Cell, number: int, outcome: CellResult) -> None:
    frame = outcome.frame
    scope = "every row (filters ignored)" if cell.unfiltered else "rows the global filters select"
    summary = f"{outcome.total_rows:,} rows · {outcome.seconds:.2f} s · over {scope}"
    if outcome.rows_left_out:
        summary += (
            f" · the first {len(frame):,} are shown and charted, {outcome.rows_left_out:,} left out;"
            " the download has all of them"
        )
    st.caption(summary)
    if frame.empty:
        st.info("The query returned no rows.", icon=":material/filter_alt_off:")
        return
    spec = _chart_controls(nb, cell, frame)
    fig = figure(frame, spec, ctx.palettes, title_of(cell, number))
    if fig is not None:
        chart(fig, f"chart-{cell.id}")
    table(ctx.shown(frame), height=min(38 + 35 * len(frame), 300), key=f"table-{cell.id}")
    st.download_button(
        "Download CSV",
        data=lambda: csv_of(ctx, cell),
        file_name=f"agentwatch-cell-{cell.id}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=f"csv-{cell.id}",
    )


def _chart_controls(nb: Notebook, cell: Cell, frame) -> charting.ChartSpec:
    """Type, x, y and colour, picked from the result's types and changeable; the choice is saved."""
    spec = charting.resolve(cell.chart, frame)
    kinds = charting.column_kinds(frame)
    columns = list(frame.columns)
    numbers = [c for c in columns if kinds[c] == "number"]
    texts = [c for c in columns if kinds[c] == "text"]
    values = {"kind": spec.kind, "x": spec.x, "y": spec.y, "color": spec.color}
    options = {
        "kind": list(CHART_KINDS),
        "x": [None, *columns],
        "y": [None, *numbers],
        "color": [None, *texts],
    }
    for field, value in values.items():
        st.session_state[f"chart-{field}-{cell.id}"] = value if value in options[field] else None
    with st.popover("Chart", icon=":material/bar_chart:"):
        labels = {"kind": "Chart type", "x": "X axis", "y": "Y axis", "color": "Colour by"}
        for field, label in labels.items():
            st.selectbox(
                label,
                options[field],
                key=f"chart-{field}-{cell.id}",
                format_func=(lambda v: _KIND_LABELS.get(v, v)) if field == "kind" else (lambda v: v or "—"),
                on_change=edit.commit_chart,
                args=(nb.id, cell.id),
            )
    return spec
