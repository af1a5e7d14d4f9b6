"""Agentwatch: the entrypoint. Navigation, the data source, and the filters every page shares.

Run with ``scripts/run.sh`` (or ``streamlit run app.py -- --source SOURCE``).

The sidebar's file uploader is rendered by the page (``ui.context.context``) into a slot made here:
in Streamlit 1.67 an uploader created by the entrypoint of an app with a ``pages/`` folder
receives the file but the rerun never sees it (found in Chromium; AppTest cannot see it).
"""

from __future__ import annotations

import streamlit as st

from data_layer.errors import AgentwatchError
from data_layer.sources.registry import titles_of
from ui import filters, freshness, run_marker, source
from ui.context import CONTEXT_KEY, PageContext
from ui.markdown import md
from ui.pages_list import PAGE_ICONS, PAGES
from ui.palette import palette_for

st.set_page_config(page_title="Agentwatch", page_icon=":material/monitoring:", layout="wide")

navigation = st.navigation(
    [
        st.Page(f"pages/{name}.py", title=name.capitalize(), icon=icon, default=name == PAGES[0])
        for name, icon in PAGE_ICONS.items()
    ]
)


def _load():
    """This session's store: its chosen source, else the last one that loaded, else the default,
    else the demo. A source that fails to load is reported once and never replaces a working one.
    """
    chosen = source.current_choice()
    candidates = [chosen, st.session_state.get("last_good"), source.default_choice(), source.demo_choice()]
    note = st.empty()

    def progress(message: str, _fraction: float | None) -> None:
        note.caption(f":material/hourglass_top: {message}…")

    for candidate in dict.fromkeys(c for c in candidates if c is not None):
        try:
            with st.spinner(f"Loading {candidate.label}…"):
                entry = source.load(candidate, progress)
        except AgentwatchError as err:
            st.error(md(err), icon=":material/error:")
            continue
        finally:
            note.empty()
        if candidate != chosen:
            source.choose(candidate if candidate.origin in ("upload", "sidebar") else None)
        st.session_state["last_good"] = candidate
        return candidate, entry
    st.stop()


def _sidebar_source(choice, entry) -> None:
    info = entry.store.info
    start, end = entry.store.time_span()
    systems = " + ".join(titles_of(info.system))
    counts = entry.store.row_counts()
    span = f"{start:%b %d, %Y} – {end:%b %d, %Y}" if start and end else "no timestamps"
    with st.sidebar:
        st.markdown(f"**{md(choice.label)}**")
        st.caption(f"{systems} · {counts['llm_calls']:,} LLM calls · {counts['events']:,} events · {span}")
        freshness.show(choice, entry)
        with st.expander("Change source", icon=":material/swap_horiz:", key="change_source"):
            st.text_input(
                "SQLite path or database URL",
                key="typed_source",
                placeholder="postgresql://user@host/db",
                on_change=lambda: source.choose_typed(st.session_state["typed_source"]),
                help="Opened read-only. A password in the URL is never shown.",
            )
            st.session_state["uploader_slot"] = st.container()
            if choice.can_push_down:
                st.toggle(
                    "Query in the database",
                    value=choice.pushdown,
                    key="pushdown",
                    on_change=lambda: source.choose(choice.with_pushdown(st.session_state["pushdown"])),
                    help="Run every query inside PostgreSQL and fetch only aggregates, instead of loading"
                    " the data here. On by default above AGENTWATCH_PUSHDOWN_ROWS rows.",
                )
            if choice.can_change:
                st.toggle(
                    "Live updates",
                    value=True,
                    key=freshness.LIVE_KEY,
                    help=f"Redraw the page by itself when the source has new rows (checked every"
                    f" {source.refresh_period():g} s). Off: the page changes only when you act.",
                )
            left, right = st.columns(2)
            default = source.default_choice()
            back = "Use demo" if default.origin == "demo" else "Default source"
            if choice != default and left.button(back, width="stretch", help=f"Open {md(default.label)}"):
                source.choose(None)
                st.rerun()
            # A callback, not `if button: ...; st.rerun()`: the click is acted on before the run it
            # starts, so a rerun that overtakes that run cannot lose it.
            right.button(
                "Reload", width="stretch", help="Read the source again", on_click=source.reload, args=[choice]
            )
        if st.session_state.get("source_error"):
            st.error(md(st.session_state.pop("source_error")), icon=":material/error:")


choice, entry = _load()
_sidebar_source(choice, entry)
store = entry.store
options = store.filter_options()
with st.sidebar:
    st.divider()
selected = filters.render(store, options)
mask = st.sidebar.toggle(
    "Mask personal data",
    value=True,
    key="mask",
    help="Hide e-mail addresses, phone and card numbers and API keys in prompts, responses and messages.",
)
st.session_state[CONTEXT_KEY] = PageContext(
    store=store,
    filters=selected,
    options=options,
    palettes={"agent": palette_for(options["agents"]), "model": palette_for(options["models"])},
    mask=mask,
)
run_marker.started(navigation.title, choice.label)
try:
    navigation.run()
except AgentwatchError as err:  # a source that fails mid-page (pushed-down queries, a lost server)
    st.error(md(err), icon=":material/error:")
run_marker.finished()
