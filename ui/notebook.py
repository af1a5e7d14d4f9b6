"""The Explore page's notebook: which one is open, its toolbar, its cells and the schema panel.

The open notebook is the one in the URL (``?notebook=<id>``), else the one this session had
open, else the most recently changed, else a new starter notebook: a link opens the same
notebook on the same server, and reopening the app brings the last one back.
"""

from __future__ import annotations

import re

import streamlit as st

from data_layer.errors import AgentwatchError
from data_layer.notebook import document
from data_layer.notebook.document import Notebook
from data_layer.notebook.starter import starter
from data_layer.notebook.state import NotebookStore
from ui import notebook_cell, notebook_schema
from ui import notebook_edit as edit
from ui.context import PageContext
from ui.filters import describe
from ui.markdown import md
from ui.messages import nothing_to_show
from ui.notebook_run import dialect_note, forget, state


def render(ctx: PageContext) -> None:
    store = state()
    nb = _current(store)
    _toolbar(store, nb)
    scope = describe(ctx.filters)
    st.caption(
        f":material/filter_alt: Every table a cell reads is already narrowed by the global filters ({scope}"
        f"{', plus the sidebar lists' if _lists_set(ctx) else ''}); a cell can ignore them."
        f" {dialect_note(ctx)}"
    )
    counts = ctx.store.row_counts()
    if not any(counts.values()):
        nothing_to_show("telemetry to query yet", "Open a source with LLM calls, events or alerts.")
    main, side = st.columns([3, 1], gap="medium")
    with side:
        notebook_schema.render(ctx, nb.id)
    with main:
        pinned = {p.cell_id for p in store.pins() if p.notebook_id == nb.id}
        focused = st.query_params.get(edit.CELL_PARAM)
        for number, cell in enumerate(nb.cells, start=1):
            notebook_cell.render(ctx, nb, cell, number, pinned=cell.id in pinned, focused=cell.id == focused)
        last = nb.cells[-1].id if nb.cells else None
        row = st.container(horizontal=True)
        row.button(
            "SQL cell",
            icon=":material/add:",
            key="add-sql",
            on_click=edit.add_cell,
            args=(nb.id, "sql"),
            kwargs={"after": last},
        )
        row.button("Note", icon=":material/add:", key="add-note", on_click=edit.add_cell,
                   args=(nb.id, "markdown"), kwargs={"after": last})  # fmt: skip


def _lists_set(ctx: PageContext) -> bool:
    f = ctx.filters
    return any((f.agents, f.models, f.sessions, f.tools, f.severities, f.event_types))


def _current(store: NotebookStore) -> Notebook:
    wanted = st.query_params.get(edit.NOTEBOOK_PARAM)
    nb = store.get(wanted) if wanted else None
    if wanted and nb is None:
        st.warning(
            "No notebook with that id on this server; opened the latest one instead.",
            icon=":material/link_off:",
        )
    if nb is None and st.session_state.get(edit.CURRENT_KEY):
        nb = store.get(st.session_state[edit.CURRENT_KEY])
    if nb is None:
        listed = store.list()
        nb = store.get(listed[0][0]) if listed else store.save(starter())
    st.session_state[edit.CURRENT_KEY] = nb.id
    if st.query_params.get(edit.NOTEBOOK_PARAM) != nb.id:
        st.query_params[edit.NOTEBOOK_PARAM] = nb.id
    return nb


def _toolbar(store: NotebookStore, nb: Notebook) -> None:
    listed = store.list()
    names = {notebook_id: name for notebook_id, name, _ in listed}
    st.session_state["notebook-pick"] = nb.id
    bar = st.container(horizontal=True, vertical_alignment="bottom")
    bar.selectbox(
        "Notebook",
        list(names),
        key="notebook-pick",
        format_func=lambda i: names.get(i, i),
        on_change=lambda: edit.open_notebook(st.session_state["notebook-pick"]),
        width=280,
    )
    with bar.popover("Notebooks", icon=":material/menu_book:"):
        st.button(
            "New empty notebook",
            icon=":material/note_add:",
            key="nb-new",
            on_click=edit.new_notebook,
            width="stretch",
        )
        st.button("New starter notebook", icon=":material/auto_awesome:", key="nb-starter",
                  on_click=edit.new_notebook, kwargs={"from_starter": True}, width="stretch")  # fmt: skip
        st.session_state["notebook-name"] = nb.name
        st.text_input("Name", key="notebook-name", on_change=edit.rename, args=(nb.id,), max_chars=120)
        sure = st.checkbox("Yes, delete this notebook", key="nb-delete-sure")
        st.button(
            "Delete notebook", icon=":material/delete:", key="nb-delete", disabled=not sure,
            on_click=edit.delete, args=(nb.id,), width="stretch",
        )  # fmt: skip
    bar.download_button(
        "Download",
        data=document.to_file(nb),
        file_name=f"{_slug(nb.name)}.agentwatch.json",
        mime="application/json",
        icon=":material/download:",
        on_click="ignore",
        key="nb-download",
        help="The notebook as a file (JSON), to keep or share; open it again with 'Open a file'.",
    )
    with bar.popover("Open a file", icon=":material/upload_file:"):
        st.file_uploader(
            "A notebook downloaded from Agentwatch", type=["json"], key="nb-upload", on_change=_open_upload
        )
    bar.button("Run all", icon=":material/fast_forward:", key="nb-run-all", on_click=forget, type="primary")
    message = st.session_state.pop(edit.MESSAGE_KEY, None)
    if message:
        kind, text = message
        (st.error if kind == "error" else st.info)(text, icon=":material/info:")


def _open_upload() -> None:
    uploaded = st.session_state.get("nb-upload")
    if uploaded is None:
        return
    try:
        opened = document.from_file(uploaded.getvalue())
    except AgentwatchError as err:
        st.session_state[edit.MESSAGE_KEY] = ("error", str(err))
        return
    saved = state().save(opened)
    edit.open_notebook(saved.id)
    st.session_state[edit.MESSAGE_KEY] = ("info", f"Opened {md(saved.name)} ({len(saved.cells)} cells).")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "notebook"
