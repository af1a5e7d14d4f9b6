"""Widget callbacks that change a notebook: each reads the saved notebook, changes it, saves it.

Reading the saved copy (not the one the run drew) means two tabs editing different cells of one
notebook do not undo each other's changes. Callbacks run before the rerun, so the rerun draws the
notebook as saved. The notebook's id lives in the URL (``?notebook=<id>``), never its SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from data_layer.notebook.document import Cell, ChartSpec, Notebook, new_id
from data_layer.notebook.starter import starter
from ui.notebook_run import forget, state

NOTEBOOK_PARAM = "notebook"
CELL_PARAM = "cell"
CURRENT_KEY = "notebook_id"
MESSAGE_KEY = "notebook_message"


def open_notebook(notebook_id: str) -> None:
    st.session_state[CURRENT_KEY] = notebook_id
    st.query_params[NOTEBOOK_PARAM] = notebook_id
    st.query_params.pop(CELL_PARAM, None)


def change(notebook_id: str, how: Callable[[Notebook], Notebook]) -> None:
    notebook = state().get(notebook_id)
    if notebook is not None:
        state().save(how(notebook))


def change_cell(notebook_id: str, cell_id: str, **fields: object) -> None:
    def apply(nb: Notebook) -> Notebook:
        cell = nb.cell(cell_id)
        return nb if cell is None else nb.replaced(replace(cell, **fields))

    change(notebook_id, apply)


def commit_source(notebook_id: str, cell_id: str, key: str, *, run: bool = False) -> None:
    """Save what the editor holds (Ctrl+Enter or leaving the box commits it); with ``run`` (the
    Run button) the cell runs again even if its text is unchanged.
    """
    change_cell(notebook_id, cell_id, source=str(st.session_state.get(key) or ""))
    if run:
        forget(cell_id)


def commit_chart(notebook_id: str, cell_id: str) -> None:
    get = st.session_state.get
    spec = ChartSpec(
        kind=get(f"chart-kind-{cell_id}") or "bar",
        x=get(f"chart-x-{cell_id}"),
        y=get(f"chart-y-{cell_id}"),
        color=get(f"chart-color-{cell_id}"),
    )
    change_cell(notebook_id, cell_id, chart=spec)


def commit_unfiltered(notebook_id: str, cell_id: str) -> None:
    change_cell(notebook_id, cell_id, unfiltered=bool(st.session_state.get(f"unfiltered-{cell_id}")))


def add_cell(
    notebook_id: str, kind: str, source: str = "", after: str | None = None, title: str = ""
) -> None:
    cell = Cell(kind=kind, source=source, title=title)
    change(notebook_id, lambda nb: nb.added(cell, after))
    if kind == "markdown" and not source:
        st.session_state[f"editing-{cell.id}"] = True


def new_notebook(from_starter: bool = False) -> None:
    fresh = (
        starter()
        if from_starter
        else Notebook(name="Untitled notebook", cells=(Cell(kind="sql", source=""),))
    )
    saved = state().save(replace(fresh, id=new_id()))
    open_notebook(saved.id)


def rename(notebook_id: str) -> None:
    name = str(st.session_state.get("notebook-name") or "").strip()
    if name:
        state().rename(notebook_id, name[:120])


def delete(notebook_id: str) -> None:
    state().delete(notebook_id)
    st.session_state.pop(CURRENT_KEY, None)
    st.query_params.pop(NOTEBOOK_PARAM, None)
    st.session_state[MESSAGE_KEY] = ("info", "Notebook deleted.")


def toggle_pin(notebook_id: str, cell_id: str) -> None:
    if state().is_pinned(notebook_id, cell_id):
        state().unpin(notebook_id, cell_id)
    else:
        state().pin(notebook_id, cell_id)
