"""Running notebook cells for a page, and what Explore and the Dashboard share about notebooks.

A cell's result is kept in the session under the key (backend, filters, SQL): a rerun that
changes nothing shows it again without running; a filter change, an edit or **Run** runs it
again. Only ``AgentwatchError`` (refused, failed, timed out) becomes the cell's one line.
"""

from __future__ import annotations

import streamlit as st

from data_layer.errors import AgentwatchError
from data_layer.filters import ALL, Filters
from data_layer.notebook.document import Cell, Notebook
from data_layer.notebook.pushdown import cells_for
from data_layer.notebook.runner import CellResult
from data_layer.notebook.state import NotebookStore, home
from ui.context import PageContext

RESULTS_KEY = "notebook_results"


@st.cache_resource(show_spinner=False)
def _state(directory: str) -> NotebookStore:
    from pathlib import Path

    return NotebookStore(Path(directory))


def state() -> NotebookStore:
    """Agentwatch's state database (notebooks and pins), opened once per data directory."""
    return _state(str(home()))


def filters_for(ctx: PageContext, cell: Cell) -> Filters:
    return ALL if cell.unfiltered else ctx.filters


def result(ctx: PageContext, cell: Cell, *, force: bool = False) -> CellResult | str:
    """The cell's result, or the one line saying why there is none. Runs only when needed."""
    f = filters_for(ctx, cell)
    key = (id(ctx.store), f, cell.source)
    kept: dict = st.session_state.setdefault(RESULTS_KEY, {})
    found = kept.get(cell.id)
    if found is not None and found[0] == key and not force:
        return found[1]
    try:
        outcome: CellResult | str = cells_for(ctx.store).run(cell.source, f)
    except AgentwatchError as err:
        outcome = str(err)
    kept[cell.id] = (key, outcome)
    return outcome


def forget(*cell_ids: str) -> None:
    """Drop kept results so these cells run again on the next rerun (Run, Run all)."""
    kept: dict = st.session_state.setdefault(RESULTS_KEY, {})
    for cell_id in cell_ids or list(kept):
        kept.pop(cell_id, None)


def csv_of(ctx: PageContext, cell: Cell) -> bytes:
    """Every row of the cell's result as CSV, run again when the download is clicked."""
    from ui.downloads import to_csv

    try:
        frame = cells_for(ctx.store).all_rows(cell.source, filters_for(ctx, cell))
    except AgentwatchError as err:
        return f"error\r\n{str(err)!r}\r\n".encode()
    return to_csv(ctx.shown(frame))


def title_of(cell: Cell, number: int) -> str:
    """The cell's title: its own, else its first SQL comment, else 'Cell n'."""
    if cell.title:
        return cell.title
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    if first.startswith("--"):
        return first.lstrip("-").strip()[:100]
    return f"Cell {number}"


def dialect_note(ctx: PageContext) -> str:
    if cells_for(ctx.store).dialect == "postgresql":
        return (
            "Cells run **inside the PostgreSQL source** (queries are pushed down): write PostgreSQL SQL,"
            " e.g. `percentile_cont(0.95) within group (order by latency_ms)`; read-only, one statement."
        )
    return (
        "Cells are **DuckDB SQL** (e.g. `quantile_cont(latency_ms, 0.95)`, `date_trunc('day', ts)`,"
        " `group by all`); times are UTC. One query per cell; nothing a cell runs can change the data."
    )


def save(notebook: Notebook) -> Notebook:
    return state().save(notebook)
